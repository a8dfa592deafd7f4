"""Load tensors from PyTorch checkpoints -- including legacy PyTorch 0.x files -- without running their code.

A ``.pth`` file is a pickle, and unpickling can call any Python function the file names (``os.system`` ...).
Released weights such as FashionGAN's ``rnn_latest.pth`` (PyTorch 0.x, the pre-zip "legacy" format, pickle
protocol magic 1001) are untrusted input.
[`load_legacy_state_dict`][condgan.text.legacy.load_legacy_state_dict] reads both the legacy and the zip
format with ``torch.load(..., weights_only=True)``, whose restricted unpickler accepts only tensors, storages
and plain containers and refuses every other global *before* calling it. No custom unpickler is needed:
torch's weights-only loader handles the legacy format too. ``.safetensors`` files are read with safetensors.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import torch

__all__ = ["CheckpointError", "UnsafeCheckpointError", "load_legacy_state_dict"]


class CheckpointError(ValueError):
    """A checkpoint file cannot be read: truncated, corrupt, not a checkpoint, or holding no tensors."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint's pickle asks to import or call Python objects beyond tensors; nothing of it was run."""


_STATE_DICT_WRAPPERS = ("state_dict", "model", "model_state_dict", "net")


def _tensors_of(obj: object) -> dict[str, torch.Tensor]:
    if not isinstance(obj, Mapping):
        return {}
    return {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}


def load_legacy_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a state dict from a legacy (PyTorch 0.x), zip (PyTorch >= 1.6) or safetensors file, safely.

    The file is opened with ``torch.load(path, map_location="cpu", weights_only=True)``, which never executes
    code from the file. The result must be a mapping holding tensors; if the top level holds none, a nested
    ``state_dict``/``model``/``model_state_dict``/``net`` mapping is used. Non-tensor entries are dropped.

    Args:
        path: the checkpoint file.

    Returns:
        ``{name: tensor}`` on the CPU, in the file's order.

    Raises:
        FileNotFoundError: ``path`` does not exist or is not a file.
        UnsafeCheckpointError: the pickle references Python objects a weights-only load refuses (e.g. a
            ``__reduce__`` calling ``os.system``); they were not imported or called.
        CheckpointError: the file is empty, truncated, corrupt or not a checkpoint, or holds no tensors.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = f"{tmp}/old.pth"
        ...     torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=False)  # legacy format
        ...     load_legacy_state_dict(path)
        {'w': tensor([1., 1.])}
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file not found (or not a file): {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: could not read the checkpoint: the file is empty")

    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            obj: object = load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as err:
            raise CheckpointError(
                f"{path}: could not read the safetensors file (truncated or corrupt?): {err}"
            ) from err
    else:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as err:
            detail = _refusal_detail(str(err))
            if detail is not None:
                raise UnsafeCheckpointError(
                    f"{path}: refused to load: the file's pickle asks for Python objects other than tensors "
                    f"({detail}); nothing from it was imported or run. Load it unrestricted only if you "
                    f"trust its source."
                ) from err
            reason = _first_specific_line(str(err))
            raise CheckpointError(
                f"{path}: could not read the checkpoint (corrupt or not a checkpoint?): {reason}"
            ) from err
        except Exception as err:  # torch raises EOFError, RuntimeError, KeyError, IndexError ... on bad bytes
            reason = str(err) or "unexpected end of file"
            kind = type(err).__name__
            raise CheckpointError(
                f"{path}: could not read the checkpoint (truncated or corrupt?): {kind}: {reason}"
            ) from err

    tensors = _tensors_of(obj)
    if not tensors and isinstance(obj, Mapping):
        for key in _STATE_DICT_WRAPPERS:
            tensors = _tensors_of(obj.get(key))
            if tensors:
                break
    if not tensors:
        what = f"a {type(obj).__name__}"
        if isinstance(obj, Mapping):
            what += f" with keys {list(obj)[:8]}"
        raise CheckpointError(f"{path}: expected a state dict of tensors, got {what} holding no tensors")
    return tensors


def _specific_lines(message: str) -> list[str]:
    # torch's weights-only error wraps the specific reason in generic advice that mentions `weights_only`.
    return [line.strip() for line in message.splitlines() if line.strip() and "weights_only" not in line]


def _first_specific_line(message: str) -> str:
    lines = _specific_lines(message)
    return lines[0] if lines else message.strip() or "unreadable pickle"


def _refusal_detail(message: str) -> str | None:
    """The refused global named in a weights-only error, or None when the refusal is about something else.

    torch words it "Unsupported global: GLOBAL posix.system" or "Trying to load unsupported GLOBAL
    posix.system whose module posix is blocked"; bad bytes give e.g. "Unsupported operand 105" instead.
    """
    for line in _specific_lines(message):
        if re.search(r"\bglobal\b", line, flags=re.IGNORECASE):
            return line.rstrip(".")
    return None

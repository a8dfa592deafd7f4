"""Checkpoints that resume for real: nothing is lost, nothing unsafe is loaded.

A checkpoint is a folder ``<directory>/step-00001000/`` holding

- ``<name>.safetensors``: each module's ``state_dict`` (DDP / ``torch.compile`` wrappers are unwrapped, so a
  checkpoint written by 4 processes loads into 1 and back);
- ``<name>.optimizer.safetensors`` + ``<name>.optimizer.json``: each optimizer's tensors, and the rest of its
  ``state_dict`` (param groups, hyper-parameters) as JSON;
- ``<name>.scaler.json``: each ``torch.amp.GradScaler`` state;
- ``rng.safetensors``: the torch CPU (and CUDA) generator states as tensors, Python's ``random`` and NumPy's
  global states as JSON in the file's metadata;
- ``meta.json`` (written last): step, config, extra state, format version, torch version and the sha256 and
  size of every other file.

Writing is atomic: everything goes to a temporary sibling folder, every file and the folder are fsynced, the
folder is renamed into place with ``os.replace``, and only then is the ``latest`` pointer file replaced (again
write-temporary-then-rename) and older checkpoints pruned. A crash or a full disk at any moment leaves the
previous checkpoint complete and ``latest`` pointing at it. Loading verifies every hash, reports missing,
unexpected and mis-shaped keys in one message, and never unpickles anything (safetensors + JSON only).
Only one process (in DDP: the main rank) should write to a given directory.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import random
import re
import secrets
import shutil
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch
from torch import nn

import condgan
from condgan.train.distributed import unwrap_model
from condgan.train.faults import NonFiniteError, first_nonfinite_tensor

__all__ = [
    "CheckpointError",
    "CheckpointInfo",
    "save_checkpoint",
    "load_checkpoint",
    "latest_checkpoint",
    "list_checkpoints",
    "read_checkpoint_meta",
    "checkpoint_step",
    "FORMAT_VERSION",
]

FORMAT = "condgan-checkpoint"
FORMAT_VERSION = 1
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_STEP_RE = re.compile(r"^step-(\d{8,})$")
_RESERVED = frozenset({"rng", "meta", "latest"})
_MAX_LISTED = 20


class CheckpointError(RuntimeError):
    """A checkpoint could not be written or read (I/O failure, corruption, or another configuration)."""


@dataclass(frozen=True)
class CheckpointInfo:
    """What [`load_checkpoint`][condgan.train.checkpoint.load_checkpoint] restored.

    Attributes:
        step: The training step the checkpoint was written at.
        config: The JSON config saved with it.
        extra_state: The JSON extra state saved with it (e.g. epoch, sampler position, best score).
        path: The step folder that was loaded.
        missing: With ``strict=False``: keys the modules expect but the checkpoint lacks (``"name.key"``).
        unexpected: With ``strict=False``: keys in the checkpoint the modules do not have.
        mismatched: With ``strict=False``: shape mismatches and optimizers that were skipped.
    """

    step: int
    config: dict[str, Any]
    extra_state: dict[str, Any]
    path: Path
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    mismatched: tuple[str, ...] = ()


# ----------------------------------------------------------------------------------------------------
# validation helpers


def _check_names(arg: str, mapping: object, kind: str) -> Mapping[str, Any]:
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{arg}: expected a mapping of names to {kind}, got {type(mapping).__name__}")
    for name in mapping:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ValueError(f"{arg}: expected names of letters, digits, '_' or '-', got {name!r}")
        if name in _RESERVED:
            raise ValueError(f"{arg}: the name {name!r} is reserved ({sorted(_RESERVED)}); choose another")
    return mapping


def _check_step(step: object) -> int:
    if isinstance(step, bool) or not isinstance(step, int):
        raise TypeError(f"step: expected an int >= 0, got {type(step).__name__} {step!r}")
    if step < 0:
        raise ValueError(f"step: expected an int >= 0, got {step}")
    return step


def _check_json(arg: str, value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{arg}: expected a JSON-serialisable mapping, got {type(value).__name__}")
    try:
        text = json.dumps(dict(value), allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{arg}: expected JSON-serialisable values (no NaN), got an error: {err}") from err
    return json.loads(text)


def _check_targets(
    modules: object, optimizers: object, scalers: object, *, check_scalers: bool
) -> tuple[Mapping[str, nn.Module], Mapping[str, torch.optim.Optimizer], Mapping[str, Any]]:
    """Check the names of all three mappings, then the types of the modules, optimizers (and scalers)."""
    modules = _check_names("modules", modules, "nn.Module")
    optimizers = _check_names("optimizers", {} if optimizers is None else optimizers, "optimizers")
    scalers = _check_names("scalers", {} if scalers is None else scalers, "GradScaler")
    for name, module in modules.items():
        if not isinstance(module, nn.Module):
            raise TypeError(f"modules[{name!r}]: expected an nn.Module, got {type(module).__name__}")
    for name, optimizer in optimizers.items():
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(
                f"optimizers[{name!r}]: expected a torch.optim.Optimizer, got {type(optimizer).__name__}"
            )
    if check_scalers:
        for name, scaler in scalers.items():
            if not (hasattr(scaler, "state_dict") and hasattr(scaler, "load_state_dict")):
                raise TypeError(
                    f"scalers[{name!r}]: expected a GradScaler (state_dict/load_state_dict), got {scaler!r}"
                )
    return modules, optimizers, scalers


def _check_keep_last(keep_last: object) -> None:
    if keep_last is not None:
        if isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 1:
            raise ValueError(f"keep_last: expected an int >= 1 or None, got {keep_last!r}")


def _check_map_location(map_location: object) -> torch.device:
    if not isinstance(map_location, (str, torch.device)):
        raise TypeError(f"map_location: expected a str or torch.device, got {type(map_location).__name__}")
    return torch.device(map_location)


# ----------------------------------------------------------------------------------------------------
# a lossless JSON + tensors encoding for optimizer / scaler / RNG states (no pickle)


def _encode(obj: Any, tensors: dict[str, torch.Tensor], where: str) -> Any:
    if isinstance(obj, torch.Tensor):
        key = f"t{len(tensors)}"
        tensors[key] = obj.detach().to("cpu", copy=True).contiguous()
        return {"__tensor__": key}
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": obj.tolist(), "dtype": str(obj.dtype)}
    if isinstance(obj, np.generic):
        return _encode(obj.item(), tensors, where)
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, tensors, f"{where}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, tensors, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, tensors, f"{where}.{k}") for k, v in obj.items()}
        return {
            "__items__": [
                [_encode(k, tensors, f"{where}<key>"), _encode(v, tensors, f"{where}[{k!r}]")]
                for k, v in obj.items()
            ]
        }
    raise TypeError(
        f"{where}: cannot be stored in a checkpoint without pickle; expected tensors, numbers, strings, "
        f"lists, tuples or dicts, got {type(obj).__name__}"
    )


def _decode(obj: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        return tensors[obj["__tensor__"]]
    if "__float__" in obj:
        return float(obj["__float__"])
    if "__ndarray__" in obj:
        return np.asarray(obj["__ndarray__"], dtype=obj["dtype"])
    if "__tuple__" in obj:
        return tuple(_decode(v, tensors) for v in obj["__tuple__"])
    if "__items__" in obj:
        return {_decode(k, tensors): _decode(v, tensors) for k, v in obj["__items__"]}
    return {k: _decode(v, tensors) for k, v in obj.items()}


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, allow_nan=False, indent=1, sort_keys=False) + "\n").encode("utf-8")


# ----------------------------------------------------------------------------------------------------
# durable file-system primitives


def _write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file with ``os.write`` and fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_replace_file(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        _write_file(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------------------------------
# payloads


def _module_payload(name: str, module: nn.Module) -> tuple[bytes, dict[str, torch.Tensor]]:
    state = unwrap_model(module).state_dict()
    tensors: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(
                f"modules[{name!r}]: state_dict entry {key!r} is a {type(value).__name__}, not a tensor; "
                "safetensors stores tensors only (move extra state into extra_state)"
            )
        tensors[key] = value.detach().to("cpu", copy=True).contiguous()
    return safetensors.torch.save(tensors), state


def _rng_payload() -> bytes:
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda_{i}"] = state
    scratch: dict[str, torch.Tensor] = {}
    metadata = {
        "python": json.dumps(_encode(random.getstate(), scratch, "random.getstate()")),
        "numpy": json.dumps(_encode(np.random.get_state(), scratch, "np.random.get_state()")),
    }
    return safetensors.torch.save(tensors, metadata=metadata)


def _restore_rng(data: bytes) -> None:
    tensors = safetensors.torch.load(data)
    metadata = _safetensors_metadata(data)
    torch.set_rng_state(tensors["torch_cpu"])
    cuda = [
        tensors[k] for k in sorted((k for k in tensors if k.startswith("cuda_")), key=lambda k: int(k[5:]))
    ]
    if cuda:
        if torch.cuda.is_available():
            n = min(len(cuda), torch.cuda.device_count())
            for i in range(n):
                torch.cuda.set_rng_state(cuda[i], device=i)
        else:
            msg = "the checkpoint holds CUDA RNG states but CUDA is not available: not restored"
            warnings.warn(msg, stacklevel=3)
    random.setstate(_decode(json.loads(metadata["python"]), {}))
    np.random.set_state(_decode(json.loads(metadata["numpy"]), {}))


def _safetensors_metadata(data: bytes) -> dict[str, str]:
    """Read the ``__metadata__`` of a safetensors blob (an 8-byte length, then a JSON header)."""
    if len(data) < 8:
        raise CheckpointError("safetensors blob too short")
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size].decode("utf-8"))
    return dict(header.get("__metadata__") or {})


def _optimizer_payload(name: str, optimizer: torch.optim.Optimizer) -> tuple[bytes, bytes]:
    tensors: dict[str, torch.Tensor] = {}
    encoded = _encode(optimizer.state_dict(), tensors, f"optimizers[{name!r}].state_dict()")
    return safetensors.torch.save(tensors), _json_bytes(encoded)


def _scaler_payload(name: str, scaler: Any) -> bytes:
    tensors: dict[str, torch.Tensor] = {}
    encoded = _encode(scaler.state_dict(), tensors, f"scalers[{name!r}].state_dict()")
    if tensors:
        raise TypeError(f"scalers[{name!r}]: expected a state_dict of plain numbers, got tensors in it")
    return _json_bytes(encoded)


# ----------------------------------------------------------------------------------------------------
# folder bookkeeping


def _step_of(path: Path) -> int | None:
    match = _STEP_RE.match(path.name)
    return int(match.group(1)) if match else None


def list_checkpoints(directory: str | os.PathLike[str]) -> list[Path]:
    """All ``step-*`` folders under ``directory`` (complete or not), oldest step first.

    Examples:
        >>> import tempfile
        >>> list_checkpoints(tempfile.mkdtemp())
        []
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if p.is_dir() and _step_of(p) is not None]
    return sorted(found, key=lambda p: _step_of(p) or 0)


def checkpoint_step(folder: str | os.PathLike[str]) -> int:
    """The step of a checkpoint folder, read from its name ``step-XXXXXXXX`` (nothing is opened).

    Raises:
        ValueError: the name is not ``step-`` followed by at least 8 digits.

    Examples:
        >>> checkpoint_step("runs/demo/shape/checkpoints/step-00000600")
        600
    """
    step = _step_of(Path(folder))
    if step is None:
        raise ValueError(f"checkpoint folder: expected a name step-XXXXXXXX, got {Path(folder).name!r}")
    return step


def read_checkpoint_meta(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``meta.json`` of a checkpoint folder (step, config, extra state, files), without loading a tensor.

    Raises:
        CheckpointError: ``meta.json`` is missing, unreadable, not a condgan checkpoint or from a newer
            format (the path is named).

    Examples:
        >>> import tempfile
        >>> from torch import nn
        >>> folder = save_checkpoint(tempfile.mkdtemp(), step=3, modules={"net": nn.Linear(1, 1)})
        >>> read_checkpoint_meta(folder)["step"]
        3
    """
    return _read_meta(Path(folder))


def _read_meta(folder: Path) -> dict[str, Any]:
    meta_path = folder / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise CheckpointError(f"{meta_path}: missing; the checkpoint {folder} is incomplete") from err
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{meta_path}: unreadable or corrupt ({err})") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{meta_path}: expected a {FORMAT!r} file, got {str(meta)[:80]!r}")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{meta_path}: format_version {version!r} is newer than this condgan reads ({FORMAT_VERSION}); "
            "upgrade condgan"
        )
    if not isinstance(meta.get("files"), dict) or not isinstance(meta.get("step"), int):
        raise CheckpointError(f"{meta_path}: expected 'files' and 'step' entries, got keys {sorted(meta)}")
    return meta


def _read_verified(folder: Path, meta: Mapping[str, Any], filename: str) -> bytes:
    """Read one file of the checkpoint and check its size and sha256 against meta.json."""
    entry = meta["files"].get(filename)
    path = folder / filename
    if entry is None:
        raise CheckpointError(f"{path}: not listed in {folder / 'meta.json'}")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CheckpointError(
            f"{path}: cannot be read ({err.strerror or err}); the checkpoint is damaged"
        ) from err
    if len(data) != entry["bytes"]:
        raise CheckpointError(
            f"{path}: truncated or damaged: expected {entry['bytes']} bytes, got {len(data)} "
            "(sha256 check failed)"
        )
    if _sha256(data) != entry["sha256"]:
        raise CheckpointError(f"{path}: corrupt: sha256 {_sha256(data)[:16]}... does not match meta.json")
    return data


def _is_complete(folder: Path, verify: bool) -> bool:
    try:
        meta = _read_meta(folder)
        for filename, entry in meta["files"].items():
            if verify:
                _read_verified(folder, meta, filename)
            elif (folder / filename).stat().st_size != entry["bytes"]:
                return False
    except (CheckpointError, OSError, KeyError, TypeError):
        return False
    return True


def latest_checkpoint(directory: str | os.PathLike[str], *, verify: bool = True) -> Path | None:
    """The newest complete checkpoint folder under ``directory``, or ``None``.

    The ``latest`` pointer is tried first (it may point below the highest step after a rewind); when it is
    missing or names an incomplete or corrupt folder, the ``step-*`` folders are tried from the highest step
    down. A folder counts as complete when its ``meta.json`` parses and every listed file is present with the
    recorded size and (with ``verify``) sha256.

    Args:
        directory: The checkpoint root passed to
            [`save_checkpoint`][condgan.train.checkpoint.save_checkpoint].
        verify: Hash every file (safe; costs one read of the checkpoint). False checks sizes only.

    Returns:
        The step folder, or ``None`` when there is no complete checkpoint.

    Examples:
        >>> import tempfile
        >>> root = tempfile.mkdtemp()
        >>> latest_checkpoint(root) is None
        True
        >>> _ = save_checkpoint(root, step=7, modules={"net": nn.Linear(2, 2)})
        >>> latest_checkpoint(root).name
        'step-00000007'
    """
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory: expected a str or os.PathLike, got {type(directory).__name__}")
    directory = Path(directory)
    if not directory.is_dir():
        return None
    candidates: list[Path] = []
    pointer = directory / "latest"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
        if _STEP_RE.match(name):
            candidates.append(directory / name)
    except (OSError, UnicodeDecodeError):
        pass
    candidates.extend(reversed(list_checkpoints(directory)))
    seen: set[Path] = set()
    for folder in candidates:
        if folder in seen:
            continue
        seen.add(folder)
        if folder.is_dir() and _is_complete(folder, verify):
            return folder
    return None


def _prune(directory: Path, keep: Path, keep_last: int | None) -> None:
    """Remove old step folders beyond ``keep_last`` (never ``keep``) and leftovers of crashed writes.

    Each doomed ``step-*`` folder is first renamed (atomically, ``os.replace``) to a hidden ``.old-*`` sibling
    and only then deleted, so a kill in the middle of a deletion leaves a hidden leftover (which
    [`list_checkpoints`][condgan.train.checkpoint.list_checkpoints] and
    [`latest_checkpoint`][condgan.train.checkpoint.latest_checkpoint] ignore and the next save removes), never
    a half-deleted ``step-*`` folder. A ``latest`` pointer's temporary file left by a write that was killed
    before its rename (``.latest.<pid>.<hex>.tmp``) goes too: this process's own pointer write is complete.
    """
    doomed: list[Path] = [
        p
        for p in directory.iterdir()
        if p.is_dir() and (p.name.startswith(".tmp-") or p.name.startswith(".old-"))
    ]
    for stale in directory.glob(".latest.*.tmp"):
        try:
            stale.unlink(missing_ok=True)
        except OSError as err:
            warnings.warn(f"could not remove {stale}: {err}", stacklevel=3)
    if keep_last is not None:
        renamed = False
        for folder in [p for p in reversed(list_checkpoints(directory)) if p != keep][keep_last - 1 :]:
            hidden = directory / f".old-{folder.name}-{os.getpid()}-{secrets.token_hex(4)}"
            try:
                os.replace(folder, hidden)
            except OSError as err:  # a full disk or a permission problem never stops training
                warnings.warn(f"could not remove old checkpoint {folder}: {err}", stacklevel=3)
                continue
            doomed.append(hidden)
            renamed = True
        if renamed:  # make the renames durable before anything is deleted
            try:
                _fsync_dir(directory)
            except OSError as err:
                warnings.warn(f"could not fsync {directory}: {err}", stacklevel=3)
    for path in doomed:
        try:
            shutil.rmtree(path)
        except OSError as err:
            warnings.warn(f"could not remove old checkpoint {path}: {err}", stacklevel=3)


# ----------------------------------------------------------------------------------------------------
# writing: payloads in memory, then one atomic folder rename, then the ``latest`` pointer


def _build_payloads(
    step: int,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer],
    scalers: Mapping[str, Any],
    check_finite: bool,
) -> dict[str, bytes]:
    """Every file of the step folder but ``meta.json``, by file name; refuses NaN/Inf module tensors."""
    payloads: dict[str, bytes] = {}
    states: dict[str, Mapping[str, torch.Tensor]] = {}
    for name, module in modules.items():
        payloads[f"{name}.safetensors"], states[name] = _module_payload(name, module)
    if check_finite:
        bad = first_nonfinite_tensor((f"{m}.{k}", t) for m, state in states.items() for k, t in state.items())
        if bad is not None:
            raise NonFiniteError("checkpoint", step, bad[0], bad[1])
    for name, optimizer in optimizers.items():
        tensors, rest = _optimizer_payload(name, optimizer)
        payloads[f"{name}.optimizer.safetensors"] = tensors
        payloads[f"{name}.optimizer.json"] = rest
    for name, scaler in scalers.items():
        payloads[f"{name}.scaler.json"] = _scaler_payload(name, scaler)
    payloads["rng.safetensors"] = _rng_payload()
    return payloads


def _build_meta(
    step: int,
    modules: Mapping[str, Any],
    optimizers: Mapping[str, Any],
    scalers: Mapping[str, Any],
    config: dict[str, Any],
    extra_state: dict[str, Any],
    payloads: Mapping[str, bytes],
) -> dict[str, Any]:
    """The content of ``meta.json``: format, versions, names, config, extra state and every file's hash."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "step": step,
        "created_unix": time.time(),
        "torch_version": torch.__version__,
        "condgan_version": condgan.__version__,
        "modules": sorted(modules),
        "optimizers": sorted(optimizers),
        "scalers": sorted(scalers),
        "config": config,
        "extra_state": extra_state,
        "files": {name: {"sha256": _sha256(data), "bytes": len(data)} for name, data in payloads.items()},
    }


def _make_root(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CheckpointError(
            f"cannot create the checkpoint directory {root}: {err.strerror or err} (nothing was written)"
        ) from err


def _move_into_place(tmp: Path, final: Path, old: Path) -> None:
    """Rename ``tmp`` to ``final``; a ``final`` of the same step is moved to ``old``, restored on failure."""
    if final.exists():
        os.replace(final, old)
        try:
            os.replace(tmp, final)
        except BaseException:
            os.replace(old, final)
            raise
    else:
        os.replace(tmp, final)


def _write_step_folder(root: Path, final: Path, payloads: Mapping[str, bytes], meta: dict[str, Any]) -> None:
    """Write and fsync every file in a temporary sibling, ``meta.json`` last, then rename it to ``final``.

    On any failure the temporary folder is removed, so no partial folder is left; an ``OSError`` becomes a
    [`CheckpointError`][condgan.train.checkpoint.CheckpointError].
    """
    tmp = root / f".tmp-{final.name}-{os.getpid()}-{secrets.token_hex(4)}"
    old = root / f".old-{final.name}-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.mkdir(tmp)
        for filename, data in payloads.items():
            _write_file(tmp / filename, data)
        _write_file(tmp / "meta.json", _json_bytes(meta))
        _fsync_dir(tmp)
        _move_into_place(tmp, final, old)
        _fsync_dir(root)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(err, OSError):
            reason = "the disk is full" if err.errno == errno.ENOSPC else (err.strerror or str(err))
            raise CheckpointError(
                f"could not write checkpoint {final}: {reason}; no partial folder was left and the previous "
                "checkpoint is intact"
            ) from err
        raise


def _point_latest(root: Path, final: Path) -> None:
    """Replace the ``latest`` pointer file (write-temporary-then-rename) with the name of ``final``."""
    try:
        _atomic_replace_file(root / "latest", f"{final.name}\n".encode())
    except OSError as err:
        raise CheckpointError(
            f"checkpoint {final} is complete but the pointer {root / 'latest'} could not be updated: "
            f"{err.strerror or err} (latest_checkpoint() still finds the newest complete folder)"
        ) from err


# ----------------------------------------------------------------------------------------------------
# the public API


def save_checkpoint(
    directory: str | os.PathLike[str],
    *,
    step: int,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    scalers: Mapping[str, Any] | None = None,
    extra_state: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    keep_last: int | None = 3,
    check_finite: bool = True,
) -> Path:
    """Write a complete, verifiable checkpoint atomically, then point ``latest`` at it and prune old ones.

    Args:
        directory: The checkpoint root; created if needed. Step folders are ``step-00001000`` etc.
        step: The training step (an int >= 0); writing a step that exists replaces it.
        modules: Names mapped to modules (an EMA `AveragedModel` too).
            Names are letters, digits, ``_`` or ``-``; ``rng``, ``meta`` and ``latest`` are reserved.
        optimizers: Names mapped to optimizers.
        scalers: Names mapped to ``torch.amp.GradScaler`` (anything with ``state_dict``/``load_state_dict``).
        extra_state: JSON-serialisable loop state (epoch, sampler position, counters, best score).
        config: JSON-serialisable run configuration, saved so a resume can check it matches.
        keep_last: How many step folders to keep (the new one included); ``None`` keeps all.
        check_finite: Refuse to write when a module tensor holds NaN/Inf (the previous checkpoint stays).

    Returns:
        The new step folder.

    Raises:
        NonFiniteError: A module tensor is NaN/Inf (with ``check_finite``); nothing was written.
        CheckpointError: The disk is full or the path is unwritable; no partial folder is left and the
            previous checkpoint and ``latest`` are untouched.

    Examples:
        >>> import tempfile
        >>> root = tempfile.mkdtemp()
        >>> net = nn.Linear(4, 2)
        >>> opt = torch.optim.Adam(net.parameters())
        >>> path = save_checkpoint(root, step=100, modules={"net": net}, optimizers={"net": opt},
        ...                        config={"lr": 1e-3})
        >>> sorted(p.name for p in path.iterdir())  # doctest: +NORMALIZE_WHITESPACE
        ['meta.json', 'net.optimizer.json', 'net.optimizer.safetensors', 'net.safetensors', 'rng.safetensors']
    """
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory: expected a str or os.PathLike, got {type(directory).__name__}")
    step = _check_step(step)
    modules, optimizers, scalers = _check_targets(modules, optimizers, scalers, check_scalers=True)
    if not modules and not optimizers:
        raise ValueError("modules: expected at least one module or optimizer to save, got none")
    extra = _check_json("extra_state", {} if extra_state is None else extra_state)
    cfg = _check_json("config", {} if config is None else config)
    _check_keep_last(keep_last)

    # Build every payload in memory first: nothing touches the disk until all checks passed.
    payloads = _build_payloads(step, modules, optimizers, scalers, check_finite)
    meta = _build_meta(step, modules, optimizers, scalers, cfg, extra, payloads)

    root = Path(directory)
    final = root / f"step-{step:08d}"
    _make_root(root)
    _write_step_folder(root, final, payloads, meta)
    _point_latest(root, final)
    _prune(root, final, keep_last)
    return final


def _problem_list(problems: list[str]) -> str:
    shown = problems[:_MAX_LISTED]
    more = f"; ... and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
    return "; ".join(shown) + more


def _shape(t: torch.Tensor | torch.Size) -> tuple[int, ...]:
    return tuple(t.shape) if isinstance(t, torch.Tensor) else tuple(t)


def _optimizer_problems(name: str, optimizer: torch.optim.Optimizer, saved: Mapping[str, Any]) -> list[str]:
    """Compare a saved optimizer state_dict with the live optimizer before loading it."""
    if not isinstance(saved, Mapping) or "param_groups" not in saved or "state" not in saved:
        return [f"optimizer {name!r}: the saved state is not an optimizer state_dict"]
    groups, saved_groups = optimizer.param_groups, saved["param_groups"]
    if len(groups) != len(saved_groups):
        return [f"optimizer {name!r}: expected {len(groups)} parameter groups, got {len(saved_groups)}"]
    problems: list[str] = []
    id_to_param: dict[Any, torch.Tensor] = {}
    for g, (group, saved_group) in enumerate(zip(groups, saved_groups, strict=True)):
        if len(group["params"]) != len(saved_group["params"]):
            problems.append(
                f"optimizer {name!r} group {g}: expected {len(group['params'])} parameters, "
                f"got {len(saved_group['params'])}"
            )
            continue
        id_to_param.update(zip(saved_group["params"], group["params"], strict=True))
    for pid, entry in saved["state"].items():
        param = id_to_param.get(pid)
        if param is None or not isinstance(entry, Mapping):
            continue
        for key, value in entry.items():
            if isinstance(value, torch.Tensor) and value.ndim > 0 and value.shape != param.shape:
                problems.append(
                    f"optimizer {name!r} parameter {pid} {key}: expected {_shape(param)}, got {_shape(value)}"
                )
    return problems


@dataclass
class _Problems:
    """What does not match between a checkpoint and the live objects, gathered before anything is loaded."""

    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)


def _find_folder(folder: Path) -> Path:
    """``folder`` itself when it holds ``meta.json``, else the newest complete checkpoint under it."""
    if (folder / "meta.json").is_file():
        return folder
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: no such checkpoint folder or directory")
    found = latest_checkpoint(folder)
    if found is None:
        raise CheckpointError(f"{folder}: no complete checkpoint found (expected step-XXXXXXXX folders)")
    return found


def _compare_module_state(
    name: str, target: Mapping[str, Any], saved: Mapping[str, torch.Tensor], problems: _Problems
) -> None:
    """Record the keys of module ``name`` that are missing, unexpected or of another shape in ``saved``."""
    problems.missing += [f"{name}.{k} missing from the checkpoint" for k in target if k not in saved]
    problems.unexpected += [
        f"{name}.{k} in the checkpoint but not in the module" for k in saved if k not in target
    ]
    for key in (k for k in target if k in saved):
        want, got = _shape(target[key]), _shape(saved[key])
        if want != got:
            problems.mismatched.append(f"{name}.{key} expected {want}, got {got}")


def _read_module_states(
    folder: Path, meta: Mapping[str, Any], modules: Mapping[str, nn.Module], problems: _Problems
) -> dict[str, dict[str, torch.Tensor]]:
    """The saved state of each requested module (verified), its differences recorded in ``problems``."""
    states: dict[str, dict[str, torch.Tensor]] = {}
    for name, module in modules.items():
        filename = f"{name}.safetensors"
        if filename not in meta["files"]:
            problems.missing.append(f"{name} (module not in the checkpoint; it has {meta.get('modules')})")
            continue
        try:
            saved = safetensors.torch.load(_read_verified(folder, meta, filename))
        except CheckpointError:
            raise
        except Exception as err:  # the hash matched, so this is a writer bug or a foreign file
            raise CheckpointError(f"{folder / filename}: not a valid safetensors file ({err})") from err
        _compare_module_state(name, unwrap_model(module).state_dict(), saved, problems)
        states[name] = saved
    return states


def _read_optimizer_states(
    folder: Path,
    meta: Mapping[str, Any],
    optimizers: Mapping[str, torch.optim.Optimizer],
    problems: _Problems,
) -> dict[str, dict[str, Any]]:
    """The saved state of each requested optimizer that fits it; the others are recorded in ``problems``."""
    states: dict[str, dict[str, Any]] = {}
    for name, optimizer in optimizers.items():
        tname, jname = f"{name}.optimizer.safetensors", f"{name}.optimizer.json"
        if tname not in meta["files"] or jname not in meta["files"]:
            problems.missing.append(
                f"{name} (optimizer not in the checkpoint; it has {meta.get('optimizers')})"
            )
            continue
        tensors = safetensors.torch.load(_read_verified(folder, meta, tname))
        try:
            saved = _decode(json.loads(_read_verified(folder, meta, jname)), tensors)
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise CheckpointError(f"{folder / jname}: not a valid optimizer state ({err})") from err
        mismatched = _optimizer_problems(name, optimizer, saved)
        if mismatched:
            problems.mismatched += mismatched
        else:
            states[name] = saved
    return states


def _read_scaler_states(
    folder: Path, meta: Mapping[str, Any], scalers: Mapping[str, Any], problems: _Problems
) -> dict[str, Any]:
    """The saved state of each requested scaler; absent ones are recorded in ``problems``."""
    states: dict[str, Any] = {}
    for name in scalers:
        filename = f"{name}.scaler.json"
        if filename not in meta["files"]:
            problems.missing.append(f"{name} (scaler not in the checkpoint; it has {meta.get('scalers')})")
            continue
        states[name] = _decode(json.loads(_read_verified(folder, meta, filename)), {})
    return states


def _load_modules(
    modules: Mapping[str, nn.Module],
    states: Mapping[str, Mapping[str, torch.Tensor]],
    map_location: torch.device,
    strict: bool,
) -> None:
    """Copy the saved tensors whose key and shape match into each (unwrapped) module."""
    for name, saved in states.items():
        target = unwrap_model(modules[name])
        live = target.state_dict()
        usable = {
            k: v.to(map_location) for k, v in saved.items() if k in live and _shape(live[k]) == _shape(v)
        }
        target.load_state_dict(usable, strict=strict)


def _load_states(kind: str, targets: Mapping[str, Any], states: Mapping[str, Any]) -> None:
    """``load_state_dict`` on each optimizer or scaler (``kind``); a state that does not fit is named."""
    for name, state in states.items():
        try:
            targets[name].load_state_dict(state)
        except (ValueError, KeyError, RuntimeError) as err:
            raise CheckpointError(f"{kind} {name!r}: the saved state does not fit ({err})") from err


def load_checkpoint(
    path: str | os.PathLike[str],
    *,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    scalers: Mapping[str, Any] | None = None,
    strict: bool = True,
    map_location: str | torch.device = "cpu",
    restore_rng: bool = True,
) -> CheckpointInfo:
    """Restore modules, optimizers, scalers and RNG states from a checkpoint; never unpickles.

    Every file read is checked against the sha256 and size in ``meta.json``. With ``strict``, all modules and
    optimizers are compared with the checkpoint first and nothing is loaded unless everything matches; the error
    lists every missing, unexpected and mis-shaped key. With ``strict=False`` the matching keys are loaded and the
    rest reported in the returned [`CheckpointInfo`][condgan.train.checkpoint.CheckpointInfo].

    Args:
        path: A step folder, or a checkpoint root (its
            [`latest_checkpoint`][condgan.train.checkpoint.latest_checkpoint] is used).
        modules: Names mapped to the modules to fill (a subset of the saved ones is fine, e.g. the generator only).
        optimizers: Names mapped to optimizers to fill.
        scalers: Names mapped to GradScalers to fill.
        strict: Require an exact match of keys and shapes.
        map_location: Device the tensors are staged on before being copied into the modules.
        restore_rng: Restore torch (CPU, CUDA), Python ``random`` and NumPy global RNG states.

    Returns:
        [`CheckpointInfo`][condgan.train.checkpoint.CheckpointInfo] with the step, config, extra state and
        folder.

    Raises:
        CheckpointError: No complete checkpoint, a corrupt or truncated file (named), or another configuration.

    Examples:
        >>> import tempfile
        >>> root = tempfile.mkdtemp()
        >>> _ = save_checkpoint(root, step=5, modules={"net": nn.Linear(3, 3)}, extra_state={"epoch": 1})
        >>> fresh = nn.Linear(3, 3)
        >>> info = load_checkpoint(root, modules={"net": fresh})
        >>> info.step, info.extra_state
        (5, {'epoch': 1})
        >>> load_checkpoint(root, modules={"net": nn.Linear(3, 4)})
        Traceback (most recent call last):
        ...
        condgan.train.checkpoint.CheckpointError: checkpoint from another configuration: net.weight expected (4, 3), got (3, 3); net.bias expected (4,), got (3,)
    """  # noqa: E501
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a str or os.PathLike, got {type(path).__name__}")
    modules, optimizers, scalers = _check_targets(modules, optimizers, scalers, check_scalers=False)
    map_location = _check_map_location(map_location)

    folder = _find_folder(Path(path))
    meta = _read_meta(folder)
    for filename in meta["files"]:
        if not (folder / filename).is_file():
            raise CheckpointError(f"{folder / filename}: missing; the checkpoint is incomplete")

    problems = _Problems()
    module_states = _read_module_states(folder, meta, modules, problems)
    optimizer_states = _read_optimizer_states(folder, meta, optimizers, problems)
    scaler_states = _read_scaler_states(folder, meta, scalers, problems)
    if strict and (problems.missing or problems.unexpected or problems.mismatched):
        raise CheckpointError(
            "checkpoint from another configuration: "
            + _problem_list(problems.mismatched + problems.missing + problems.unexpected)
        )

    # Everything checked: load.
    _load_modules(modules, module_states, map_location, strict)
    _load_states("optimizer", optimizers, optimizer_states)
    _load_states("scaler", scalers, scaler_states)
    if restore_rng and "rng.safetensors" in meta["files"]:
        _restore_rng(_read_verified(folder, meta, "rng.safetensors"))
    return CheckpointInfo(
        step=meta["step"],
        config=meta.get("config", {}),
        extra_state=meta.get("extra_state", {}),
        path=folder,
        missing=tuple(problems.missing),
        unexpected=tuple(problems.unexpected),
        mismatched=tuple(problems.mismatched),
    )

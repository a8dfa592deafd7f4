"""An append-only JSON-lines metrics log that survives crashes and resumes without gaps or duplicates.

Each record is one line of JSON holding at least ``"step"``; it is flushed and fsynced as soon as it is
written, so a crash loses at most the record being written (a torn last line, dropped on the next open). After
a resume from the checkpoint of step ``s``, [`MetricsLog.resume`][condgan.train.metrics_log.MetricsLog.resume]
drops every record with ``step > s`` (written after that checkpoint, and about to be recomputed), atomically,
so the log continues exactly where the model does.

Only one process should write a given log (in DDP: the main rank).
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

__all__ = ["MetricsLog", "read_metrics"]


def _to_json_value(key: str, value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{key}: expected a scalar tensor, got shape {tuple(value.shape)}")
        return value.item()
    if hasattr(value, "item") and callable(value.item) and type(value).__module__ == "numpy":
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_to_json_value(f"{key}[{i}]", v) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        return {str(k): _to_json_value(f"{key}.{k}", v) for k, v in value.items()}
    got = type(value).__name__
    raise TypeError(f"{key}: expected a number, string, bool, None, list, dict or scalar tensor, got {got}")


def _check_step(name: str, step: object) -> int:
    if isinstance(step, bool) or not isinstance(step, int):
        raise TypeError(f"{name}: expected an int >= 0, got {type(step).__name__} {step!r}")
    if step < 0:
        raise ValueError(f"{name}: expected an int >= 0, got {step}")
    return step


def _parse(path: Path) -> tuple[list[dict[str, Any]], list[str], bool]:
    """Return (records, their raw lines, whether the last line is torn); raise on corruption elsewhere."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = text.split("\n")
    tail = lines.pop()  # text after the last newline: "" when the file ends cleanly
    torn = tail != ""
    records: list[dict[str, Any]] = []
    raw: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            msg = f"{path}: line {number} is not valid JSON ({err.msg}); got {line[:80]!r}"
            raise ValueError(msg) from err
        if not isinstance(record, dict) or not isinstance(record.get("step"), int):
            msg = f"{path}: line {number}: expected a JSON object with an int 'step', got {line[:80]!r}"
            raise ValueError(msg)
        records.append(record)
        raw.append(line)
    return records, raw, torn


def _atomic_write_lines(path: Path, lines: list[str]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(line + "\n" for line in lines)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_metrics(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read every complete record of a metrics log (a torn last line is ignored).

    Args:
        path: The ``.jsonl`` file.

    Returns:
        The records in file order.

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.jsonl"
        >>> with MetricsLog(p) as log:
        ...     _ = log.log(1, loss=0.5)
        >>> read_metrics(p)
        [{'step': 1, 'loss': 0.5}]
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: expected an existing metrics file, got {str(path)!r}")
    return _parse(path)[0]


class MetricsLog:
    """Append-only JSONL metrics log, one fsynced line per record.

    Steps must not go backwards: logging a step smaller than the last one raises ``ValueError`` (after a
    resume, open the log with [`resume`][condgan.train.metrics_log.MetricsLog.resume] instead). NaN and
    infinities are written as JSON's ``NaN``/``Infinity`` extensions, which Python's ``json`` and pandas read
    back.

    Args:
        path: The ``.jsonl`` file; created with its parent folders if absent, appended to otherwise.
        fsync: Flush to disk after every record (default True; a record costs well under a millisecond on a
            local disk).

    Examples:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "metrics.jsonl"
        >>> with MetricsLog(p) as log:
        ...     for step in (1, 2, 3):
        ...         _ = log.log(step, d_total=1.0 / step)
        >>> log = MetricsLog.resume(p, step=2)  # we restarted from the step-2 checkpoint
        >>> [r["step"] for r in read_metrics(p)]
        [1, 2]
        >>> log.last_step
        2
        >>> log.close()
    """

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = True) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path: expected a str or os.PathLike, got {type(path).__name__}")
        self.path = Path(path)
        if self.path.exists() and not self.path.is_file():
            raise ValueError(f"path: expected a file, got a directory or special file {str(self.path)!r}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fsync = bool(fsync)
        records, raw, torn = _parse(self.path)
        if torn:
            warnings.warn(f"{self.path}: dropping a torn last line (a crash during a write)", stacklevel=2)
            _atomic_write_lines(self.path, raw)
        self._last_step: int | None = records[-1]["step"] if records else None
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()

    @classmethod
    def resume(cls, path: str | os.PathLike[str], step: int, *, fsync: bool = True) -> MetricsLog:
        """Open ``path`` for a run resumed at ``step``: records with ``step > step`` are removed first.

        The rewrite is atomic (temporary file, fsync, ``os.replace``): a crash during it leaves either the old
        or the new log, never a mix. A missing file is simply created.

        Args:
            path: The ``.jsonl`` file.
            step: The step of the checkpoint the run resumed from.
            fsync: As for the constructor.

        Returns:
            An open [`MetricsLog`][condgan.train.metrics_log.MetricsLog] whose
            [`last_step`][condgan.train.metrics_log.MetricsLog.last_step] is at most ``step``.
        """
        _check_step("step", step)
        path = Path(path)
        if path.is_file():
            records, raw, torn = _parse(path)
            keep = [line for record, line in zip(records, raw, strict=True) if record["step"] <= step]
            if torn or len(keep) != len(raw):
                _atomic_write_lines(path, keep)
        return cls(path, fsync=fsync)

    @property
    def last_step(self) -> int | None:
        """The step of the last record in the log, or ``None`` when it is empty."""
        return self._last_step

    def write(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Append one record (a mapping with an int ``"step"``); returns the JSON-ready copy written."""
        if self._file.closed:
            raise ValueError(f"MetricsLog({str(self.path)!r}) is closed")
        if not isinstance(record, Mapping):
            raise TypeError(f"record: expected a mapping with an int 'step', got {type(record).__name__}")
        if "step" not in record:
            raise ValueError(f"record: expected a 'step' key, got keys {sorted(record)}")
        step = _check_step("record['step']", record["step"])
        if self._last_step is not None and step < self._last_step:
            raise ValueError(
                f"record['step']: expected >= the last logged step {self._last_step}, got {step} "
                "(after resuming from a checkpoint, open the log with MetricsLog.resume(path, step))"
            )
        clean = {str(k): _to_json_value(str(k), v) for k, v in record.items()}
        line = json.dumps(clean, allow_nan=True, separators=(",", ":"))
        self._file.write(line + "\n")
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())
        self._last_step = step
        return clean

    def log(self, step: int, /, **values: Any) -> dict[str, Any]:
        """Append ``{"step": step, **values}``; values may be numbers, strings or scalar tensors."""
        return self.write({"step": step, **values})

    def close(self) -> None:
        """Close the file (idempotent)."""
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - safety net only
        file = getattr(self, "_file", None)
        if file is not None and not file.closed:
            file.close()

"""The judges' files: atomic writes, and JSON reads that fail with a message naming the file."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "read_json"]


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Call ``write(temporary_name)`` on a temporary file beside ``path``, then rename it onto ``path``.

    A reader sees the old file or the whole new one, never half of it; on any error the temporary file is
    removed and the error re-raised.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     target = Path(folder) / "a.txt"
        ...     atomic_write(target, lambda name: Path(name).write_text("hello"))
        ...     print(target.read_text(), sorted(p.name for p in Path(folder).iterdir()))
        hello ['a.txt']
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def read_json(path: Path, expected: str):
    """The JSON value in ``path``; invalid JSON is a ``ValueError`` naming the file and ``expected``.

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     broken = Path(folder) / "b.json"
        ...     _ = broken.write_text("{")
        ...     try:
        ...         read_json(broken, "a record")
        ...     except ValueError as error:
        ...         print(str(error).split(": ", 1)[1][:35])
        expected a record, got invalid JSON
    """
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: expected {expected}, got invalid JSON ({error})") from None

"""The docstrings use mkdocstrings cross-references, never Sphinx roles.

mkdocstrings renders Markdown: a Sphinx role such as ``:func:`one_hot_labels``` reaches the API pages as the
literal text ``:func:`` followed by code, with no link. A cross-reference is written
``[`one_hot_labels`][condgan.layers.one_hot_labels]`` instead (``mkdocs build --strict`` then checks that it
resolves).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = (ROOT / "condgan", ROOT / "examples" / "fashion_gan")
ROLE = re.compile(r":(?:py:)?(func|class|meth|mod|attr|data|exc|obj):`[^`\n]*`")


def find_sphinx_roles(paths) -> list[str]:
    """Every Sphinx role in the Python files under ``paths``, as ``file:line: role``.

    Args:
        paths: folders (searched recursively for ``*.py``) or single files.

    Returns:
        One entry per role, in file and line order; file names are relative to the repository root.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "m.py").write_text("def f():\\n    'See :func:`g` and :class:`H`.'\\n")
        >>> [hit.split(": ", 1)[1] for hit in find_sphinx_roles([folder])]
        [':func:`g`', ':class:`H`']
    """
    hits = []
    for base in paths:
        files = [base] if base.is_file() else sorted(base.rglob("*.py"))
        for path in files:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                for match in ROLE.finditer(line):
                    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                    hits.append(f"{name}:{number}: {match.group(0)}")
    return hits


def test_finder_sees_every_role_kind(tmp_path):
    source = tmp_path / "module.py"
    kinds = ("func", "class", "meth", "mod", "attr", "data", "exc", "obj")
    source.write_text("\n".join(f"# :{kind}:`name_{kind}`" for kind in kinds) + "\n# :py:func:`full`\n")
    hits = find_sphinx_roles([source])
    expected = [f":{kind}:`name_{kind}`" for kind in kinds] + [":py:func:`full`"]
    assert [hit.rsplit(": ", 1)[1] for hit in hits] == expected
    assert hits[0].startswith(f"{source}:1: ")


def test_finder_ignores_cross_references_and_plain_code(tmp_path):
    source = tmp_path / "module.py"
    source.write_text('"""[`g`][pkg.g], ``code``, a ratio 1:2 and `:func:` without a target."""\n')
    assert find_sphinx_roles([source]) == []


def test_sources_have_no_sphinx_roles():
    hits = find_sphinx_roles(SOURCES)
    advice = "write mkdocstrings cross-references instead"
    assert not hits, f"{len(hits)} Sphinx roles ({advice}):\n" + "\n".join(hits)

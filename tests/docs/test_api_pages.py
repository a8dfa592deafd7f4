"""Every public module of the library and of the example has a page section in ``docs/api/``.

A module missing from the API pages breaks the site twice: its docstrings are never shown, and every
cross-reference to it (``[`G2Reader`][fashion_gan.data.release.G2Reader]``) fails ``mkdocs build --strict``.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREES = ((ROOT / "condgan", "condgan"), (ROOT / "examples" / "fashion_gan", "fashion_gan"))
# The synthetic generator's public API is its package (rendered with ``::: fashion_gan.data.synthetic``); its
# modules are the parts that package assembles.
DOCUMENTED_THROUGH_PACKAGE = ("fashion_gan.data.synthetic.",)
DIRECTIVE = re.compile(r"^::: ([\w.]+)\s*$", re.MULTILINE)


def public_modules(folder: Path, package: str) -> list[str]:
    """Dotted names of the non-package, non-private modules under ``folder`` (imported as ``package``).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> for name in ("__init__.py", "a.py", "_b.py"):
        ...     _ = (folder / name).write_text("")
        >>> public_modules(folder, "pkg")
        ['pkg.a']
    """
    names = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        if parts[-1] == "__init__" or any(part.startswith("_") for part in parts):
            continue
        names.append(".".join((package, *parts)))
    return names


def documented_modules() -> set[str]:
    """The objects named by a ``::: name`` directive in any page under ``docs/api/``."""
    pages = sorted((ROOT / "docs" / "api").glob("*.md"))
    text = "\n".join(page.read_text(encoding="utf-8") for page in pages)
    return set(DIRECTIVE.findall(text))


def test_every_public_module_is_on_an_api_page():
    documented = documented_modules()
    missing = [
        name
        for folder, package in TREES
        for name in public_modules(folder, package)
        if name not in documented and not name.startswith(DOCUMENTED_THROUGH_PACKAGE)
    ]
    assert not missing, f"modules with no '::: name' section in docs/api/*.md: {missing}"


def test_every_directive_names_a_real_module_or_package():
    known = {name for folder, package in TREES for name in public_modules(folder, package)}
    packages = {
        ".".join((package, *path.parent.relative_to(folder).parts))
        for folder, package in TREES
        for path in folder.rglob("__init__.py")
    }
    stale = sorted(documented_modules() - known - packages)
    assert not stale, f"docs/api/*.md renders modules that do not exist: {stale}"

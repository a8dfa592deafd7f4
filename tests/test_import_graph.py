"""The import graph of condgan and the example: no cycles, the library never imports the example, and the
example's packages import only the layers below them.

Imports are read from the source (every ``import`` statement, at module level or inside a function, except
those under ``if TYPE_CHECKING:``), so a lazy import that would close a cycle counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"condgan": ROOT / "condgan", "fashion_gan": ROOT / "examples" / "fashion_gan"}

#: The example's parts, bottom to top: a part may import its own modules and the parts of lower rank.
EXAMPLE_LAYERS = {
    "text": 0,
    "data": 1,
    "modeling": 2,
    "config": 3,
    "visualize": 3,
    "runs": 4,
    "plots": 4,
    "training": 5,
    "inference": 5,
    "evaluation": 6,
    "serve": 6,
    "cli": 7,
    "__main__": 8,
}


def _modules() -> dict[str, Path]:
    out = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, child.end_lineno + 1))
    return lines


def _imported(name: str, path: Path) -> set[str]:
    """Every name an import statement of module ``name`` mentions (absolute, with the imported names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            prefix = base[: len(base) - node.level + 1] if node.level else []
            module = ".".join(prefix + ([node.module] if node.module else []))
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports (each imported name resolved to its longest known module)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        edges = set()
        for target in _imported(name, path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            # Importing a submodule imports its parent packages first: that is not a dependency of its own.
            if target and target != name and not name.startswith(target + "."):
                edges.add(target)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_the_walk_finds_the_imports_it_should():
    graph = import_graph()
    assert "condgan.layers.compositional" in graph["condgan.layers"]
    assert "fashion_gan.modeling.stage" in graph["fashion_gan.modeling.render"]
    assert "fashion_gan.config" not in graph["fashion_gan.modeling.stage"]  # a TYPE_CHECKING import
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_library_never_imports_the_example():
    offenders = {m: sorted(t for t in ts if t.startswith("fashion_gan")) for m, ts in import_graph().items()}
    assert {m: t for m, t in offenders.items() if m.startswith("condgan") and t} == {}


@pytest.mark.parametrize("part", sorted(EXAMPLE_LAYERS))
def test_each_part_of_the_example_imports_only_lower_layers(part):
    rank = EXAMPLE_LAYERS[part]
    bad = []
    for module, targets in import_graph().items():
        if module.split(".")[:2] != ["fashion_gan", part]:
            continue
        for target in targets:
            other = target.split(".")[1] if target.startswith("fashion_gan.") else None
            if other is not None and other != part and EXAMPLE_LAYERS[other] >= rank:
                bad.append(f"{module} -> {target}")
    assert bad == []

"""No import cycles in docmgmt/: walks the module-level imports (ast) and fails naming a cycle.

Only imports that run when a module is imported count: those at module level, in class bodies
and in module-level ``if``/``try``/``with`` blocks; imports inside functions and under
``if TYPE_CHECKING:`` do not (they run later, or never). Importing ``a.b.c`` runs ``a`` and
``a.b`` first, so an import also reaches every package above the module it names: a package
``__init__`` that imports its feature's views would put those views in front of every module
of the package. Run alone: ``python -m tests.main.test_import_graph`` prints the cycles.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "docmgmt"


def modules(root: Path = ROOT) -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        out[".".join(parts)] = (path, is_package)
    return out


def _runs_on_import(body):
    """The statements of ``body`` that run when the module is imported."""
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _runs_on_import(node.orelse)
            continue
        yield node
        if isinstance(node, ast.ClassDef):
            yield from _runs_on_import(node.body)
            continue
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and all(isinstance(n, ast.stmt) for n in block):
                yield from _runs_on_import(block)
        for handler in getattr(node, "handlers", []):
            yield from _runs_on_import(handler.body)


def _parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    mods = modules(root)
    graph = {}
    for name, (path, is_package) in mods.items():
        here = name if is_package else name.rpartition(".")[0]
        named: set[str] = set()  # the modules an import statement names
        for node in _runs_on_import(ast.parse(path.read_text(encoding="utf-8")).body):
            if isinstance(node, ast.Import):
                named |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                named.add(target)
                named |= {f"{target}.{alias.name}" for alias in node.names}
        # Packages above a named module run first, except the module's own packages: they are
        # already being imported when it runs (unless it names one, as in ``from . import bp``).
        above = set().union(*(_parents(m) for m in named)) - _parents(name)
        graph[name] = ((named | above) & set(mods)) - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of two or more modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(v):  # Tarjan; the graph has a few hundred nodes, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_one_cycle(graph, group) for group in groups]


def _one_cycle(graph, group: set[str]) -> list[str]:
    """A shortest path from the group's first module back to itself, inside the group."""
    start = min(group)
    paths = {start: [start]}
    todo = [start]
    while todo:
        v = todo.pop(0)
        for w in sorted(graph[v] & group):
            if w == start:
                return paths[v] + [start]
            if w not in paths:
                paths[w] = paths[v] + [w]
                todo.append(w)
    return sorted(group)


def test_docmgmt_has_no_import_cycle():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_walker_finds_a_cycle(tmp_path):
    pkg = tmp_path / PACKAGE
    (pkg / "feature").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "feature" / "__init__.py").write_text("from docmgmt.feature import views\n")
    (pkg / "feature" / "views.py").write_text("from docmgmt.other import helper\n")
    (pkg / "feature" / "models.py").write_text("")
    (pkg / "other.py").write_text(
        "from docmgmt.feature.models import Thing\n"
        "def later():\n    from docmgmt.feature import views\n"
    )
    (pkg / "lazy.py").write_text("def f():\n    from docmgmt import other\n")
    found = cycles(import_graph(tmp_path))
    # other -> feature.models runs feature/__init__ first, which imports views -> other
    assert found == [
        ["docmgmt.feature", "docmgmt.feature.views", "docmgmt.other", "docmgmt.feature"]
    ]


if __name__ == "__main__":
    for cycle in cycles(import_graph()):
        print(" -> ".join(cycle))

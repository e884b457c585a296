"""Dependencies run one way: the packages of ``venture/`` and ``judging/`` import each other without a cycle.

The graph is read from the source with ``ast`` (every import, at the top of a module or inside a function), one node
per package: ``judging``, ``venture.<subpackage>``, and each top-level module of ``venture/`` as
``venture.<module>`` (``venture.permissions``). Imports inside one package are not edges. Migrations (they name
models as they were) and ``venture.settings`` (strings only) are left out. There is no allow-list: a cycle fails.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("venture", "judging")
IGNORED = {"venture.settings"}


def node_of(module):
    """The graph node a dotted module name belongs to, or None for anything outside the two packages."""
    parts = module.split(".")
    if parts[0] == "judging":
        return "judging"
    if parts[0] == "venture" and len(parts) > 1:
        node = f"venture.{parts[1]}"
        return None if node in IGNORED else node
    return None


def module_name(path, root=ROOT):
    parts = list(path.relative_to(root).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imported_modules(path, root=ROOT):
    """(dotted name, line) of everything ``path`` imports; ``from a import b`` yields both ``a`` and ``a.b``."""
    parts = module_name(path, root)
    package = parts if path.name == "__init__.py" else parts[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            yield module, node.lineno
            for alias in node.names:
                yield f"{module}.{alias.name}", node.lineno


def source_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                yield path


def import_graph():
    """{node: {imported node: ["path:line", ...]}} over the two packages."""
    graph = {}
    for path in source_files():
        source = node_of(".".join(module_name(path)))
        if source is None:
            continue
        graph.setdefault(source, {})
        for module, line in imported_modules(path):
            target = node_of(module)
            if target is not None and target != source:
                where = f"{path.relative_to(ROOT)}:{line}"
                sites = graph[source].setdefault(target, [])
                if where not in sites:
                    sites.append(where)
    return graph


def find_cycles(graph):
    """Every strongly connected component of more than one node, each as one concrete cycle [a, b, ..., a]."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []

    def connect(node):  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_cycle_in(graph, component) for component in components]


def _cycle_in(graph, component):
    """A shortest path from the component's first node back to itself, inside the component (breadth first)."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(graph.get(node, ())):
                if target == start:
                    return paths[node] + [start]
                if target in component and target not in paths:
                    paths[target] = paths[node] + [target]
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a component always has one


def describe(graph, cycle):
    return (
        " -> ".join(cycle)
        + "\n"
        + "\n".join(f"  {a} -> {b}: {', '.join(graph[a][b][:3])}" for a, b in zip(cycle, cycle[1:], strict=False))
    )


def test_the_packages_import_each_other_without_a_cycle():
    graph = import_graph()
    assert {"judging", "venture.competitions", "venture.home", "venture.permissions"} <= graph.keys()
    cycles = find_cycles(graph)
    assert cycles == [], "Import cycles between packages:\n" + "\n".join(describe(graph, c) for c in cycles)


def test_the_permission_core_imports_no_app():
    """venture/permissions.py holds the table; the apps fill it from their rules.py, so it needs none of them."""
    packages = {
        node
        for node in import_graph()["venture.permissions"]
        if node == "judging" or (ROOT / node.replace(".", "/")).is_dir()
    }
    assert packages == set()


def test_the_home_pages_are_read_by_nothing():
    """The role dashboards sit at the top: only the root URL configuration imports them."""
    graph = import_graph()
    assert sorted(source for source, targets in graph.items() if "venture.home" in targets) == ["venture.urls"]


def test_find_cycles_reports_a_cycle_and_its_import_sites():
    graph = {"a": {"b": ["a.py:1"]}, "b": {"c": ["b.py:2"]}, "c": {"a": ["c.py:3"], "d": ["c.py:4"]}, "d": {}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert describe(graph, ["a", "b", "c", "a"]) == (
        "a -> b -> c -> a\n  a -> b: a.py:1\n  b -> c: b.py:2\n  c -> a: c.py:3"
    )
    assert find_cycles({"a": {"b": []}, "b": {}}) == []


def test_the_graph_sees_imports_inside_functions_and_relative_imports(tmp_path):
    package = tmp_path / "venture" / "alpha"
    package.mkdir(parents=True)
    (tmp_path / "venture" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "views.py").write_text(
        "from . import models\nfrom ..beta import services\n\ndef f():\n    from judging.models import Panel\n"
    )
    found = sorted(imported_modules(package / "views.py", root=tmp_path))
    assert found == [
        ("judging.models", 5),
        ("judging.models.Panel", 5),
        ("venture.alpha", 1),
        ("venture.alpha.models", 1),
        ("venture.beta", 2),
        ("venture.beta.services", 2),
    ]

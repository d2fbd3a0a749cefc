"""The package's shape: no import cycles anywhere inside workbench (lazy imports inside functions
and `if TYPE_CHECKING:` imports count too). Layers are checked by import-linter (`lint-imports`)."""
from __future__ import annotations

import grimp


def import_cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (strongly connected
    components of more than one module, or a module importing itself), each sorted."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(package + "."))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in modules:
        if root in index:
            continue
        # Tarjan's algorithm, iteratively: (module, its imports not yet visited)
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, todo = work[-1]
            for imported in todo:
                if imported not in modules:
                    continue
                if imported not in index:
                    index[imported] = low[imported] = len(index)
                    stack.append(imported)
                    on_stack.add(imported)
                    work.append((imported, iter(sorted(graph.find_modules_directly_imported_by(imported)))))
                    break
                if imported in on_stack:
                    low[module] = min(low[module], index[imported])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == module:
                            break
                    if len(group) > 1 or module in graph.find_modules_directly_imported_by(module):
                        cycles.append(sorted(group))
    return sorted(cycles)


def test_the_cycle_finder_finds_a_cycle_through_three_modules_and_nothing_else() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d"), ("p.e", "p.d")):
        graph.add_import(importer=importer, imported=imported)
    assert import_cycles(graph, "p") == [["p.a", "p.b", "p.c"]]


def test_workbench_has_no_import_cycles() -> None:
    graph = grimp.build_graph("workbench", cache_dir=None)
    assert len(graph.modules) > 50  # the whole package was read
    cycles = import_cycles(graph, "workbench")
    assert cycles == [], "modules that import each other:\n" + "\n".join(" <-> ".join(c) for c in cycles)

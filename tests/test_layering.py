"""DESIGN.md's layering, checked on the source: ``core`` imports no domain, no domain imports
another domain's ``api`` (import-linter checks the first too, in ``make lint``), and no import
cycle: no module imports, directly or through others, a module that imports it back.

The cycle check reads the whole import graph of ``tocsin`` as grimp builds it for
import-linter: imports inside functions count (a lazy import is still a dependency, and hiding
a cycle in a function is the usual way one creeps in), and so do ``TYPE_CHECKING`` imports
(``exclude_type_checking_imports`` is left off): none is exempted today, inside a domain or not.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path

import grimp

from tocsin.domains import DOMAINS

PACKAGE = Path(__file__).resolve().parents[1] / "tocsin"
TOP_LEVEL = {"core", "web", "migrations"}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _domains() -> set[str]:
    return {
        p.name for p in PACKAGE.iterdir()
        if p.is_dir() and (p / "__init__.py").exists() and p.name not in TOP_LEVEL
    }


def test_core_imports_no_domain() -> None:
    forbidden = _domains() | {"web", "app", "cli", "models", "retention"}
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in (PACKAGE / "core").rglob("*.py")
        for name in _imports(path)
        if name.startswith("tocsin.") and name.split(".")[1] in forbidden
    ]
    assert offenders == []


def test_no_domain_imports_another_domains_api() -> None:
    offenders = []
    for domain in _domains():
        for path in (PACKAGE / domain).rglob("*.py"):
            for name in _imports(path):
                parts = name.split(".")
                is_api = len(parts) >= 3 and parts[0] == "tocsin" and parts[2] == "api"
                if is_api and parts[1] != domain:
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offenders == []


def test_every_domain_is_under_the_import_contracts() -> None:
    """A new domain in tocsin.domains.DOMAINS is covered by import-linter's contracts, or fails."""
    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    contracts = {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}
    layers = contracts["layers: cli > app > web > domains > core"]["layers"]
    domain_layer = {name.strip() for name in layers[3].split(":")}
    independent = set(contracts["domains are independent but for the crossings listed"]
                      ["modules"])
    forbidden_to_core = set(contracts["core imports no domain"]["forbidden_modules"])
    for domain in DOMAINS:
        module = f"tocsin.{domain}"
        assert module in domain_layer, f"{module} missing from the layers contract"
        assert module in independent, f"{module} missing from the independence contract"
        assert module in forbidden_to_core, f"{module} missing from 'core imports no domain'"
    assert {d.split(".")[1] for d in domain_layer} == set(DOMAINS) == _domains() - {"demo"}


def strongly_connected(modules: Iterable[str],
                       imports_of: Callable[[str], Iterable[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan's algorithm,
    iterative: the graph is deep enough to exhaust Python's recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(modules):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = []

        def enter(module: str) -> None:
            index[module] = low[module] = len(index)
            stack.append(module)
            on_stack.add(module)
            work.append((module, sorted(imports_of(module))))

        enter(root)
        while work:
            module, todo = work[-1]
            if todo:
                target = todo.pop()
                if target not in index:
                    enter(target)
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _cycle_through(graph: grimp.ImportGraph, component: list[str]) -> str:
    """One cycle of the component, spelled out for the failure message."""
    first, members = component[0], set(component)
    for target in sorted(graph.find_modules_directly_imported_by(first) & members):
        back = graph.find_shortest_chain(importer=target, imported=first)
        if back:
            return " -> ".join((first, *back))
    return ", ".join(component)


def test_no_import_cycle() -> None:
    graph = grimp.build_graph("tocsin", cache_dir=None)
    cycles = strongly_connected(graph.modules, graph.find_modules_directly_imported_by)
    assert cycles == [], "import cycles (break each: move the shared helper to a leaf module, " \
        "or pass a function in):\n" + "\n".join(
            f"{len(c)} modules: {_cycle_through(graph, c)}" for c in cycles)


def test_the_cycle_finder_finds_cycles() -> None:
    """The check above can fail: a planted two-module and three-module cycle are found, a
    diamond (two paths to one module, no way back) is not a cycle."""
    edges = {"a": {"b"}, "b": {"a", "c"}, "c": {"d"}, "d": {"e"}, "e": {"c"},
             "f": {"g", "h"}, "g": {"i"}, "h": {"i"}, "i": set()}
    assert sorted(strongly_connected(edges, lambda m: edges[m])) == [["a", "b"], ["c", "d", "e"]]

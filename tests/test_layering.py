"""The package's layering, checked from its imports (module level and inside functions alike).

Layers, bottom to top: the shared vocabulary (pointer, model, failures), the contract, the
sandbox, the runtime stages of an exchange, and the top (definitions, suites, plugin, tools). A
module may import its own folder and any layer below its own, never one above; the sandbox and the
runtime stages never import each other. ``EXCEPTIONS`` names the few edges allowed beyond that.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "conformance"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

# Each unit (a top-level module or folder of the package) and its layer; a higher layer may import a lower one.
LAYERS: dict[str, int] = {
    "pointer": 0,
    "model": 0,
    "failures": 0,
    "contract": 1,
    "sandbox": 2,
    "variants": 3,
    "transport": 3,
    "cassettes": 3,
    "scrubbing": 3,
    "checks": 3,
    "deliveries": 3,
    "report": 3,
    "session": 3,
    "definitions": 4,
    "suites": 4,
    "plugin": 4,
    "tools": 4,
}
# Pairs of units that never import each other, whatever their layers.
APART: dict[str, frozenset[str]] = {
    "sandbox": frozenset(
        {"variants", "transport", "cassettes", "scrubbing", "checks", "deliveries", "report", "session"}
    ),
}
# Units of the top layer that may not import the sandbox: only the modules in EXCEPTIONS may.
NO_SANDBOX = frozenset({"definitions", "suites", "plugin"})
# (importer, imported unit or module): allowed beyond the table, with the reason.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("conformance.plugin.sandbox_fixture", "sandbox"): "the sunco_sandbox fixture serves the sandbox to other projects",
}
# The package's face and entry points sit outside the layers: they import what they expose.
OUTSIDE = frozenset({PACKAGE, f"{PACKAGE}.__main__", f"{PACKAGE}._startup"})

# Cycles other work removes (the session's parts, the generic suite): the integrator empties this
# list once it is merged. Any cycle not listed here fails, and so does a listed one that is gone.
KNOWN_CYCLES: list[frozenset[str]] = []
# What importing the sandbox must not load: the runtime's libraries and its stages.
SANDBOX_MUST_NOT_LOAD = ("vcr", "hypothesis", "requests", "urllib3", "pytest")


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


@dataclass(frozen=True)
class Broken:
    importer: str
    imported: str
    line: int
    rule: str

    def __str__(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.imported}: {self.rule}"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports_of(source: str, importer: str, known: Iterable[str], is_package: bool = False) -> list[Import]:
    """Every import of the package's modules in ``source``, wherever it stands (functions included).

    ``from a import b`` is an import of ``a.b`` when that is a module, else of ``a``.
    """
    known = set(known)
    found: list[Import] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, importer, is_package)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for name in names:
            # `import a.b.c` names a.b.c; keep the longest prefix that is one of ours.
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != importer:
                found.append(Import(importer, name, node.lineno))
    return sorted(found, key=lambda edge: edge.line)


def import_graph(root: Path = ROOT) -> dict[str, list[Import]]:
    found = modules(root)
    return {
        name: imports_of(path.read_text(encoding="utf-8"), name, found, path.name == "__init__.py")
        for name, path in found.items()
    }


def _edges(graph: Mapping[str, Iterable[Import]]) -> dict[str, list[str]]:
    return {name: sorted({edge.imported for edge in out if edge.imported in graph}) for name, out in graph.items()}


def entangled(graph: Mapping[str, Iterable[Import]]) -> list[frozenset[str]]:
    """The modules caught in import cycles: each strongly connected component of more than one module."""
    edges = _edges(graph)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[frozenset[str]] = []

    def visit(start: str) -> None:
        # Tarjan's algorithm, iterative: the package's import chains are deeper than a test should recurse.
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
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
                    components.append(frozenset(component))

    for name in sorted(edges):
        if name not in index:
            visit(name)
    return sorted(components, key=sorted)


def one_cycle(component: frozenset[str], graph: Mapping[str, Iterable[Import]]) -> list[str]:
    """The shortest cycle through the component's first module (by name), to print."""
    edges, members, start = _edges(graph), component, min(component)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in edges[node]:
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if child in members and child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {component}")


def unit(module: str) -> str | None:
    if module in OUTSIDE:
        return None
    return module.split(".")[1]


def broken_rules(graph: Mapping[str, Iterable[Import]]) -> list[Broken]:
    broken = []
    for edges in graph.values():
        for edge in edges:
            rule = _rule_broken(edge)
            if rule is not None:
                broken.append(Broken(edge.importer, edge.imported, edge.line, rule))
    return broken


def _rule_broken(edge: Import) -> str | None:
    source, target = unit(edge.importer), unit(edge.imported)
    if source is None or target is None or source == target:
        return None
    if source not in LAYERS or target not in LAYERS:
        return f"{source if source not in LAYERS else target!r} has no layer: add it to LAYERS"
    if (edge.importer, target) in EXCEPTIONS or (edge.importer, edge.imported) in EXCEPTIONS:
        return None
    if target in APART.get(source, ()) or source in APART.get(target, ()):
        return "{} and {} never import each other".format(*sorted((source, target)))
    if source in NO_SANDBOX and target == "sandbox":
        return f"{source} does not import the sandbox (only the modules in EXCEPTIONS do)"
    if LAYERS[target] > LAYERS[source]:
        return f"{source} (layer {LAYERS[source]}) may not import {target} (layer {LAYERS[target]}, above it)"
    if LAYERS[target] == LAYERS[source] and LAYERS[source] < 3:
        return f"{source} and {target} share layer {LAYERS[source]}, whose units do not import each other"
    return None


GRAPH = import_graph()


def test_every_unit_of_the_package_has_a_layer():
    units = {unit(name) for name in GRAPH} - {None}
    assert units - set(LAYERS) == set(), "add the new unit to LAYERS"
    assert set(LAYERS) - units == set(), "a unit in LAYERS no longer exists"


def describe(component: frozenset[str], graph: Mapping[str, Iterable[Import]]) -> str:
    return " -> ".join(one_cycle(component, graph)) + f"  (the cycles join {', '.join(sorted(component))})"


def test_the_package_has_no_import_cycle_but_the_known_ones():
    found = entangled(GRAPH)
    new = [component for component in found if component not in KNOWN_CYCLES]
    assert new == [], "import cycles:\n" + "\n".join(describe(component, GRAPH) for component in new)
    gone = [sorted(known) for known in KNOWN_CYCLES if known not in found]
    assert gone == [], f"these cycles are gone: remove them from KNOWN_CYCLES: {gone}"


def test_no_import_breaks_the_layering():
    broken = broken_rules(GRAPH)
    assert broken == [], "layering broken:\n" + "\n".join(map(str, broken))


def loaded_beyond_the_sandbox(module: str) -> tuple[list[str], list[str]]:
    """What importing ``module`` in a fresh interpreter loads that the sandbox must not: our modules above
    the sandbox's layer, and the runtime's libraries."""
    probe = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert module in loaded
    above = {name for name, layer in LAYERS.items() if layer > LAYERS["sandbox"]}
    stages = sorted(name for name in loaded if name.startswith(f"{PACKAGE}.") and unit(name) in above)
    return stages, [name for name in SANDBOX_MUST_NOT_LOAD if name in loaded]


def test_importing_the_sandbox_loads_neither_the_runtime_nor_its_libraries():
    assert loaded_beyond_the_sandbox("conformance.sandbox") == ([], [])


def test_importing_a_runtime_stage_is_seen_to_load_the_runtime():
    stages, libraries = loaded_beyond_the_sandbox("conformance.cassettes.recording")
    assert "conformance.cassettes.recording" in stages
    assert {"vcr", "requests"} <= set(libraries)


# The rules themselves, on small made-up packages: each one fails when it should.


def graph_of(edges: dict[str, list[str]]) -> dict[str, list[Import]]:
    names = set(edges) | {target for targets in edges.values() for target in targets}
    return {name: [Import(name, target, 1) for target in edges.get(name, [])] for name in names}


def test_a_cycle_is_found_and_printed_from_its_first_module():
    graph = graph_of(
        {
            "conformance.session.session": ["conformance.variants.pins", "conformance.model"],
            "conformance.variants.pins": ["conformance.checks.verdicts"],
            "conformance.checks.verdicts": ["conformance.session.session"],
            "conformance.model": [],
        }
    )
    [component] = entangled(graph)
    assert component == {"conformance.checks.verdicts", "conformance.session.session", "conformance.variants.pins"}
    assert describe(component, graph) == (
        "conformance.checks.verdicts -> conformance.session.session -> conformance.variants.pins"
        " -> conformance.checks.verdicts  (the cycles join conformance.checks.verdicts,"
        " conformance.session.session, conformance.variants.pins)"
    )
    assert entangled(graph_of({"conformance.a.x": ["conformance.a.y"], "conformance.a.y": []})) == []


@pytest.mark.parametrize(
    ("importer", "imported", "rule"),
    [
        ("conformance.sandbox.cli", "conformance.tools.parser", "sandbox (layer 2) may not import tools (layer 4"),
        ("conformance.tools.coverage", "conformance.frobs.x", "'frobs' has no layer"),
        ("conformance.sandbox.server", "conformance.session.session", "sandbox and session never import each other"),
        ("conformance.transport.client", "conformance.sandbox.server", "sandbox and transport never import each other"),
        ("conformance.plugin.hooks", "conformance.sandbox", "plugin does not import the sandbox"),
        ("conformance.suites.generic.creating", "conformance.sandbox.store", "suites does not import the sandbox"),
        ("conformance.contract.schemas", "conformance.variants.draw", "contract (layer 1) may not import variants"),
        ("conformance.model", "conformance.failures", "model and failures share layer 0"),
        ("conformance.pointer", "conformance.contract", "pointer (layer 0) may not import contract (layer 1"),
    ],
)
def test_an_import_against_the_table_is_reported_with_its_rule(importer, imported, rule):
    [broken] = broken_rules({importer: [Import(importer, imported, 7)]})
    assert (broken.importer, broken.imported, broken.line) == (importer, imported, 7)
    assert rule in str(broken)


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("conformance.plugin.sandbox_fixture", "conformance.sandbox"),
        ("conformance.plugin.sandbox_fixture", "conformance.deliveries.receiver"),
        ("conformance.tools.record_sandbox", "conformance.sandbox.seeded"),
        ("conformance.session.session", "conformance.cassettes.recording"),
        ("conformance.sandbox.server", "conformance.contract.schemas"),
        ("conformance.sandbox.errors", "conformance.failures"),
        ("conformance.failures", "conformance.failures"),
        ("conformance", "conformance.session.session"),
        ("conformance.__main__", "conformance.tools.parser"),
    ],
)
def test_an_import_the_table_allows_is_not_reported(importer, imported):
    assert broken_rules({importer: [Import(importer, imported, 1)]}) == []


def test_imports_are_read_at_module_and_function_level_and_resolved_when_relative():
    source = (
        "import os\n"
        "from . import sibling\n"
        "from .sibling import thing\n"
        "from ..model import Variant\n"
        "import conformance.failures as failures\n"
        "def later():\n"
        "    from conformance.session import session\n"
        "    import conformance.tools.parser\n"
    )
    known = {
        "conformance",
        "conformance.model",
        "conformance.failures",
        "conformance.cassettes",
        "conformance.cassettes.sibling",
        "conformance.session",
        "conformance.session.session",
        "conformance.tools",
        "conformance.tools.parser",
    }
    found = [(edge.imported, edge.line) for edge in imports_of(source, "conformance.cassettes.files", known)]
    assert found == [
        ("conformance.cassettes.sibling", 2),
        ("conformance.cassettes.sibling", 3),
        ("conformance.model", 4),
        ("conformance.failures", 5),
        ("conformance.session.session", 7),
        ("conformance.tools.parser", 8),
    ]
    # In a package's __init__, one dot is the package itself.
    [edge] = imports_of("from .sibling import thing\n", "conformance.cassettes", known, is_package=True)
    assert edge.imported == "conformance.cassettes.sibling"

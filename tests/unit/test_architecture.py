"""The dependency rule of ARCHITECTURE.md, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import harness

PACKAGE = Path(harness.__file__).parent
# Programs in each SDK's own language, run in environments of their own: not harness modules.
DRIVERS = PACKAGE / "clients" / "drivers"


def _modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if DRIVERS not in p.parents]


# Who may import whom, by first-level module of ``harness``. Data flows one way:
# cli -> runner -> (scenarios, targets -> conductor) -> errors. Later layers (normalize, compare,
# report) must never import targets or the runner.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "schemas": set(),
    # The trace format: file names, atomic writes, reading and checking, trace sets.
    "traces": {"errors", "schemas"},
    # Where the shipped data lives (the library, lock files): package data or the checkout.
    "resources": {"errors"},
    # Conductor's statuses: which have ended, and when a JOIN's branches all have.
    "statuses": set(),
    "documents": {"errors", "schemas"},
    "conductor": {"errors"},
    "targets": {"errors", "conductor"},
    "scenarios": {"errors", "schemas", "documents"},
    "runner": {"errors", "schemas", "conductor", "scenarios", "targets", "__init__"},
    # Client drivers (programs in each SDK's language) built, and run through a recording
    # proxy against servers that the caller started.
    "clients": {"errors", "schemas", "targets", "runner", "__init__"},
    # Definitions in, scenario files out: reads servers through conductor, never starts one.
    "importer": {"errors", "schemas", "conductor", "scenarios"},
    # Generated scenarios (Hypothesis strategies, the search): no server, no comparison.
    "explore": {"errors"},
    # The comparison side never imports targets, runner or conductor: recorded traces
    # must be comparable with no server at all.
    "normalize": {"errors", "schemas", "documents"},
    "compare": {"errors", "schemas", "normalize"},
    "classify": {"errors", "schemas", "documents", "normalize", "compare"},
    "report": {"errors", "schemas", "normalize", "compare", "classify", "__init__"},
    # The main job: the only layer that joins running servers to comparing traces.
    "pipeline": {
        "errors",
        "schemas",
        "documents",
        "targets",
        "scenarios",
        "runner",
        "clients",
        "explore",
        "normalize",
        "compare",
        "classify",
        "report",
        "__init__",
    },
    "cli": {
        "pipeline",
        "importer",
        "errors",
        "schemas",
        "documents",
        "conductor",
        "targets",
        "scenarios",
        "runner",
        "clients",
        "normalize",
        "compare",
        "classify",
        "report",
        "__init__",
    },
    # The pytest plugin: a front end beside cli, over the same pipeline.
    "plugin": {
        "cli",
        "pipeline",
        "errors",
        "schemas",
        "targets",
        "scenarios",
        "runner",
        "__init__",
    },
    "__init__": {"errors"},
    "__main__": {"cli"},
}

# Base layers: every layer may use them (ALLOWED says which base layers each one uses).
BASE = {"errors", "schemas", "documents", "traces", "resources", "statuses"}


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "harness" and len(parts) > 1:
                found.add(parts[1])
            elif parts[0] == "harness":
                found.add("__init__")
    return found


def test_every_module_respects_the_dependency_rule() -> None:
    problems = []
    for path in _modules():
        layer = _layer(path)
        assert layer in ALLOWED, f"{path}: layer '{layer}' is missing from ALLOWED"
        allowed = ALLOWED[layer] | (set() if layer in BASE else BASE)
        for used in _imported_layers(path) - {layer} - allowed:
            problems.append(f"{path.relative_to(PACKAGE)} imports harness.{used}")
    assert not problems, "\n".join(problems)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the harness modules it imports, anywhere in it (functions included).
    ``from a.b import c`` is an edge to the module a.b.c if there is one, else to a.b."""
    paths = {_module_name(p): p for p in _modules()}

    def known(name: str) -> str:
        while name not in paths and "." in name:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                source = ".".join(n for n in (base, node.module or "") if n)
                names = [f"{source}.{a.name}" for a in node.names]
                names = [n if n in paths else source for n in names]
            edges |= {known(n) for n in names if n.split(".")[0] == "harness"}
        graph[module] = edges - {module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = [stack.pop()]
            while component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _loop(graph: dict[str, set[str]], component: list[str]) -> str:
    """One cycle through the component, as 'a -> b -> a'."""
    start, inside = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for other in sorted(graph[node] & inside):
            if other == start:
                return " -> ".join([*paths[node], start])
            if other not in paths:
                paths[other] = [*paths[node], other]
                queue.append(other)
    return " <-> ".join(component)


def test_the_import_graph_has_no_cycle() -> None:
    graph = _import_graph()
    assert "harness.targets.docker.warm" in graph["harness.targets.docker"]  # in a function
    cycles = [_loop(graph, c) for c in _cycles(graph)]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_cycle_finder_names_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _loop(graph, ["a", "b", "c"]) == "a -> b -> c -> a"


def test_modules_stay_small() -> None:
    sizes = {p: len(p.read_text().splitlines()) for p in _modules()}
    assert not {str(p): n for p, n in sizes.items() if n > 400}


def test_public_names_are_exactly_all() -> None:
    import harness.classify
    import harness.compare
    import harness.documents
    import harness.importer
    import harness.normalize
    import harness.pipeline
    import harness.report
    import harness.runner
    import harness.scenarios
    import harness.targets

    for module in (
        harness,
        harness.targets,
        harness.scenarios,
        harness.runner,
        harness.documents,
        harness.importer,
        harness.normalize,
        harness.compare,
        harness.classify,
        harness.report,
        harness.pipeline,
    ):
        public = {n for n in vars(module) if not n.startswith("_")} - {"annotations"}
        submodules = {n for n in public if type(getattr(module, n)).__name__ == "module"}
        assert set(module.__all__) - {"__version__"} == public - submodules

"""The dependency rule of ARCHITECTURE.md, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import harness

PACKAGE = Path(harness.__file__).parent

# Who may import whom, by first-level module of ``harness``. Data flows one way:
# cli -> runner -> (scenarios, targets -> conductor) -> errors. Later layers (normalize, compare,
# report) must never import targets or the runner.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "schemas": set(),
    "documents": {"errors", "schemas"},
    "conductor": {"errors"},
    "targets": {"errors", "conductor"},
    "scenarios": {"errors", "schemas", "documents"},
    "runner": {"errors", "schemas", "conductor", "scenarios", "targets", "__init__"},
    # Definitions in, scenario files out: reads servers through conductor, never starts one.
    "importer": {"errors", "schemas", "conductor", "scenarios"},
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
        "normalize",
        "compare",
        "classify",
        "report",
        "__init__",
    },
    "__init__": {"errors"},
    "__main__": {"cli"},
}


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
    for path in PACKAGE.rglob("*.py"):
        layer = _layer(path)
        assert layer in ALLOWED, f"{path}: layer '{layer}' is missing from ALLOWED"
        for used in _imported_layers(path) - {layer} - ALLOWED[layer]:
            problems.append(f"{path.relative_to(PACKAGE)} imports harness.{used}")
    assert not problems, "\n".join(problems)


def test_modules_stay_small() -> None:
    sizes = {p: len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
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

"""Find scenario files, validate them and build ``Scenario`` objects.

Validation happens in three passes, each reporting every problem it finds with its
file, line and column: the YAML itself (source.py), the JSON Schema
(diagnostics.py), then the checks no schema can express (checks.py): names that
must exist, file references that must stay inside the scenario root, HTTP tasks
that must call the local stub.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.documents.diagnostics import schema_problems
from harness.documents.limits import Limits
from harness.documents.source import Problem, Source, SourceError, read_source
from harness.errors import BadInputError
from harness.scenarios import checks
from harness.scenarios.definitions import (
    HARNESS_TASK_DEFAULTS,
    WORKFLOW_DEFAULTS,
    is_worker_task,
    iter_tasks,
)
from harness.scenarios.model import (
    DEFAULT_SCENARIO_S,
    DEFAULT_SETTLE_S,
    Applicability,
    Scenario,
    Step,
    WorkerRule,
    WorkerSpec,
)

SCENARIO_SUFFIXES = (".yaml", ".yml")
STEP_OPTIONS = ("name", "settle", "expect_status")


class ScenarioError(BadInputError):
    """One or more scenario files are invalid; ``problems`` locate each mistake."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        count = len(problems)
        files = len({p.file for p in problems})
        super().__init__(
            f"{count} problem{'s' * (count != 1)} in {files} scenario file{'s' * (files != 1)}",
            details=[p.render() for p in problems],
        )
        self.problems = list(problems)


@dataclass(slots=True)
class Loaded:
    scenarios: list[Scenario] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0  # scenario files found


def discover(paths: Iterable[Path]) -> list[tuple[Path, Path]]:
    """Scenario files under ``paths``, each with its root (the folder it was found in)."""
    found: list[tuple[Path, Path]] = []
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.suffix in SCENARIO_SUFFIXES):
                found.append((file, path))
        elif path.is_file():
            found.append((path, path.parent))
        else:
            raise BadInputError(f"no such file or folder: {path}")
    return found


def load_all(
    paths: Iterable[Path], *, allow_outbound: bool = False, limits: Limits | None = None
) -> Loaded:
    """Load every scenario under ``paths``; problems are collected, not raised.

    ``limits`` defaults to ``Limits.from_environment()``.
    """
    limits = Limits.from_environment() if limits is None else limits
    loaded = Loaded()
    seen: dict[str, Path] = {}
    found = discover(paths)
    loaded.files = len(found)
    for file, root in found:
        try:
            scenario = _load_scenario(file, root, allow_outbound, limits)
        except ScenarioError as exc:
            loaded.problems.extend(exc.problems)
            continue
        if scenario.name in seen and seen[scenario.name] != file:
            loaded.problems.append(
                Problem(
                    str(file),
                    1,
                    1,
                    f"scenario name '{scenario.name}' is also used by {seen[scenario.name]}",
                    "name",
                )
            )
            continue
        seen[scenario.name] = file
        loaded.scenarios.append(scenario)
    return loaded


def load_scenario(
    file: Path, root: Path | None = None, *, allow_outbound: bool = False
) -> Scenario:
    """Parse, validate and resolve one scenario file; raises ``ScenarioError``."""
    return _load_scenario(file, root, allow_outbound, Limits.from_environment())


def _load_scenario(file: Path, root: Path | None, allow_outbound: bool, limits: Limits) -> Scenario:
    root = (root or file.parent).resolve()
    try:
        source = read_source(file, limits)
    except SourceError as exc:
        raise ScenarioError(exc.problems) from exc
    if not isinstance(source.data, dict):
        raise ScenarioError(
            [source.problem((), "a scenario is a mapping of fields (name, steps, ...)")]
        )
    problems = schema_problems(source)
    if problems:
        raise ScenarioError(problems)
    doc: dict[str, Any] = source.data
    resolver = checks.References(source, root, limits)
    defaults = {**HARNESS_TASK_DEFAULTS, **doc.get("task_defaults", {})}
    definitions = doc.get("definitions", {})
    task_defs = resolver.resolve(definitions.get("task_defs", []), ("definitions", "task_defs"))
    workflows = resolver.resolve(definitions.get("workflows", []), ("definitions", "workflows"))
    step_workflows: list[checks.Located] = []
    for step_index, step in enumerate(doc["steps"]):
        for kind in ("register", "update"):
            change = step.get(kind) if isinstance(step, dict) else None
            if isinstance(change, dict):
                for key in ("task_defs", "workflows"):
                    resolved = resolver.resolve(
                        change.get(key, []), ("steps", step_index, kind, key)
                    )
                    change[key] = [item.data for item in resolved]
                    if key == "workflows":
                        step_workflows += resolved
    problems = [*resolver.problems]
    all_task_defs = _task_defs([t.data for t in task_defs], [w.data for w in workflows], defaults)
    workflow_docs = [{**WORKFLOW_DEFAULTS, **w.data} for w in workflows]
    problems += checks.check(
        source,
        task_defs=task_defs,
        workflows=workflows,
        worker_tasks=_worker_task_names(all_task_defs, workflow_docs),
        allow_outbound=allow_outbound,
        step_workflows=step_workflows,
        limits=limits,
    )
    steps, step_problems = _steps(source)
    problems += step_problems
    problems += _step_references(source, steps)
    if problems:
        raise ScenarioError(sorted(problems, key=lambda p: (p.file, p.line, p.column)))
    document = {
        **doc,
        "definitions": {"task_defs": all_task_defs, "workflows": workflow_docs},
    }
    digest = hashlib.sha256(
        json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    timeouts = doc.get("timeouts", {})
    return Scenario(
        name=doc["name"],
        file=file,
        digest=digest,
        document=document,
        description=doc.get("description", ""),
        tags=tuple(doc.get("tags", [])),
        applies_to={k: _applicability(v) for k, v in doc.get("applies_to", {}).items()},
        settle_s=float(timeouts.get("settle_s", DEFAULT_SETTLE_S)),
        scenario_s=float(timeouts.get("scenario_s", DEFAULT_SCENARIO_S)),
        allow_outbound=bool(doc.get("allow_outbound", False)),
        outbound_hosts=tuple(_hosts(doc.get("allow_outbound"))),
        task_defs=tuple(all_task_defs),
        workflows=tuple(workflow_docs),
        workers=_workers(doc.get("workers", {}), all_task_defs, workflow_docs, steps),
        routes=tuple(doc.get("http_stub", {}).get("routes", [])),
        steps=steps,
        capture={"task_logs": True, "queue_sizes": True, "running": True, **doc.get("capture", {})},
        compare=dict(doc.get("compare", {})),
        switch_after=_step_indices(doc.get("upgrade", {}).get("switch_after"), steps),
    )


def _applicability(value: Any) -> Applicability:
    if isinstance(value, str):
        return Applicability(value)
    return Applicability(value["versions"], value.get("reason"))


def _task_defs(
    declared: list[dict[str, Any]], workflows: list[dict[str, Any]], defaults: dict[str, Any]
) -> list[dict[str, Any]]:
    """Declared task definitions plus one for every worker task only named in a workflow."""
    result = [{**defaults, **d} for d in declared]
    names = {d["name"] for d in result}
    for workflow in workflows:
        for task in iter_tasks(workflow.get("tasks")):
            name = task.get("name")
            if is_worker_task(task) and isinstance(name, str) and name not in names:
                result.append({**defaults, "name": name})
                names.add(name)
    return result


def _worker_task_names(
    task_defs: list[dict[str, Any]], workflows: list[dict[str, Any]]
) -> set[str]:
    names = {str(t["name"]) for t in task_defs}
    for workflow in workflows:
        for task in iter_tasks(workflow.get("tasks")):
            if is_worker_task(task) and isinstance(task.get("name"), str):
                names.add(task["name"])
    return names


def _int_set(value: Any) -> frozenset[int] | None:
    if value is None:
        return None
    return frozenset(value if isinstance(value, list) else [value])


def _workers(
    raw: dict[str, Any],
    task_defs: list[dict[str, Any]],
    workflows: list[dict[str, Any]],
    steps: tuple[Step, ...],
) -> dict[str, WorkerSpec]:
    specs: dict[str, WorkerSpec] = {}
    for name, body in raw.items():
        rules = []
        for rule in body.get("script", []):
            when = rule.get("when", {})
            does = rule["do"]
            rules.append(
                WorkerRule(
                    actions=tuple(does if isinstance(does, list) else [does]),
                    ref=when.get("ref"),
                    attempt=_int_set(when.get("attempt")),
                    iteration=_int_set(when.get("iteration")),
                    delivery=_int_set(when.get("delivery")),
                    output=rule.get("output"),
                    reason=rule.get("reason"),
                    callback_after_seconds=rule.get("callback_after_seconds"),
                    logs=tuple(rule.get("logs", [])),
                    delay_ms=int(rule.get("delay_ms", 0)),
                )
            )
        specs[name] = WorkerSpec(
            name,
            body.get("poll", True),
            body.get("domain"),
            tuple(rules),
            _step_index(body.get("poll_from"), steps),
        )
    for name in sorted(_worker_task_names(task_defs, workflows) - set(specs)):
        specs[name] = WorkerSpec(name)
    return specs


def _steps(source: Source) -> tuple[tuple[Step, ...], list[Problem]]:
    steps: list[Step] = []
    problems: list[Problem] = []
    for index, raw in enumerate(source.data["steps"]):
        actions = [k for k in raw if k not in STEP_OPTIONS]
        path = ("steps", index)
        if len(actions) != 1:
            found = ", ".join(actions) or "none"
            problems.append(source.problem(path, f"a step has exactly one action; found {found}"))
            continue
        action = actions[0]
        steps.append(
            Step(
                index=index,
                action=action,
                args=raw[action],
                line=source.position(path)[0],
                name=raw.get("name"),
                settle=raw.get("settle", True),
                expect_status=raw.get("expect_status"),
            )
        )
    return tuple(steps), problems


def _step_references(source: Source, steps: tuple[Step, ...]) -> list[Problem]:
    """Fields that name a step, by number (1 for the first) or by name: each names one."""
    data = source.data
    switch = data.get("upgrade", {}).get("switch_after")
    fields: list[tuple[Any, tuple[Any, ...]]] = (
        [(s, ("upgrade", "switch_after", i)) for i, s in enumerate(switch)]
        if isinstance(switch, list)
        else [(switch, ("upgrade", "switch_after"))]
    )
    for worker, body in (data.get("workers") or {}).items():
        if isinstance(body, dict):
            fields.append((body.get("poll_from"), ("workers", worker, "poll_from")))
    problems = []
    for wanted, path in fields:
        if wanted is None:
            continue
        if isinstance(wanted, int):
            if wanted > len(steps):
                there = f"there is no step {wanted}: {len(steps)} steps"
                problems.append(source.problem(path, there))
            continue
        named = [s for s in steps if s.name == wanted]
        if len(named) != 1:
            how = "no step is" if not named else f"{len(named)} steps are"
            problems.append(source.problem(path, f"{how} named {wanted!r}"))
    return problems


def _step_index(wanted: int | str | None, steps: tuple[Step, ...]) -> int | None:
    """A step named by number (1 for the first) or name, as its index (checked before)."""
    if wanted is None:
        return None
    if isinstance(wanted, int):
        return wanted - 1
    return next(s.index for s in steps if s.name == wanted)


def _step_indices(wanted: Any, steps: tuple[Step, ...]) -> tuple[int, ...]:
    """Steps named by number or name, one or a list, as their indices in step order."""
    given = wanted if isinstance(wanted, list) else [] if wanted is None else [wanted]
    return tuple(sorted({i for w in given if (i := _step_index(w, steps)) is not None}))


def require_valid(
    paths: Iterable[Path], *, allow_outbound: bool = False, limits: Limits | None = None
) -> list[Scenario]:
    """Load ``paths``; raise ``ScenarioError`` listing every problem if any file is invalid."""
    loaded = load_all(paths, allow_outbound=allow_outbound, limits=limits)
    if loaded.problems:
        raise ScenarioError(loaded.problems)
    if not loaded.scenarios:
        raise BadInputError("no scenario files (*.yaml, *.yml) found")
    return loaded.scenarios


def _hosts(allowed: Any) -> list[str]:
    """The HOST:PORT list of ``allow_outbound`` (``true`` declares none)."""
    return [str(h) for h in allowed] if isinstance(allowed, list) else []

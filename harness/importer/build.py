"""From a set of definitions to one scenario per workflow, with unique names."""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from harness.importer.assemble import Imported, assemble
from harness.importer.network import MissingUri
from harness.importer.sources import Definition, DefinitionError, DefinitionSet
from harness.schemas import load_schema

NAME_LIMIT = 80  # the scenario schema's name pattern allows 80 characters


def slug(text: str) -> str:
    """``text`` as a scenario name part: lower case, ``[a-z0-9_.-]``."""
    cleaned = re.sub(r"[^a-z0-9_.-]+", "-", text.lower()).strip("-_.")
    return cleaned or "workflow"


def _stem(origin: str) -> str:
    return re.sub(r"\.json$", "", origin.rstrip("/").rsplit("/", 1)[-1], flags=re.I)


def scenario_names(workflows: list[Definition], prefix: str = "") -> list[str]:
    """A unique name per workflow: its own, then ``-vN`` when several versions share a
    file, then ``<file>.`` in front when several files define it."""
    files_of: dict[str, set[str]] = {}
    versions_of: Counter[tuple[str, str]] = Counter()
    for workflow in workflows:
        files_of.setdefault(slug(workflow.name), set()).add(workflow.origin)
        versions_of[(workflow.origin, workflow.name)] += 1
    names: list[str] = []
    for workflow in workflows:
        base = slug(workflow.name)
        if versions_of[(workflow.origin, workflow.name)] > 1:
            base += f"-v{workflow.version}"
        if len(files_of[slug(workflow.name)]) > 1:
            base = f"{slug(_stem(workflow.origin))}.{base}"
        names.append(_fit(slug(prefix + base) if prefix else base))
    counts = Counter(names)
    seen: Counter[str] = Counter()
    unique = []
    for name in names:  # the same name and version twice in one file
        seen[name] += 1
        unique.append(name if counts[name] == 1 else _fit(f"{name}-{seen[name]}"))
    return unique


def _fit(name: str) -> str:
    if len(name) <= NAME_LIMIT:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: NAME_LIMIT - 9]}-{digest}"


def has_child_step() -> bool:
    """Whether this version of the scenario format can name a sub-workflow's child."""
    steps = load_schema("scenario")["$defs"]["step"]["properties"]
    return "child" in steps


def build(
    definitions: DefinitionSet,
    *,
    prefix: str = "",
    only: Sequence[str] = (),
    inputs: Mapping[str, dict[str, Any]] | None = None,
) -> list[Imported]:
    """One scenario per workflow of ``definitions`` (those whose name matches a glob of
    ``only``, when given; the others still serve as children), each started with its
    input of ``inputs`` when it has one; raises ``DefinitionError``.

    Task definitions alone make no scenario: they serve the workflows imported with them."""
    chosen = [
        w
        for w in definitions.workflows
        if not only or any(fnmatch.fnmatchcase(w.name, glob) for glob in only)
    ]
    if not chosen and only:
        origins = sorted({d.origin for d in definitions.task_defs + definitions.workflows})
        raise DefinitionError(
            [f"{', '.join(origins) or 'the input'}: no workflow named like {', '.join(only)}"]
        )
    child_step = has_child_step()
    names = scenario_names(chosen, prefix)
    files = scenario_names(chosen)
    result: list[Imported] = []
    problems: list[str] = []
    for workflow, name, file_name in zip(chosen, names, files, strict=True):
        try:
            given = (inputs or {}).get(workflow.name)
            imported = assemble(workflow, definitions, name, child_step=child_step, given=given)
        except MissingUri as exc:
            problems.append(f"{workflow.where}: {exc}")
            continue
        imported.file_name = f"{file_name}.yaml"
        result.append(imported)
    if problems:
        raise DefinitionError(problems)
    return result

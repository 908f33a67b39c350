"""The ``merge`` job: the run folders of a sharded compare or gate (``--shard I/N``) joined
into one comparison, with no server.

    read every part: its run.json (the plan, and what the shard was cut from) and its
        report.json (how its run went); bad input fails here and names what is missing
        or mismatched: a folder that is not a shard, parts of other runs (plans that
        differ apart from the shard, another N, another scenario selection, another
        conductor-compat), a shard given twice or missing
    make ``out`` the run folder of the whole run: run.json (the plan, with no shard), and
        every part's traces linked under traces/<target>/ (copied across file systems)
    assess and report as ``diff`` does (``recorded.compare_recorded``), over the union of
        the parts' scenarios, with the parts' run sections joined

The report equals an unsharded run's over the same traces apart from run metadata:
``created_at``, ``command``, the run folder in trace paths and directories, and the
``run`` section's timings and ``shards``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import filecmp
import json
import os
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import BadInputError
from harness.pipeline import events as ev
from harness.pipeline.assemble import identity, settings_for
from harness.pipeline.outcome import Outcome
from harness.pipeline.plan import PLAN_FILE, Plan, RunFolder
from harness.pipeline.recorded import compare_recorded, recorded
from harness.pipeline.shard import Shard, partition
from harness.report import REPORT_FILE
from harness.traces import SUFFIX, TraceSet, load_trace_set, trace_files

IGNORED = ("shard", "command")  # what the plans of one run's shards may differ in


@dataclass(frozen=True, slots=True)
class Part:
    """One shard's run folder."""

    folder: RunFolder
    plan: Plan
    shard: Shard
    record: dict[str, Any]  # run.json's shard: what it was cut from (shard.record)
    report: dict[str, Any]  # its report.json

    @property
    def run(self) -> dict[str, Any]:
        run = self.report.get("run")
        return run if isinstance(run, dict) else {}

    @property
    def complete(self) -> bool:
        return self.report.get("complete") is True


def read_part(root: Path) -> Part:
    folder = RunFolder(root)
    if not folder.plan_file.is_file():
        raise BadInputError(
            f"{folder.root} is not a run folder ({PLAN_FILE} is missing); merge takes the run "
            "folders of `compare --shard I/N` or `gate --shard I/N`"
        )
    plan, record = folder.load_all()
    if plan.shard is None or record is None:
        raise BadInputError(
            f"{folder.root} is not a shard: its {plan.kind} run was not given --shard I/N"
        )
    shard = Shard.parse(plan.shard)
    try:
        valid = (record["index"], record["count"]) == (shard.index, shard.count)
        valid = valid and all(isinstance(record[k], list) for k in ("scenarios", "compared"))
    except (KeyError, TypeError):
        valid = False
    if not valid or not isinstance(record.get("selection"), dict):
        raise BadInputError(f"{folder.plan_file}: its shard record is damaged")
    path = folder.root / REPORT_FILE
    if not path.is_file():
        raise BadInputError(
            f"{folder.root} has no {REPORT_FILE}: shard {shard} never finished; finish it "
            f"with `conductor-compat {plan.kind} --resume {folder.root}`, then merge"
        )
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInputError(f"{path}: not a readable report ({exc})") from exc
    if not isinstance(report, dict):
        raise BadInputError(f"{path}: not a report")
    return Part(folder, plan, shard, record, report)


def check(parts: Sequence[Part]) -> None:
    """The parts are the shards of one run, each once, all of them."""
    first = parts[0]
    seen: dict[Path, Part] = {}
    for part in parts:
        if part.folder.root in seen:
            raise BadInputError(f"{part.folder.root} is given twice")
        seen[part.folder.root] = part
        _same_run(first, part)
    count = first.shard.count
    by_index: dict[int, Part] = {}
    for part in parts:
        other = by_index.setdefault(part.shard.index, part)
        if other is not part:
            raise BadInputError(
                f"shard {part.shard} is given twice: {other.folder.root} and {part.folder.root}"
            )
    missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in by_index]
    if missing:
        given = ", ".join(str(by_index[i].shard) for i in sorted(by_index))
        raise BadInputError(
            f"shard{'s' * (len(missing) > 1)} {', '.join(missing)} "
            f"{'are' if len(missing) > 1 else 'is'} missing (given: {given}); merge needs "
            "the run folder of every shard"
        )
    names = [n for p in parts for n in p.record["scenarios"]]
    expected = partition(names, count)
    total = first.record["selection"].get("scenarios")
    for part in parts:
        if sorted(part.record["scenarios"]) != expected[part.shard.index - 1]:
            raise BadInputError(
                f"{part.folder.root} (shard {part.shard}) holds other scenarios than the "
                "others leave to it: the shards were not cut by the same rule"
            )
    if len(set(names)) != len(names) or len(names) != total:
        raise BadInputError(
            f"the shards hold {len(set(names))} distinct scenarios of the {total} they were "
            "cut from: the shards were not cut by the same rule"
        )


def _same_run(first: Part, part: Part) -> None:
    a, b = first.folder.root, part.folder.root
    differ = [
        f.name
        for f in dataclasses.fields(Plan)
        if f.name not in IGNORED and getattr(first.plan, f.name) != getattr(part.plan, f.name)
    ]
    if differ:
        name, others = differ[0], differ[1:]
        raise BadInputError(
            f"{b} is not a shard of the run {a} is: their plans (run.json) differ: {name} is "
            f"{getattr(part.plan, name)!r}, not {getattr(first.plan, name)!r}"
            + (f"; and {', '.join(others)}" if others else "")
        )
    if part.shard.count != first.shard.count:
        raise BadInputError(
            f"{b} is shard {part.shard} and {a} is shard {first.shard}: the shards of one run "
            "are cut into the same number of parts"
        )
    if part.record["selection"] != first.record["selection"]:
        sizes = [p.record["selection"].get("scenarios") for p in (first, part)]
        raise BadInputError(
            f"{b} and {a} were cut from other scenario files ({sizes[1]} and {sizes[0]} "
            "scenarios, or the same names with other contents): run every shard on the same "
            "checkout"
        )
    versions = [p.report.get("harness_version") for p in (first, part)]
    if versions[0] != versions[1]:
        raise BadInputError(
            f"{b} was made by conductor-compat {versions[1]} and {a} by {versions[0]}: run "
            "every shard with the same version"
        )


def link_traces(part: Part, target: str, out: RunFolder) -> int:
    """The part's traces of its own scenarios into ``out``'s folder of ``target``."""
    source, into = part.folder.traces(target), out.traces(target)
    own = set(part.record["scenarios"])
    linked = 0
    for path in trace_files(source):
        stem = path.name.removesuffix(SUFFIX)
        if stem not in own and re.sub(r"\.run\d+$", "", stem) not in own:
            continue  # not one of this shard's scenarios
        copy = into / path.relative_to(source)
        if copy.exists():  # linked by a merge that failed later, or a clash
            if filecmp.cmp(path, copy, shallow=False):
                continue
            raise BadInputError(f"{copy.relative_to(out.root)} is in two shards' traces")
        copy.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, copy)
        except OSError:
            shutil.copy2(path, copy)
        linked += 1
    return linked


def link_all(whole: Plan, parts: Sequence[Part], out: RunFolder) -> None:
    """Every part's traces into ``out``, the whole run's folder (its run.json is written
    last, once the reports are: a merge that failed can be made again into it)."""
    live = ([whole.baseline] if whole.kind == "compare" else []) + list(whole.candidates)
    for part in parts:
        for target in live:
            link_traces(part, target, out)


def trace_sets(whole: Plan, out: RunFolder, names: set[str]) -> tuple[TraceSet, list[TraceSet]]:
    """The baseline's traces and each candidate's, of the scenarios compared."""
    if whole.kind == "gate":
        baseline = load_trace_set(Path(whole.baseline))
    else:
        baseline = load_trace_set(out.traces(whole.baseline), expected=identity(whole.baseline))
    candidates = [
        load_trace_set(out.traces(c), expected=identity(c)).restrict(names)
        for c in whole.candidates
    ]
    return baseline.restrict(names), candidates


def joined_run(whole: Plan, parts: Sequence[Part], out: RunFolder) -> dict[str, Any]:
    """report.json's ``run``: the parts' own, joined (timings: the longest shard's)."""
    runs = [p.run for p in parts]
    seconds = [r["seconds"] for r in runs if r.get("seconds") is not None]
    return {
        "kind": whole.kind,
        "directory": str(out.root),
        "seconds": max(seconds) if seconds else None,
        "interrupted": "; ".join(
            f"shard {p.shard}: {p.run['interrupted']}" for p in parts if p.run.get("interrupted")
        )
        or None,
        "server_deaths": [d for r in runs for d in r.get("server_deaths") or []],
        "targets": [_target(t, runs) for t in [whole.baseline, *whole.candidates]],
        "pending": [p for r in runs for p in r.get("pending") or []],
        "unused_baselines": sorted({n for r in runs for n in r.get("unused_baselines") or []}),
        "no_baseline": sorted({n for r in runs for n in r.get("no_baseline") or []}),
        "shards": [
            {
                "shard": str(p.shard),
                "directory": str(p.folder.root),
                "complete": p.complete,
                "seconds": p.run.get("seconds"),
            }
            for p in sorted(parts, key=lambda p: p.shard.index)
        ],
    }


def _target(target: str, runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One target's line of ``run.targets``: counts summed, restarts listed, the slowest
    start."""
    entries = [e for r in runs for e in r.get("targets") or [] if e.get("target") == target]
    joined: dict[str, Any] = dict(entries[0]) if entries else {"target": target}
    for key in ("runs", "rechecks", "blocked"):
        values = [e[key] for e in entries if e.get(key) is not None]
        if values:
            joined[key] = sum(values)
    if "restarts" in joined:
        joined["restarts"] = [r for e in entries for r in e.get("restarts") or []]
    starts = [e["start_seconds"] for e in entries if e.get("start_seconds") is not None]
    if "start_seconds" in joined:
        joined["start_seconds"] = max(starts) if starts else None
    isolations = list(dict.fromkeys(e["isolation"] for e in entries if e.get("isolation")))
    if isolations:
        joined["isolation"] = "; ".join(isolations)
    return joined


async def merge(plan: Plan, emit: ev.Emit) -> Outcome:
    """``plan.paths``: the shards' run folders; ``plan.out``: the whole run's folder."""
    began = time.monotonic()
    out = RunFolder(Path(plan.out or "."))
    if out.plan_file.exists():
        raise BadInputError(f"{out.root} already holds a run; choose another --out")
    parts = [await asyncio.to_thread(read_part, Path(p)) for p in plan.paths]
    check(parts)
    whole = dataclasses.replace(parts[0].plan, shard=None, command=plan.command)
    if whole.kind == "gate" and not Path(whole.baseline).is_dir():
        raise BadInputError(
            f"the recorded baselines {whole.baseline} are not on this machine: merge reads "
            "them where the shards did"
        )
    settings = await asyncio.to_thread(settings_for, whole)  # bad judgement files: before out
    await asyncio.to_thread(link_all, whole, parts, out)
    names = {n for p in parts for n in p.record["compared"]}
    baseline, candidates = await asyncio.to_thread(trace_sets, whole, out, names)
    emit(
        ev.RunPlanned(
            out.root,
            len(names),
            (recorded(baseline, "baseline"), *(recorded(c, "candidate") for c in candidates)),
            False,
            plan,
        )
    )
    outcome = await compare_recorded(
        plan,
        baseline,
        candidates,
        emit,
        out=out.root,
        settings=settings,
        began=began,
        names=sorted(names),
        complete=all(p.complete for p in parts),
        run=joined_run(whole, parts, out),
    )
    out.save(whole)
    return outcome

"""The comparison's outputs are the same with this checkout's code as with another's.

Every trace under fixtures/ (the directories of ``*.trace.json`` and the ``*.tar.xz``
archives) is scrubbed under three specs: the shipped one; one with drop, drop-empty,
drop-default, integral-numbers, sort and conditional rules and index-specific patterns;
and the shipped one with sorted lists, as a scenario's ``compare.unordered`` gives them.
Compared, output by output: the scrubbed trace, its rule counts and symbols, its views
(ordered and not); the diffs of every pair of traces of the same scenario (ordered
views, each spec); traces altered at random (seeded: values changed, retyped, dropped,
keys reordered, tasks copied) scrubbed and diffed against their originals; and
``diff_scale.py``'s pairs of 1,000 and 10,000 tasks. Each output is written with
``repr`` (types, key order and all) and compared by its SHA-256.

    .venv/bin/python benchmarks/diff_identity.py --against /tmp/diff-head

Each side runs in a process of its own, with ``PYTHONPATH`` at its checkout; prints how
many outputs were compared and how many differ (exit 1 when any does).
"""

from __future__ import annotations

import argparse
import copy
import gc
import hashlib
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SUFFIX = ".trace.json"  # harness/traces.py
SEED = 20261205
ALTERED = 1  # altered copies of each trace, under each of the first two specs

EXTRA_SPEC = """
scrub_format: 1
name: identity extra rules
version: 1
rules:
  - {name: x-drop, kind: drop, why: test,
     fields: ["**.workerId", "steps[*].snapshots[*].tasks[1].seq"]}
  - {name: x-empty, kind: drop-empty, why: test,
     fields: ["**.inputData", "**.taskToDomain", "**.*Keys"]}
  - {name: x-default, kind: drop-default, why: test, defaults: [0, false, "", null],
     fields: ["**.startDelay", "**.optional", "**.callbackAfterSeconds", "**.tasks[0].*"]}
  - {name: x-integral, kind: integral-numbers, why: test, fields: ["**"]}
  - {name: x-sort, kind: sort, why: test, fields: ["**.inputKeys", "**.outputKeys", "**.tasks"]}
  - {name: x-count, kind: counters, why: test, fields: ["**.retryCount", "**.seq"],
     when: {status: [COMPLETED, FAILED]}}
  - {name: x-flag, kind: flags, why: test, fields: ["**.retried", "**.executed"],
     when: {taskType: [SIMPLE, cc_flaky, HTTP], status: [null, FAILED]}}
  - {name: x-order, kind: timestamps, why: test, fields: ["**.lastRetriedTime"],
     order: [[scheduledTime, updateTime, lastRetriedTime]]}
"""


def traces(scratch: Path) -> dict[str, list[Path]]:
    """Every trace file under fixtures/ (archives unpacked into ``scratch``), by scenario,
    each list in a fixed order."""
    files = sorted(FIXTURES.rglob(f"*{SUFFIX}"))
    for archive in sorted(FIXTURES.rglob("*.tar.xz")):
        where = scratch / archive.relative_to(FIXTURES)
        with tarfile.open(archive) as tar:
            tar.extractall(where, filter="data")
        files += sorted(where.rglob(f"*{SUFFIX}"))
    scenarios: dict[str, list[Path]] = {}
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            scenario = str((data.get("scenario") or {}).get("name"))
            scenarios.setdefault(scenario, []).append(path)
    return dict(sorted(scenarios.items()))


def digest(value: Any) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()


def specs(scratch: Path) -> dict[str, Any]:
    from harness.normalize import load_spec
    from harness.normalize.spec import with_sorted_lists

    extra = scratch / "extra.scrub.yaml"
    extra.write_text(EXTRA_SPEC)
    shipped = load_spec()
    unordered = ["exchanges[*].body", "**.tasks", "**.outputData.*", "steps[*].snapshots"]
    return {
        "shipped": shipped,
        "extra": load_spec([extra]),
        "sorted": with_sorted_lists(shipped, "scenario-unordered", unordered, "identity"),
    }


def alter(trace: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """``trace`` with a few values changed: what a scrub that reuses work must not miss."""
    out = copy.deepcopy(trace)
    places: list[tuple[Any, Any]] = []

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                places.append((value, key))
                visit(item)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                places.append((value, i))
                visit(item)

    for step in out.get("steps") or []:  # values, not the trace's own structure
        visit(step.get("snapshots"))
    for exchange in out.get("exchanges") or []:
        visit(exchange.get("body"))
    changes: list[Callable[[Any, Any], None]] = [_retype, _replace, _drop, _reorder, _copy]
    for _ in range(rng.randint(1, 12)):
        if not places:
            break
        holder, key = rng.choice(places)
        try:
            rng.choice(changes)(holder, key) if key in _keys(holder) else None
        except (KeyError, IndexError, TypeError):
            continue
    return out


def _keys(holder: Any) -> Any:
    return holder.keys() if isinstance(holder, dict) else range(len(holder))


def _retype(holder: Any, key: Any) -> None:
    value = holder[key]
    if isinstance(value, bool):
        holder[key] = int(value)
    elif isinstance(value, int):
        holder[key] = [float(value), -0.0 if value == 0 else value, value == 1][value % 3]
    elif isinstance(value, float):
        holder[key] = int(value) if value.is_integer() else -value
    elif isinstance(value, str):
        holder[key] = value.upper() if value != value.upper() else value + "x"
    elif value is None:
        holder[key] = 0


def _replace(holder: Any, key: Any) -> None:
    holder[key] = {"x": 1, "y": [1.0, True, None]} if key != "tasks" else []


def _drop(holder: Any, key: Any) -> None:
    if isinstance(holder, dict):
        del holder[key]
    else:
        holder.pop(key)


def _reorder(holder: Any, key: Any) -> None:
    value = holder[key]
    if isinstance(value, dict) and len(value) > 1:
        holder[key] = dict(reversed(list(value.items())))


def _copy(holder: Any, key: Any) -> None:
    if isinstance(holder, list):
        holder.insert(key, copy.deepcopy(holder[key]))


def emit() -> dict[str, str]:
    """This process's outputs: name -> SHA-256 of its repr."""
    from harness.compare import build_view, diff_views
    from harness.normalize import scrub_trace

    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="cc-identity-") as scratch:
        spec_of = specs(Path(scratch))
        for scenario, paths in traces(Path(scratch)).items():  # one scenario at a time
            gc.collect()  # the last one's scrub plans (cycles, left to full collections)
            loaded = [(_name(p, Path(scratch)), json.loads(p.read_text())) for p in paths]
            for label, spec in spec_of.items():
                views: dict[str, Any] = {}
                for name, trace in loaded:
                    scrubbed = scrub_trace(trace, spec)
                    at = f"{label} {name}"
                    out[f"scrubbed {at}"] = digest(scrubbed.trace)
                    out[f"summary {at}"] = digest(scrubbed.summary())
                    out[f"symbols {at}"] = digest(scrubbed.symbols)
                    view = views[name] = build_view(scrubbed.trace)
                    out[f"view {at}"] = digest(view)
                    out[f"unordered view {at}"] = digest(build_view(scrubbed.trace, ordered=False))
                for i, (a, _) in enumerate(loaded):
                    for b, _ in loaded[i + 1 :]:
                        found = diff_views(views[a], views[b])
                        out[f"diff {label} {scenario}: {a} vs {b}"] = digest(found)
                if label == "sorted":
                    continue
                for name, trace in loaded:
                    rng = random.Random(f"{SEED} {name}")  # the same under each spec
                    for n in range(ALTERED):
                        at = f"{label} {name} #{n}"
                        try:
                            _altered(out, at, alter(trace, rng), spec, views[name])
                        except (AttributeError, KeyError, IndexError, TypeError, ValueError) as e:
                            out[f"altered error {at}"] = f"{type(e).__name__}: {e}"
        out.update(_scale(spec_of["shipped"]))
    return out


def _name(path: Path, scratch: Path) -> str:
    return str(path.relative_to(scratch if scratch in path.parents else FIXTURES))


def _altered(out: dict[str, str], at: str, altered: dict[str, Any], spec: Any, base: Any) -> None:
    """An altered trace scrubbed, its view, and its diffs with its original's."""
    from harness.compare import build_view, diff_views
    from harness.normalize import scrub_trace

    scrubbed = scrub_trace(altered, spec)
    out[f"altered scrubbed {at}"] = digest(scrubbed.trace)
    out[f"altered summary {at}"] = digest(scrubbed.summary())
    view = build_view(scrubbed.trace)
    out[f"altered view {at}"] = digest(view)
    out[f"altered diff {at}"] = digest(diff_views(base, view))
    out[f"altered diff back {at}"] = digest(diff_views(view, base))


def _scale(spec: Any) -> dict[str, str]:
    """diff_scale.py's pairs: scrubbed, views, diffs."""
    from harness.compare import build_view, diff_views
    from harness.normalize import scrub_trace

    sys.path.insert(0, str(Path(__file__).parent))
    import diff_scale

    out: dict[str, str] = {}
    for size in (1000, 10000):
        left, right = diff_scale.grown("netflix-3.15.0", size), diff_scale.grown("oss-3.32.1", size)
        a, b = scrub_trace(left, spec), scrub_trace(right, spec)
        for side, scrubbed in (("left", a), ("right", b)):
            out[f"scale {size} scrubbed {side}"] = digest(scrubbed.trace)
            out[f"scale {size} summary {side}"] = digest(scrubbed.summary())
        va, vb = build_view(a.trace), build_view(b.trace)
        out[f"scale {size} views"] = digest((va, vb))
        out[f"scale {size} diff"] = digest(diff_views(va, vb))
    return out


def run_side(root: Path, target: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    command = [sys.executable, __file__, "--emit", str(target)]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--against", type=Path, help="the other checkout")
    parser.add_argument("--emit", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.emit:
        args.emit.write_text(json.dumps(emit()))
        return 0
    if not args.against:
        parser.error("--against is required")
    with tempfile.TemporaryDirectory(prefix="cc-identity-out-") as folder:
        here, there = Path(folder) / "here.json", Path(folder) / "there.json"
        sides = [run_side(ROOT, here), run_side(args.against.resolve(), there)]
        if any(side.wait() for side in sides):
            print("a side failed", file=sys.stderr)
            return 2
        mine, theirs = json.loads(here.read_text()), json.loads(there.read_text())
    names = sorted(set(mine) | set(theirs))
    differ = [n for n in names if mine.get(n) != theirs.get(n)]
    for name in differ[:20]:
        print(f"differs: {name}")
    print(f"{len(names)} outputs compared, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())

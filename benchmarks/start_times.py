"""Benchmark: cold and warm start of each version, alone and in parallel.

    .venv/bin/python benchmarks/start_times.py [--repeats 3] [--cold] [--out FILE.json]

*warm*: artifacts already cached; the time covers the sha256 check of the jar, the JVM
start and readiness (health plus a metadata call). *cold*: an empty artifact cache and
an empty Maven local repository, so the jar is downloaded first (about 1 GB for the three
versions; only with --cold). Times are medians over the repeats; the ratio column divides
by netflix:3.15.0 alone, which the machine's noise blurs less than absolute seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from harness.targets import get_profile, parse_target, start_target
from harness.targets.locks import find_lock
from harness.targets.maven import resolve

VERSIONS = ["netflix:3.15.0", "oss:3.21.14", "oss:3.32.1"]


async def _start(texts: list[str], workdir: Path) -> dict[str, float]:
    """Wall seconds from the call to each target being ready (all started together)."""
    began = time.monotonic()
    ready: dict[str, float] = {}
    async with AsyncExitStack() as stack:

        async def one(text: str) -> None:
            await start_target(
                parse_target(text), profile=get_profile("embedded"), workdir=workdir, stack=stack
            )
            ready[text] = time.monotonic() - began

        await asyncio.gather(*(one(t) for t in texts))
        ready["(all)"] = time.monotonic() - began
    return ready


def _verify_seconds(text: str) -> float:
    began = time.monotonic()
    resolve(find_lock(parse_target(text)))
    return time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="also measure cold starts")
    parser.add_argument("--out", type=Path, help="write the raw figures as JSON")
    args = parser.parse_args()
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="cc-bench-") as tmp:
        for i in range(args.repeats):
            for text in VERSIONS:
                rows.setdefault(f"verify sha256 {text}", []).append(_verify_seconds(text))
                alone = asyncio.run(_start([text], Path(tmp) / f"alone-{i}"))
                rows.setdefault(f"warm alone {text}", []).append(alone[text])
            together = asyncio.run(_start(VERSIONS, Path(tmp) / f"parallel-{i}"))
            for text, seconds in together.items():
                rows.setdefault(f"warm parallel {text}", []).append(seconds)
        if args.cold:
            for text in VERSIONS:
                cache = Path(tmp) / f"cold-{text.replace(':', '_')}"
                os.environ["CONDUCTOR_COMPAT_CACHE"] = str(cache / "cache")
                os.environ["MAVEN_OPTS"] = f"-Dmaven.repo.local={cache / 'm2'}"
                cold = asyncio.run(_start([text], cache / "work"))
                rows.setdefault(f"cold alone {text}", []).append(cold[text])
    base = statistics.median(rows[f"warm alone {VERSIONS[0]}"])
    print("| measurement | median s | ratio to netflix:3.15.0 warm alone | runs |")
    print("|---|---:|---:|---:|")
    for name, values in rows.items():
        med = statistics.median(values)
        print(f"| {name} | {med:.1f} | {med / base:.2f} | {len(values)} |")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()

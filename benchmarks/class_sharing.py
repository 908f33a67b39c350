"""Benchmark: server ready time from the boot jar (``--boot-jar``), unpacked, unpacked
with its class data sharing archive (the default), and that with the C1 JIT only
(``--jit c1``), side by side in one run.

    .venv/bin/python benchmarks/class_sharing.py [--repeats 5] [--versions V ...] [--out F.json]

For each version: the jar unpacked into an empty cache, and one start unpacked with no
archive yet (it lists the classes it loads, then the archive is dumped): the one-off
costs; then
``--repeats`` rounds of the four ways in turn, so that the machine's drift touches each
alike. A time is ``RunningTarget.start_seconds``: from the JVM's launch to ready (health
plus a metadata call), on the embedded profile, in a network namespace as in every run.
The ratio divides each way's median by the boot jar's median of the same version.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import fields
from pathlib import Path

from harness.targets import get_profile, parse_target, process
from harness.targets.process import Prepared
from harness.targets.sharing import unpack

VERSIONS = ["netflix:3.15.0", "oss:3.21.14", "oss:3.32.1"]
WAYS = ("boot jar", "unpacked", "unpacked + archive", "unpacked + archive + C1")


class _NoArchive(Prepared):
    """Unpacked, but started as if no archive existed and never building one."""

    def sharing(self) -> None:
        return None


async def _ready_seconds(prepared: Prepared, workdir: Path) -> float:
    profile = get_profile("embedded")
    async with AsyncExitStack() as stack:
        server = await process.start(prepared, profile, workdir, stack)
        return server.start_seconds


def _prepare(text: str, way: str) -> Prepared:
    prepared = process.prepare(
        parse_target(text),
        get_profile("embedded"),
        unpack_jar=way != "boot jar",
        jit="c1" if way.endswith("C1") else "tiered",
    )
    if way == "unpacked":
        return _NoArchive(**{f.name: getattr(prepared, f.name) for f in fields(prepared)})
    return prepared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--versions", nargs="+", default=VERSIONS)
    parser.add_argument("--out", type=Path, help="write the raw figures as JSON")
    args = parser.parse_args()
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="cc-bench-") as tmp:
        for text in args.versions:
            first = _prepare(text, "unpacked + archive")
            began = time.monotonic()  # unpacking into an empty cache, as a first run does
            unpack(first.jar, first.lock.server_jar.sha256, Path(tmp) / "cache")
            rows[f"{text}: unpack, once"] = [time.monotonic() - began]
            sharing = first.sharing()
            if sharing is not None and sharing.ready:
                sharing.archive.unlink()  # measure the first start and the dump too
            began = time.monotonic()
            asyncio.run(_ready_seconds(first, Path(tmp) / "first"))
            rows[f"{text}: first start, archive built"] = [time.monotonic() - began]
            for i in range(args.repeats):
                for way in WAYS:
                    seconds = asyncio.run(_ready_seconds(_prepare(text, way), Path(tmp) / f"{i}"))
                    rows.setdefault(f"{text}: {way}", []).append(seconds)
                    print(f"{text} {way}: {seconds:.1f} s", flush=True)
    print("| version | way | median s | ratio to the boot jar | runs |")
    print("|---|---|---:|---:|---:|")
    for text in args.versions:
        base = statistics.median(rows[f"{text}: boot jar"])
        for name, values in rows.items():
            if name.startswith(f"{text}: "):
                med = statistics.median(values)
                way = name.removeprefix(f"{text}: ")
                ratio = f"{med / base:.2f}" if way in WAYS else ""
                print(f"| {text} | {way} | {med:.1f} | {ratio} | {len(values)} |")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()

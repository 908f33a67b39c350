"""Recorded traces for the comparison's unit tests (from real servers; fixtures/README.md)."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# one run per scenario, with poll bodies: netflix-3.15.0, oss-3.21.14, oss-3.32.1
SINGLE = FIXTURES / "traces"
RUNS = FIXTURES / "runs"  # two runs per scenario (run --repeats 2)
NETFLIX_LINE = FIXTURES / "netflix-line"  # api-metadata-crud on older Netflix versions


@functools.cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def trace(version: str, scenario: str, *, run: int = 1, single: bool = True) -> dict[str, Any]:
    """A fresh copy of a recorded trace (tests may change it)."""
    if single:
        path = SINGLE / version / f"{scenario}.trace.json"
    else:
        suffix = f".run{run}" if run > 1 else ""
        path = RUNS / version / f"{scenario}{suffix}.trace.json"
    data: dict[str, Any] = json.loads(_read(path))
    return data


def scenario_names() -> list[str]:
    files = (SINGLE / "oss-3.32.1").glob("*.json")
    return sorted(p.name.removesuffix(".trace.json") for p in files)


LIBRARY = FIXTURES / "library"  # the whole library, two runs each, per candidate (tar.xz)
BASELINES = FIXTURES / "baselines"  # netflix-3.15.0: the whole library, two runs each
_EXTRACTED: dict[str, Path] = {}


def archived(archive: Path) -> Path:
    """The folder ``archive`` (a tar.xz of fixtures/) is extracted into, once per test
    session; removed when the session ends."""
    key = str(archive)
    if key not in _EXTRACTED:
        where = Path(tempfile.mkdtemp(prefix=f"cc-{archive.name.split('.')[0]}-"))
        with tarfile.open(archive) as tar:
            tar.extractall(where, filter="data")
        atexit.register(shutil.rmtree, where, True)
        _EXTRACTED[key] = where
    return _EXTRACTED[key]


def stall_traces(target: str) -> Path:
    """Runs of oss-e2e.load_test_perf_sync_workflow recorded on ``target`` (oss-3.21.14,
    oss-3.32.1) in which oss-3.32.1 stalled once: a JOIN left IN_PROGRESS with its
    branches done. Kept apart from the library, which is re-recorded as scenarios change."""
    return archived(FIXTURES / "stalls.tar.xz") / target


def library_traces(target: str) -> Path:
    """The whole library recorded on ``target`` (``netflix-3.15.0``, ``oss-3.21.14``,
    ``oss-3.32.1``): a folder of traces, two runs per scenario. The candidates' are kept
    compressed and extracted once per test session."""
    if target == "netflix-3.15.0":
        return BASELINES / target
    return archived(LIBRARY / f"{target}.tar.xz") / target


ROLLBACK_DELAY = FIXTURES / "upgrade" / "pg-rollback-delay.tar.xz"


def rollback_delay_traces(name: str) -> Path:
    """upgrade-fork-half-done on PostgreSQL (fixtures/README.md): played wholly on
    ``oss-3.32.1``, ``oss-3.21.14`` or ``netflix-3.15.0``, or carried across a rollback
    (``oss-3.32.1-netflix-3.15.0``, ``oss-3.32.1-oss-3.21.14``,
    ``oss-3.21.14-netflix-3.15.0``)."""
    return archived(ROLLBACK_DELAY) / "pg-rollback-delay" / name

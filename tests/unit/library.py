"""The whole library as recorded on real servers, assessed once per test session.

netflix:3.15.0's traces are fixtures/baselines/; the candidates' are fixtures/library/
(compressed). Assessing 143 scenarios costs tens of seconds, so each comparison is made
once and shared by every test that needs it.
"""

from __future__ import annotations

import concurrent.futures
import functools
import multiprocessing
from pathlib import Path

from harness.classify import RunResult, Settings, assess_run, load_settings
from harness.classify.assess import Views
from harness.traces import TraceSet, load_trace_set
from tests.unit.traces import library_traces

CANDIDATES = ("oss-3.21.14", "oss-3.32.1")


@functools.cache
def settings() -> Settings:
    return load_settings()


@functools.cache
def traces(target: str) -> TraceSet:
    return load_trace_set(Path(library_traces(target)))


VIEWS = Views()  # every trace is scrubbed once per process, whichever comparisons it is in


def _both(candidate: str) -> tuple[RunResult, RunResult]:
    # The scenarios recorded on both sides: fixtures/baselines also holds scenarios added to
    # the library after fixtures/library was recorded (scenarios/upgrade).
    names = sorted(set(traces("netflix-3.15.0").runs) & set(traces(candidate).runs))
    up = assess_run(
        traces("netflix-3.15.0"), traces(candidate), settings(), names=names, views=VIEWS
    )
    down = assess_run(
        traces(candidate), traces("netflix-3.15.0"), settings(), names=names, views=VIEWS
    )
    return up, down


@functools.cache
def _all() -> dict[str, tuple[RunResult, RunResult]]:
    """Both directions for every candidate, one candidate per core (the machine has two):
    what the tests wait for is CPU."""
    for candidate in CANDIDATES:  # extracted here: a pool's worker exits without atexit
        library_traces(candidate)
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(len(CANDIDATES), mp_context=context) as pool:
        return dict(zip(CANDIDATES, pool.map(_both, CANDIDATES), strict=True))


def upgrade(candidate: str) -> RunResult:
    """netflix:3.15.0 against ``candidate``, with the shipped catalog."""
    return _all()[candidate][0]


def rollback(baseline: str) -> RunResult:
    """``baseline`` (a conductor-oss version) against netflix:3.15.0: a rollback."""
    return _all()[baseline][1]

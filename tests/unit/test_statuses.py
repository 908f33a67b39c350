"""When a JOIN's branches have all ended, on workflow bodies recorded from real servers
(fixtures/traces/: every settle poll's body kept)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.statuses import iteration_suffix, joined_ended

TRACES = Path(__file__).resolve().parents[2] / "fixtures" / "traces"


def bodies(target: str, scenario: str) -> Iterator[dict[str, Any]]:
    data = json.loads((TRACES / target / f"{scenario}.trace.json").read_text())
    for exchange in data["exchanges"]:
        body = exchange.get("body")
        if isinstance(body, dict) and body.get("tasks"):
            yield body


def ended(body: dict[str, Any]) -> dict[str, bool]:
    """Each JOIN of ``body`` by reference: whether its branches have all ended."""
    latest = {t["referenceTaskName"]: t for t in body["tasks"]}
    return {
        t["referenceTaskName"]: joined_ended(
            t["inputData"].get("joinOn") or [],
            t["referenceTaskName"],
            lambda r: (latest.get(r) or {}).get("status"),
        )
        for t in body["tasks"]
        if t["taskType"] == "JOIN"
    }


def test_a_join_inside_a_loop_reads_its_own_iteration() -> None:
    """netflix:3.15.0, do-while-fork: iteration 2's JOIN is waiting on left__2 while
    iteration 1's JOIN, whose left__1 and right__1 ended, has its branches done."""
    seen = [ended(b) for b in bodies("netflix-3.15.0", "do-while-fork")]
    assert {"join__1": True, "join__2": False} in seen
    assert {"join__1": True, "join__2": True} in seen
    assert {"join__1": False} in seen


@pytest.mark.parametrize("target", ["netflix-3.15.0", "oss-3.21.14", "oss-3.32.1"])
@pytest.mark.parametrize("scenario", ["do-while-fork", "fork-join"])
def test_no_server_completes_a_join_before_its_branches_end(target: str, scenario: str) -> None:
    """A JOIN seen COMPLETED on a real server always has its branches ended: the rule
    agrees with every recorded body."""
    completed = 0
    for body in bodies(target, scenario):
        for t in body["tasks"]:
            if t["taskType"] == "JOIN" and t["status"] == "COMPLETED":
                completed += 1
                assert ended(body)[t["referenceTaskName"]], t["referenceTaskName"]
    assert completed


def test_the_iteration_is_the_reference_s_last_suffix() -> None:
    assert iteration_suffix("join__12") == "__12"
    assert iteration_suffix("join__x") == ""
    assert iteration_suffix("a__1__3") == "__3"

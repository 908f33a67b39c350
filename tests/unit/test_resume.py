"""A resumed run's report keeps what its earlier invocations recorded (``pipeline/resume``), on
the ``run.targets`` of a real gate (fixtures/isolate/: netflix 3.10.7 with the lock off,
whose server was restarted afresh once)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.pipeline import resume
from harness.report import REPORT_FILE
from tests.unit.traces import FIXTURES

TARGETS = json.loads(
    (FIXTURES / "isolate" / "netflix-3.10.7-lock-off-run-targets.json").read_text()
)


def _run(seconds: float, targets: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "gate", "seconds": seconds, "interrupted": None, "targets": targets}


def test_an_invocation_that_made_nothing_keeps_the_earlier_record() -> None:
    earlier = _run(514.0, TARGETS["targets"])
    (_, candidate) = TARGETS["targets"]
    assert candidate["restarts"], "the recorded gate restarted its server"
    # what a --resume that had nothing left to run records of itself
    now = _run(
        19.2,
        [{**t, "start_seconds": None, "rechecks": 0, "restarts": []} for t in TARGETS["targets"]],
    )
    joined = resume.carried(earlier, now)
    assert joined["seconds"] == 533.2
    (_, kept) = joined["targets"]
    assert kept["restarts"] == candidate["restarts"]
    assert kept["start_seconds"] == candidate["start_seconds"]
    assert kept["rechecks"] == candidate["rechecks"]
    assert kept["runs"] == candidate["runs"]


def test_restarts_of_a_later_invocation_are_numbered_on() -> None:
    earlier = _run(100.0, TARGETS["targets"])
    (_, candidate) = TARGETS["targets"]
    again = {**candidate, "start_seconds": 4.0, "rechecks": 1}
    joined = resume.carried(earlier, _run(50.0, [again]))
    (kept,) = joined["targets"]
    count = len(candidate["restarts"])
    assert [r["restart"] for r in kept["restarts"]] == [
        *range(1, count + 1),
        *range(count + 1, 2 * count + 1),
    ]
    assert kept["start_seconds"] == 4.0 and kept["rechecks"] == candidate["rechecks"] + 1


def test_the_earlier_run_is_read_from_the_folder_s_last_report(tmp_path: Path) -> None:
    assert resume.earlier_run(tmp_path) is None
    (tmp_path / REPORT_FILE).write_text(json.dumps({"run": _run(7.0, [])}))
    assert resume.earlier_run(tmp_path) == _run(7.0, [])
    (tmp_path / REPORT_FILE).write_text("{not json")
    assert resume.earlier_run(tmp_path) is None
    assert resume.carried(None, _run(3.0, [])) == _run(3.0, [])

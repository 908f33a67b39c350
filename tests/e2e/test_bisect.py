"""bisect on real servers: five Netflix versions, 3.11.0 to 3.13.0, searched for the
change that gave definitions their accessPolicy (first in netflix 3.12.0)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, assert_nothing_left, cli

pytestmark = pytest.mark.e2e

SCENARIO = ROOT / "scenarios" / "api" / "metadata_crud.yaml"
EXEC_LIMIT = ROOT / "scenarios" / "corpus" / "conductor-oss-e2e" / "exec_limit_check.yaml"
RANGE = ("--from", "netflix:3.11.0", "--to", "netflix:3.13.0")


def test_bisect_finds_the_first_netflix_version_with_a_change(tmp_path: Path) -> None:
    out = tmp_path / "bisect"
    run = cli("bisect", *RANGE, "--change", "definitions-gain-access-policy",
              "--out", str(out), str(SCENARIO))  # fmt: skip
    assert run.code == 0, run.out + run.err
    document = json.loads((out / "bisect.json").read_text())
    assert len(document["versions"]) == 5
    assert (document["first"], document["last_without"]) == ("netflix:3.12.0", "netflix:3.11.3")
    probed = {p["target"]: p["shows"] for p in document["probes"]}
    assert probed == {  # the two ends, then two halvings
        "netflix:3.11.0": False,
        "netflix:3.13.0": True,
        "netflix:3.11.3": False,
        "netflix:3.12.0": True,
    }
    assert "netflix:3.12.0 is the first version that shows change" in run.out
    assert sorted(p.name for p in (out / "traces").iterdir()) == sorted(
        f"netflix-{v}" for v in ("3.11.0", "3.11.3", "3.12.0", "3.13.0")
    )
    assert_nothing_left(out)


def test_bisect_says_when_the_last_version_does_not_show_it(tmp_path: Path) -> None:
    out = tmp_path / "none"
    change = ("--change", "definitions-gain-access-policy")
    run = cli("bisect", "--from", "netflix:3.12.0", "--to", "netflix:3.13.0", *change,
              "--out", str(out), str(SCENARIO))  # fmt: skip
    assert run.code == 3, run.out + run.err
    assert "netflix:3.13.0 does not show change definitions-gain-access-policy" in run.out
    assert json.loads((out / "bisect.json").read_text())["found"] is False


def test_bisect_with_repeats_compares_each_run_and_finds_a_change_in_every_run(
    tmp_path: Path,
) -> None:
    """join-async (netflix 3.13.0: a branch's last task is no longer decided on its update,
    so nothing marks it executed) in exec_limit_check, two runs on each version, the lock
    off as both ran: 3.12.0 marks them in every run, 3.13.0 in none, unless its JOIN is
    left to the sweep (seen 2026-12-07 in one of two runs: the start settled after 36 s,
    the sweep's decision marking them): the bisect says in how many runs it showed."""
    out = tmp_path / "repeats"
    run = cli("bisect", "--from", "netflix:3.12.0", "--to", "netflix:3.13.0",
              "--change", "join-async", "--repeats", "2",
              "--server-property", "conductor.app.workflow-execution-lock-enabled=false",
              "--out", str(out), str(EXEC_LIMIT))  # fmt: skip
    assert run.code == 0, run.out + run.err
    document = json.loads((out / "bisect.json").read_text())
    reference, last = document["probes"]
    every = last["runs_showing"] == 2
    assert (document["first"], document["repeats"], document["every_run"]) == (
        "netflix:3.13.0", 2, every,
    )  # fmt: skip
    assert (reference["reference"], reference["runs_showing"], reference["runs"]) == (True, 0, 1)
    assert (last["runs"], last["shows"]) == (2, True) and last["runs_showing"] >= 1
    said = " ".join(run.out.split())
    assert "netflix:3.12.0 does not (2 of 2 versions probed, 2 runs each)" in said
    assert ("in every run;" in said) == every
    if not every:
        assert "in some runs only: netflix:3.13.0 (1 of 2)" in said
    traces = sorted(p.name for p in (out / "traces" / "netflix-3.13.0").iterdir())
    assert traces == ["oss-e2e.exec_limit_check.run2.trace.json",
                      "oss-e2e.exec_limit_check.trace.json"]  # fmt: skip
    assert_nothing_left(out)

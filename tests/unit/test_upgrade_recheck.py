"""Which runs an upgrade plays again: judged on traces recorded from real servers.

fixtures/upgrade/pg-rollback-delay.tar.xz holds upgrade-fork-half-done on PostgreSQL played
wholly on oss:3.32.1 and netflix:3.15.0, and carried across the rollback from oss:3.32.1 to
netflix:3.15.0, where the JOIN in flight was held: a catalogued rollback-only change
(``postgres-rollback-join-delay``). Laid out as the run folder of
``upgrade --from oss:3.32.1 --to netflix:3.15.0``, the re-check picks a column's scenario
only when its difference gates there, as compare re-checks a candidate.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

from harness.pipeline.assemble import RECHECK_RUNS, failing_again
from harness.pipeline.plan import Plan, RunFolder
from harness.pipeline.rounds import across_label
from harness.pipeline.upgrade import _Upgrade
from harness.scenarios import Scenario, load_all
from harness.traces import load_trace_set
from tests.unit.traces import FIXTURES, rollback_delay_traces

ROOT = Path(__file__).resolve().parents[2]
OLD, NEW = "oss:3.32.1", "netflix:3.15.0"
ACROSS = across_label(OLD, NEW)
NAME = "upgrade-fork-half-done"


def _job(tmp_path: Path, *, shipped: bool) -> _Upgrade:
    """The rollback's run folder, its traces as recorded; ``shipped``: with the catalog."""
    folder = RunFolder(tmp_path / "run")
    for recorded, target in (
        ("oss-3.32.1", OLD),
        ("netflix-3.15.0", NEW),
        ("oss-3.32.1-netflix-3.15.0", ACROSS),
    ):
        shutil.copytree(rollback_delay_traces(recorded), folder.traces(target))
    scenarios = _scenarios()
    plan = Plan(
        kind="upgrade",
        baseline=OLD,
        candidates=(NEW,),
        profile="postgres",
        shipped_catalog=shipped,
        paths=(str(ROOT / "scenarios" / "upgrade" / "fork_half_done.yaml"),),
    )
    return _Upgrade.of(plan, folder, scenarios, lambda event: None)


def _scenarios() -> list[Scenario]:
    (scenario,) = load_all([ROOT / "scenarios" / "upgrade" / "fork_half_done.yaml"]).scenarios
    assert scenario.name == NAME
    return [scenario]


def test_a_difference_across_the_switch_that_no_change_explains_is_played_again(
    tmp_path: Path,
) -> None:
    """Without the catalog, the JOIN the rollback held is unexplained, so the run across
    the switch gates: the re-check plays it again (RECHECK_RUNS runs in all)."""
    job = _job(tmp_path, shipped=False)
    again = job._gating(OLD, NEW, ACROSS, job.scenarios)
    assert [s.name for s in again] == [NAME]
    assert RECHECK_RUNS == 3


def test_a_catalogued_difference_across_the_switch_is_not_played_again(tmp_path: Path) -> None:
    """With the catalog, the held JOIN is the rollback-only change: it asks for action but
    does not gate, so nothing is played again, as compare does not re-check it either."""
    job = _job(tmp_path, shipped=True)
    assert job._gating(OLD, NEW, ACROSS, job.scenarios) == []


def test_each_column_is_judged_against_the_version_it_left(tmp_path: Path) -> None:
    """The version rolled back to, played wholly, is judged against the version it leaves
    (oss:3.32.1 wholly), as its own column: with the catalog, what it reaches is explained."""
    job = _job(tmp_path, shipped=True)
    assert job.columns((NEW, ACROSS)) == [(NEW, [NAME]), (ACROSS, [NAME])]
    assert job._gating(OLD, NEW, NEW, job.scenarios) == []


def test_a_baseline_run_that_failed_is_played_until_it_has_three(tmp_path: Path) -> None:
    """fixtures/rerun-race.tar.xz: retry-restart-rerun played twice on netflix:3.15.0, the
    first run stalled by its own rerun race. The version played wholly as an upgrade's
    baseline plays it a third time, as compare's baseline does; the scenarios that did not
    fail are not played again."""
    with tarfile.open(FIXTURES / "rerun-race.tar.xz") as tar:
        tar.extractall(tmp_path, filter="data")
    recorded = load_trace_set(tmp_path / "netflix-3.15.0")
    every = load_all([ROOT / "scenarios" / "operations"]).scenarios
    again = failing_again(recorded, every, RECHECK_RUNS)
    assert [(s.name, r) for s, r in again] == [("retry-restart-rerun", 3)]
    assert failing_again(recorded, every, 2) == []  # it has two runs already

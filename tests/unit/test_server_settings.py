"""Settings given on top of the profile (``--server-property``), on traces recorded from
real servers: fixtures/netflix-line/lock/ holds the library's inline on netflix 3.9.2 with
the profile as it is and with its workflow execution lock off."""

from __future__ import annotations

from harness.classify import assess_run
from harness.classify.settings import load_settings
from harness.targets.profiles import get_profile
from harness.traces import load_trace_set
from tests.unit.traces import FIXTURES

LOCK = FIXTURES / "netflix-line" / "lock"
LOCK_OFF = "conductor.app.workflow-execution-lock-enabled=false"


def _assess(candidate: str) -> tuple[str, str, list[str]]:
    baseline = load_trace_set(FIXTURES / "baselines" / "netflix-3.15.0").restrict({"inline"})
    result = assess_run(
        baseline,
        load_trace_set(LOCK / candidate),
        load_settings(),  # the shipped catalog: the versions' own changes are explained
        names=["inline"],
    )
    (scenario,) = result.scenarios
    return scenario.verdict, scenario.reason, result.notices


def test_a_setting_given_on_top_of_the_profile_is_named_in_the_trace_and_the_report() -> None:
    """Netflix 3.9.2 with the profile's lock (local_only, not reentrant there) stops after
    its first INLINE: the decision that ran it decides again and is refused the lock it
    holds. With the lock off the same version completes, and the report says that the two
    sides ran with different configurations."""
    with_lock = load_trace_set(LOCK / "netflix-3.9.2")
    assert with_lock.target["profile"] == "embedded"
    (run,) = [t for _, t in with_lock.runs["inline"]]
    assert "workflow inline_wf has no task left to run" in run["outcome"]["reason"]
    verdict, _, notices = _assess("netflix-3.9.2")
    assert verdict == "incompatible"
    assert notices == []

    lock_off = load_trace_set(LOCK / "netflix-3.9.2-lock-off")
    assert lock_off.target["profile"] == f"embedded + {LOCK_OFF}"
    verdict, reason, notices = _assess("netflix-3.9.2-lock-off")
    # what is left is the line's own catalogued change, nothing unexplained
    assert (verdict, reason) == (
        "action_required",
        "1 catalogued change to handle: workflow-task-empty-collections-omitted",
    )
    assert notices == [
        "the baseline's servers ran with the embedded profile and netflix:3.9.2's with the "
        f"embedded + {LOCK_OFF} profile: a difference may come from the configuration, not "
        "the version"
    ]


def test_a_trace_records_its_servers_settings_the_team_s_over_the_profile_s() -> None:
    """What a catalogued change that needs a setting reads: the profile's properties with
    the team's on top, never where the server listens or stores."""
    shipped = dict(get_profile("embedded").configured())
    assert shipped["conductor.app.workflow-execution-lock-enabled"] == "true"
    assert not [k for k in shipped if k.startswith(("server.", "conductor.db.", "spring.data"))]
    mine = dict(get_profile("embedded", [LOCK_OFF]).configured())
    assert mine == {**shipped, "conductor.app.workflow-execution-lock-enabled": "false"}
    recorded = load_trace_set(LOCK / "netflix-3.13.3-lock-off").target
    assert recorded["settings"] == mine
    assert recorded["profile"] == f"embedded + {LOCK_OFF}"

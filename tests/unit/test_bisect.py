"""bisect's parts with no server: the versions of a range, looking for a difference in
traces recorded from real servers (fixtures/netflix-line: api-metadata-crud on netflix
3.10.0, 3.11.3 and 3.12.0, recorded by the bisect that measured
definitions-gain-access-policy, and simple-sequential on 3.11.3 and 3.12.0, by the one that
measured workflow-update-time), and the probes left."""

from __future__ import annotations

from typing import Any

import pytest

from harness.classify import load_catalog
from harness.classify.probe import Sought, sightings
from harness.classify.severity import fingerprint
from harness.compare import build_view, diff_views
from harness.errors import BadInputError
from harness.normalize import load_spec, scrub_trace
from harness.pipeline.bisect import (
    Probe,
    _left,
    compared,
    seeks_every_run,
    steps_needed,
    unfinished,
    versions_between,
)
from harness.pipeline.bisect_write import markdown, summary
from harness.targets.locks import known_locks
from harness.traces import TraceSet, load_trace_set
from tests.unit.traces import FIXTURES, NETFLIX_LINE

CHANGE = "definitions-gain-access-policy"
SPEC = load_spec()


def _set(version: str) -> TraceSet:
    return load_trace_set(NETFLIX_LINE / f"netflix-{version}")


def _sought(change: str | None = CHANGE, fp: str | None = None) -> Sought:
    return Sought.of(load_catalog(), change, fp)


def test_the_range_is_every_locked_version_between_in_release_order() -> None:
    got = versions_between("netflix:3.11.0", "netflix:3.13.0")
    assert got == ["netflix:3.11.0", "netflix:3.11.1", "netflix:3.11.3", "netflix:3.12.0",
                   "netflix:3.13.0"]  # fmt: skip
    across = versions_between("netflix:3.15.0", "oss:3.32.1")
    assert across == ["netflix:3.15.0", "oss:3.21.14", "oss:3.32.1"]
    every = versions_between("netflix:3.5.2", "oss:3.32.3")
    assert len(every) == len(known_locks())  # both lines, one order


@pytest.mark.parametrize(
    ("first", "last", "says"),
    [
        ("netflix:3.13.0", "netflix:3.11.0", "newer than --to"),
        ("netflix:3.12.1", "netflix:3.13.0", "not a known version"),
        ("remote:http://127.0.0.1:8080", "netflix:3.13.0", "not a known version"),
    ],
)
def test_a_bad_range_is_bad_input(first: str, last: str, says: str) -> None:
    with pytest.raises(BadInputError, match=says):
        versions_between(first, last)


def test_the_change_shows_where_its_version_has_it_and_not_before() -> None:
    sought = _sought()
    found = sightings(sought, _set("3.11.3"), _set("3.12.0"), SPEC)
    assert {s.scenario for s in found} == {"api-metadata-crud", "simple-sequential"}
    assert {s.difference.path for s in found if s.scenario == "api-metadata-crud"} == {
        '["step GET /api/metadata/taskdefs/{{name.cc_md_task}} #1"].body.accessPolicy',
        '["step GET /api/metadata/workflow/{{name.md_wf}} #1"].body.accessPolicy',
    }
    assert sightings(sought, _set("3.10.0"), _set("3.11.3"), SPEC) == []
    assert sightings(sought, _set("3.12.0"), _set("3.12.0"), SPEC) == []


def test_a_fingerprint_is_looked_for_alike() -> None:
    (first, *_) = sightings(_sought(), _set("3.11.3"), _set("3.12.0"), SPEC)
    mark = fingerprint(first.scenario, first.difference)
    found = sightings(_sought(None, mark), _set("3.10.0"), _set("3.12.0"), SPEC)
    assert [fingerprint(s.scenario, s.difference) for s in found] == [mark]


@pytest.mark.parametrize(
    ("change", "fp", "says"),
    [
        ("no-such-change", None, "no change 'no-such-change' in the catalog"),
        (None, None, "--change ID or --fingerprint FP"),
        (CHANGE, "abc", "--change ID or --fingerprint FP"),
    ],
)
def test_the_difference_sought_must_be_one_the_catalog_knows(
    change: str | None, fp: str | None, says: str
) -> None:
    with pytest.raises(BadInputError, match=says):
        _sought(change, fp)


def test_the_probes_left_halve_the_range() -> None:
    versions = [f"netflix:3.{n}.0" for n in range(8, 17)]  # nine versions
    probes = {versions[0]: Probe(versions[0], 0, ())}
    assert _left(versions, probes) == 4  # --to, then three halvings of seven
    probes[versions[-1]] = Probe(versions[-1], 1, ())
    assert _left(versions, probes) == 3
    probes[versions[4]] = Probe(versions[4], 0, ())
    assert _left(versions, probes) == 2
    probes[versions[6]] = Probe(versions[6], 1, ())
    assert _left(versions, probes) == 1


def test_the_answer_names_both_ends_or_says_it_was_not_found() -> None:
    base = {"sought": "change x (X)", "from": "netflix:3.10.0", "to": "netflix:3.13.0",
            "versions": ["netflix:3.10.0", "netflix:3.12.0", "netflix:3.13.0"],
            "probes": [{}, {}]}  # fmt: skip
    found = {**base, "found": True, "first": "netflix:3.12.0", "last_without": "netflix:3.10.0"}
    assert summary(found) == (
        "found",
        "netflix:3.12.0 is the first version that shows change x (X); netflix:3.10.0 does not "
        "(2 of 3 versions probed)",
    )
    verdict, reason = summary({**base, "found": False})
    assert verdict == "not_found" and reason.startswith("netflix:3.13.0 does not show change x")


def test_a_probe_whose_runs_did_not_finish_cannot_tell() -> None:
    """netflix 3.12.0 left calls unanswered (its lock, fixtures/netflix-line/read-timeouts):
    a run cut short lacks what a finished one would show, so such a probe says neither
    yes nor no, and the search stops with the range it has and why."""
    cut = unfinished(load_trace_set(FIXTURES / "netflix-line" / "read-timeouts" / "netflix-3.12.0"))
    assert cut == ("dynamic (error)", "human (error)", "workflow-timeout (error)")
    assert unfinished(_set("3.12.0")) == ()
    versions = [f"netflix:3.{n}.0" for n in range(8, 17)]
    probes = {
        versions[0]: Probe(versions[0], 0, ()),
        versions[-1]: Probe(versions[-1], 1, ()),
    }
    probes[versions[4]] = Probe(versions[4], 0, (), cut, runs=0, finished=0)
    assert not probes[versions[4]].tells and probes[versions[4]].to_json()["shows"] is None
    assert _left(versions, probes) == 0
    document = {
        "sought": "change x (X)", "from": versions[0], "to": versions[-1], "versions": versions,
        "probes": [probes[v].to_json() for v in versions if v in probes],
        "measured": "2026-12-06", "found": True, "first": versions[-1],
        "last_without": versions[0], "undecided": [versions[4]],
    }  # fmt: skip
    verdict, reason = summary(document)
    assert verdict == "found"
    assert reason.startswith(
        "the first version that shows change x (X) is after netflix:3.8.0, up to "
        "netflix:3.16.0: netflix:3.12.0 did not finish dynamic (error), human (error), "
        "workflow-timeout (error)"
    )
    assert "| netflix:3.12.0 | cannot tell: did not finish dynamic (error)" in markdown(document)
    reference = {**document, "found": False, "undecided": [versions[0]]}
    cut_reference = Probe(versions[0], 0, (), cut, runs=0, reference=True, finished=0)
    reference["probes"] = [cut_reference.to_json()]
    verdict, reason = summary(reference)
    assert verdict == "undecided" and "both ends must record the steps where it shows" in reason


def test_the_progress_line_of_a_probe_says_whether_it_could_tell() -> None:
    from harness.cli.progress import _searched
    from harness.pipeline import events as ev

    line = _searched(ev.BisectProbed("netflix:3.13.3", None, 0, 0), verbose=False)
    assert line == "netflix:3.13.3: cannot tell (its runs did not finish); at most 0 more probes"
    line = _searched(ev.BisectProbed("netflix:3.13.5", False, 0, 1), verbose=False)
    assert line == "netflix:3.13.5: does not; at most 1 more probes"
    line = _searched(ev.BisectProbed("netflix:3.13.5", False, 2, 1, 1, 3), verbose=False)
    assert line == "netflix:3.13.5: shows it in 1 of 3 runs (2 differences); at most 1 more probes"
    varies = ev.BisectProbed("netflix:3.13.0", None, 1, 0, 1, 2, reference=True)
    assert _searched(varies, verbose=False) == (
        "netflix:3.13.0: the reference, cannot tell: it differs from its first run in 1 of 2 "
        "runs; at most 0 more probes"
    )


# With --repeats: fork-join-failure three times on each version, the lock off
# (fixtures/netflix-line/lock-off/repeats, recorded by `bisect --repeats 3`).
REPEATS = NETFLIX_LINE / "lock-off" / "repeats"
TIMING = "2734575242d1afff"  # fork-join-failure, the JOIN's status at the first snapshot


def _repeats(version: str) -> TraceSet:
    return load_trace_set(REPEATS / f"netflix-{version}")


def test_a_reference_that_differs_from_its_own_first_run_cannot_tell() -> None:
    """netflix 3.13.0: whether the JOIN has failed the workflow by the first snapshot
    depends on when the JOIN's worker next evaluates it: one of its later runs differs
    from its first there. A single run would have answered (a bisect from it with one
    run each named 3.13.5); three runs say it cannot be sought from 3.13.0."""
    runs = _repeats("3.13.0")
    varies = compared(_sought(None, TIMING), runs, runs, SPEC, target="netflix:3.13.0",
                      repeats=3, reference=True)  # fmt: skip
    assert (varies.showing, varies.runs, varies.tells) == (1, 2, False)
    steady = compared(_sought("join-async"), _repeats("3.12.0"), _repeats("3.12.0"), SPEC,
                      target="netflix:3.12.0", repeats=3, reference=True)  # fmt: skip
    assert (steady.showing, steady.runs, steady.tells, steady.shows()) == (0, 2, True, False)
    versions = versions_between("netflix:3.13.0", "netflix:3.15.0")
    document = {
        "sought": f"the difference {TIMING}", "from": versions[0], "to": versions[-1],
        "versions": versions, "repeats": 3, "probes": [varies.to_json()], "found": False,
        "undecided": [versions[0]],
    }  # fmt: skip
    verdict, reason = summary(document)
    assert verdict == "undecided"
    assert reason.startswith(
        "cannot tell: netflix:3.13.0 differs in it from its own first run in 1 of its 2 other "
        "runs (it varies between runs of one version)"
    )
    assert reason.endswith("(1 of 9 versions probed, 3 runs each)")


def test_each_finished_run_is_compared_with_the_same_run_of_the_reference() -> None:
    """join-async shows in each of 3.13.7's runs against 3.12.0's; 3.13.3's second run was
    cut short (the workflow still RUNNING after 15 s): its two finished runs tell, the
    third is named, not counted as a run without it."""
    base, sought = _repeats("3.12.0"), _sought("join-async")
    last = compared(sought, base, _repeats("3.13.7"), SPEC, target="netflix:3.13.7", repeats=3)
    assert (last.showing, last.runs, last.always, last.unfinished) == (3, 3, True, ())
    assert seeks_every_run(last)
    cut = compared(sought, base, _repeats("3.13.3"), SPEC, target="netflix:3.13.3", repeats=3)
    assert (cut.showing, cut.runs, cut.tells, cut.always) == (2, 2, True, True)
    assert cut.unfinished == ("fork-join-failure run 2 (failed_expectation)",)
    assert {s.scenario for s in cut.sightings} == {"fork-join-failure"}
    reference = compared(sought, base, base, SPEC, target="netflix:3.12.0", repeats=3,
                         reference=True)  # fmt: skip
    versions = versions_between("netflix:3.12.0", "netflix:3.13.7")
    probes = {p.target: p for p in (reference, cut, last)}
    assert _left(versions, probes) == 2  # 3.13.0 and 3.13.2 are left between
    document = {
        "sought": "change join-async (J)", "from": versions[0], "to": versions[-1],
        "versions": versions, "repeats": 3, "every_run": True, "measured": "2026-12-06",
        "probes": [probes[v].to_json() for v in versions if v in probes],
        "found": True, "first": "netflix:3.13.3", "last_without": versions[0],
    }  # fmt: skip
    verdict, reason = summary(document)
    assert verdict == "found"
    assert reason == (
        "netflix:3.13.3 is the first version that shows change join-async (J) in every run; "
        "netflix:3.12.0 does not (3 of 7 versions probed, 3 runs each); runs that did not "
        "finish (compared only where both runs recorded): netflix:3.13.3 fork-join-failure run 2 "
        "(failed_expectation)"
    )
    row = "| netflix:3.13.3 | yes; did not finish fork-join-failure run 2 (failed_expectation) |"
    assert row in markdown(document)


def test_the_search_seeks_what_the_last_version_shows() -> None:
    """--to shows it in every run: the first version that does; in some runs only: the
    first that shows it in any. A probe in between that shows it sometimes is named."""
    versions = [f"netflix:3.{n}.0" for n in range(8, 13)]
    probes = {versions[0]: Probe(versions[0], 0, (), runs=2, reference=True),
              versions[-1]: Probe(versions[-1], 3, (), runs=3)}  # fmt: skip
    assert seeks_every_run(probes[versions[-1]]) and _left(versions, probes) == 2
    probes[versions[2]] = Probe(versions[2], 1, (), runs=3)  # sometimes: not yet steady
    assert _left(versions, probes) == 1
    document = {
        "sought": "change x (X)", "from": versions[0], "to": versions[-1], "versions": versions,
        "repeats": 3, "every_run": True, "measured": "2026-12-06",
        "probes": [probes[v].to_json() for v in versions if v in probes],
        "found": True, "first": versions[-1], "last_without": versions[2],
    }  # fmt: skip
    verdict, reason = summary(document)
    assert verdict == "found"
    assert reason == (
        "netflix:3.12.0 is the first version that shows change x (X) in every run; "
        "netflix:3.10.0 does not (3 of 5 versions probed, 3 runs each); in some runs only: "
        "netflix:3.10.0 (1 of 3)"
    )
    assert "| netflix:3.10.0 | no (in 1 of 3 runs compared) | 0 |" in markdown(document)
    assert "run by run (3 runs each" in markdown(document)
    probes[versions[-1]] = Probe(versions[-1], 1, (), runs=3)  # --to: sometimes
    assert not seeks_every_run(probes[versions[-1]])
    assert _left(versions, probes) == 1  # 3.10.0 shows it at all: the first is at most it


# A reference whose runs stop: optional-fork-branch on netflix 3.13.6 stops at step 3 (its
# JOIN evaluated again only after 30 s); 3.13.7 goes on (fixtures/netflix-line/lock-off).
LOCK_OFF = NETFLIX_LINE / "lock-off"


def _join_status() -> str:
    """The fingerprint of the JOIN's status at step 3, 3.13.6 against 3.13.7."""

    def view(version: str) -> Any:
        ((_, trace),) = load_trace_set(LOCK_OFF / f"netflix-{version}").runs["optional-fork-branch"]
        return build_view(scrub_trace(trace, SPEC).trace)

    (found,) = [
        d for d in diff_views(view("3.13.6"), view("3.13.7")) if d.path == "wf1.join#0.status"
    ]
    assert found.steps == (3,)
    return fingerprint("optional-fork-branch", found)


def test_a_reference_that_stops_tells_at_the_steps_both_runs_reached() -> None:
    """3.13.6's run stopped at step 3, 3.13.7's went on: compared up to step 3, 3.13.7
    shows the JOIN completed where 3.13.6's waits, so it tells yes, though the reference
    never finished. A probe that stops at the same step tells no (it reached step 3, where
    --to showed it); with nothing known of where --to showed it, it could not tell."""
    only = {"optional-fork-branch"}
    old = load_trace_set(LOCK_OFF / "netflix-3.13.6").restrict(only)
    new = load_trace_set(LOCK_OFF / "netflix-3.13.7").restrict(only)
    sought = _sought(None, _join_status())
    reference = compared(sought, old, old, SPEC, target="netflix:3.13.6", repeats=1,
                         reference=True)  # fmt: skip
    assert (reference.finished, reference.recorded, reference.tells) == (0, 1, True)
    last = compared(sought, old, new, SPEC, target="netflix:3.13.7", repeats=1)
    assert (last.showing, last.runs, last.tells, last.always) == (1, 1, True, True)
    needed = steps_needed(last)
    assert needed == {"optional-fork-branch": 3.0}
    same = compared(sought, old, old, SPEC, target="netflix:3.13.6", repeats=1, needed=needed)
    assert (same.showing, same.runs, same.tells, same.shows()) == (0, 1, True, False)
    blind = compared(sought, old, old, SPEC, target="netflix:3.13.6", repeats=1)
    assert (blind.runs, blind.tells) == (0, False)


def test_a_run_a_wait_stopped_shows_the_difference_where_its_last_snapshot_stands() -> None:
    """netflix 3.13.7's runs of explore.join-optional-failure-early (the lock off) stop at
    step 1, waiting for the optional task's COMPLETED_WITH_ERRORS; 3.13.8's decide it at
    once and go on. Where 3.13.8 next recorded snapshots (step 2), 3.13.7's last snapshot
    stands, as a comparison sees it: the JOIN completed with errors there on 3.13.8,
    IN_PROGRESS on 3.13.7. So 3.13.8 shows fork-branch-failure-decided-at-once in both of
    its runs, though its reference never got past step 1; the step only the stopped run's
    snapshot stands at is no ground for a no."""
    only = {"explore.join-optional-failure-early"}
    old = load_trace_set(LOCK_OFF / "netflix-3.13.7").restrict(only)
    new = load_trace_set(LOCK_OFF / "netflix-3.13.8").restrict(only)
    sought = _sought("fork-branch-failure-decided-at-once")
    last = compared(sought, old, new, SPEC, target="netflix:3.13.8", repeats=2)
    assert (last.showing, last.runs, last.tells, last.always) == (2, 2, True, True)
    assert {(s.difference.path, s.difference.steps) for s in last.sightings} == {
        ("wf1.join#0.status", (2,))
    }
    needed = steps_needed(last)
    same = compared(sought, old, old, SPEC, target="netflix:3.13.7", repeats=2, needed=needed)
    assert (same.runs, same.tells) == (0, False)


def test_a_scenario_with_fewer_runs_than_another_is_left_out_of_that_pair() -> None:
    """fork-join-failure was recorded once on 3.13.7 and 3.13.8, the explore scenario twice:
    the second pair compares the explore scenario alone."""
    only = {"explore.join-optional-failure-early", "fork-join-failure"}
    old = load_trace_set(LOCK_OFF / "netflix-3.13.7").restrict(only)
    new = load_trace_set(LOCK_OFF / "netflix-3.13.8").restrict(only)
    last = compared(_sought("fork-branch-failure-decided-at-once"), old, new, SPEC,
                    target="netflix:3.13.8", repeats=2)  # fmt: skip
    assert (last.runs, last.tells) == (2, True)
    assert "explore.join-optional-failure-early" in {s.scenario for s in last.sightings}

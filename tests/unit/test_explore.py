"""explore's parts with no server: the drawn scenarios, the search and its shrinking, the
differences a generated scenario shows (on traces an explore run recorded from real
servers: fixtures/explore/sub-workflow-variables, netflix:3.15.0 and oss:3.32.1, three
runs each), and the files a run writes."""

from __future__ import annotations

import json
import re
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from harness.classify import load_settings
from harness.errors import BadInputError
from harness.explore.render import render
from harness.explore.search import Found, Search, Tally, size
from harness.explore.strategies import MAX_ITERATIONS, Drawn, Node, drawn
from harness.pipeline.explore import without
from harness.pipeline.explore_pair import Pair, Race, Shown, race_of, unexplained
from harness.pipeline.explore_write import write_findings
from harness.pipeline.plan import Plan
from harness.scenarios import load_scenario
from tests.unit.traces import FIXTURES

RECORDED = FIXTURES / "explore" / "sub-workflow-variables"
BASELINE, CANDIDATE = "netflix:3.15.0", "oss:3.32.1"
REFERENCE = re.compile(r"\$\{(t\d+)\.")


def _tasks(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for task in tasks:
        out.append(task)
        for branch in task.get("forkTasks", []):
            out += _tasks(branch)
        for case in task.get("decisionCases", {}).values():
            out += _tasks(case)
        out += _tasks(task.get("defaultCase", []))
        out += _tasks(task.get("loopOver", []))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(drawn)
def test_every_drawing_is_a_valid_scenario_that_ends_by_itself(
    tmp_path_factory: pytest.TempPathFactory, example: Drawn
) -> None:
    document = render(example)
    assert render(example) == document  # the same drawing, the same scenario (and name)
    file = tmp_path_factory.mktemp("drawn") / "scenario.yaml"
    file.write_text(yaml.safe_dump(document, sort_keys=False))
    scenario = load_scenario(file)  # schema and checks: raises on any problem
    assert scenario.name == document["name"]
    for workflow in document["definitions"]["workflows"]:
        tasks = _tasks(workflow["tasks"])
        refs = [t["taskReferenceName"] for t in tasks]
        assert len(refs) == len(set(refs))
        for task in tasks:
            text = json.dumps(task.get("inputParameters", {}))
            assert "${None" not in text
            for named in REFERENCE.findall(text):  # only tasks written before it
                assert refs.index(named) < refs.index(task["taskReferenceName"])
            if task.get("type") == "DO_WHILE":
                assert task["inputParameters"]["times"] <= MAX_ITERATIONS
                assert not any(t.get("type") == "DO_WHILE" for t in _tasks(task["loopOver"]))
            if task.get("type") == "WAIT":
                assert task["inputParameters"]["duration"] in ("1s", "2s")
    # a worker's output names only what every task has (the whole input, never a key)
    assert "{{input." not in json.dumps(document.get("workers", {}))
    # concurrent branches: the order of their tasks is not compared
    workflows = document["definitions"]["workflows"]
    forks = any(t.get("type") == "FORK_JOIN" for w in workflows for t in _tasks(w["tasks"]))
    assert document.get("compare", {}).get("ordered", True) is not forks
    assert document["steps"][-1]["wait"]["status"] == [
        "COMPLETED",
        "FAILED",
        "TERMINATED",
        "TIMED_OUT",
    ]


def _child_sets_a_variable(example: Drawn, phase: str) -> tuple[str, ...]:
    """The difference the recorded run found: a SET_VARIABLE in a sub-workflow."""
    document = render(example)
    workflows = document["definitions"]["workflows"]
    child = [t for w in workflows[1:] for t in _tasks(w["tasks"])]
    if any(t.get("type") == "SET_VARIABLE" for t in child):
        return ("variables",)
    return ()


def test_the_search_finds_a_difference_and_shrinks_it_to_the_smallest_scenario() -> None:
    search = Search(_child_sets_a_variable, seed=7, budget_s=120, database=None)
    found = search.run(rounds=1)
    assert [f.signature for f in found] == ["variables"]
    finding = found[0]
    assert finding.shrunk and finding.shrinking == "complete"
    tasks = [t for t in finding.drawn.tasks]
    # a SUB_WORKFLOW whose child is one SET_VARIABLE, and one worker drawn
    assert [n.kind for n in tasks] == ["SUB_WORKFLOW"]
    assert [n.kind for n in finding.drawn.child] == ["SET_VARIABLE"]
    assert finding.size == size(finding.drawn) == 3
    assert search.tally.examples > search.tally.shrink_examples > 0


def test_failing_examples_are_saved_and_replayed_first(tmp_path: Path) -> None:
    first = Search(_child_sets_a_variable, seed=7, budget_s=120, database=tmp_path / "db")
    (found,) = first.run(rounds=1)
    assert any((tmp_path / "db").rglob("*"))  # saved, though the search is seeded
    again = Search(_child_sets_a_variable, seed=8, budget_s=120, database=tmp_path / "db")
    (replayed,) = again.run(rounds=1)
    assert replayed.drawn == found.drawn
    assert again.tally.examples < first.tally.examples  # it started from the saved one


def test_a_spent_budget_plays_nothing_and_finds_nothing() -> None:
    search = Search(_child_sets_a_variable, seed=7, budget_s=0, database=None)
    assert search.run() == []
    assert search.tally.examples == 0


def test_size_counts_tasks_inside_composite_ones_and_the_workers() -> None:
    leaf = Node("NOOP", ((),))
    fork = Node("FORK_JOIN", (), ((leaf,), (leaf, leaf)))
    example = Drawn(workers=(), tasks=(fork,), child=(leaf,), inputs=(), outputs=())
    assert size(example) == 1 + 3 + 1


def _pair(tmp_path: Path) -> Pair:
    return Pair({}, BASELINE, CANDIDATE, tmp_path, load_settings())


def test_a_recorded_difference_is_unexplained_only_without_its_change() -> None:
    name = load_scenario(RECORDED / "scenario.yaml").name
    change = "sub-workflow-first-decision-queued"  # what the recorded run led to
    full = Pair({}, BASELINE, CANDIDATE, RECORDED, load_settings())._assess(RECORDED, name)
    assert unexplained(full, 2) == {}
    assert {f.change["id"] for f in full.findings if f.change} >= {change}
    less = without(load_settings(), (change,))
    result = Pair({}, BASELINE, CANDIDATE, RECORDED, less)._assess(RECORDED, name)
    found = unexplained(result, 2)
    (difference,) = [d for d in found.values() if d["shape"].endswith("variables.v0")]
    assert difference["shape"] == "wf2.workflowDefinition.variables.v0"
    assert (difference["baseline"], difference["candidate"]) == (1, None)
    assert difference["rate"] == [3, 3]  # in every candidate run, never between baseline runs


def test_without_a_change_the_catalog_no_longer_explains_it() -> None:
    full = load_settings()
    less = without(full, ("sub-workflow-priority-input",))
    assert len(less.catalog.changes) == len(full.catalog.changes) - 1
    with pytest.raises(BadInputError, match="no change nope"):
        without(full, ("nope",))


def test_a_finding_is_written_as_a_scenario_file_that_loads(tmp_path: Path) -> None:
    example = Drawn(
        workers=(),
        tasks=(Node("SUB_WORKFLOW"),),
        child=(Node("SET_VARIABLE", (0, ())),),
        inputs=(),
        outputs=(),
    )
    document = render(example)
    difference = {
        "level": "data",
        "kind": "removed",
        "path": "wf2.workflowDefinition.variables.v0",
        "shape": "wf2.workflowDefinition.variables.v0",
        "baseline": 1,
        "candidate": None,
        "severity": "breaking",
        "rate": None,
    }
    shown = Shown(
        document["name"], RECORDED, document, {"abc": difference}, (), "incompatible", 3, 9.0
    )
    plan = Plan(kind="explore", baseline=BASELINE, candidates=(CANDIDATE,), out=str(tmp_path))
    found = [Found("abc", example, size(example), 4, True)]
    files = write_findings(
        tmp_path, plan, seed=5, found=found, memo={shown.name: shown}, tally=Tally(10, 4, 1),
        seconds=60.0,
    )  # fmt: skip
    (written,) = files.findings
    text = written.file.read_text()
    assert text.startswith("# Found by `conductor-compat explore` on netflix:3.15.0 -> oss:3.32.1")
    scenario = load_scenario(written.file)
    assert scenario.name == "explore-abc"
    assert "variables.v0 (removed): 1 -> null" in scenario.description
    summary = json.loads((tmp_path / "explore.json").read_text())
    assert summary["examples"] == 10 and summary["examples_per_minute"] == 10.0
    assert summary["findings"][0]["shrunk"] == "complete"
    assert (tmp_path / "findings" / "abc" / "netflix-3.15.0").is_dir()
    assert "| `scenarios/explore-abc.yaml` | yes | 2 |" in (tmp_path / "explore.md").read_text()


RACE = FIXTURES / "explore" / "race-terminate.tar.xz"  # 10 runs on each, recorded
RACED = "explore-427d4c3412079c35"  # fixtures/explore/triaged/: a worker task beside a TERMINATE


def _runs(tmp_path: Path, first: int) -> Path:
    """The recorded race's first ``first`` runs of each target, as a run folder."""
    with tarfile.open(RACE) as archive:
        archive.extractall(tmp_path / "all", filter="data")
    folder = tmp_path / f"first-{first}"
    for target in ("netflix-3.15.0", "oss-3.32.1"):
        (folder / target).mkdir(parents=True)
        for n in range(1, first + 1):
            part = "" if n == 1 else f".run{n}"
            trace = f"{RACED}{part}.trace.json"
            shutil.copy(tmp_path / "all" / target / trace, folder / target / trace)
    return folder


def test_a_finding_that_more_runs_show_both_ways_on_the_baseline_is_a_race(
    tmp_path: Path,
) -> None:
    """Recorded: on netflix:3.15.0 whether the worker gets its task before the TERMINATE
    in the other branch cancels it is a coin toss (its in-memory queue breaks a tie by task
    id); oss:3.32.1's SQLite queue hands it out in order. Three runs of each happened to
    agree; ten show the baseline's own runs differ."""
    pair = Pair({}, BASELINE, CANDIDATE, tmp_path, load_settings())
    three = _runs(tmp_path, 3)
    found = unexplained(pair._assess(three, RACED), 2)
    sought = next(s for s, d in found.items() if d["path"] == "wf1.t4#0.status")
    assert (found[sought]["baseline"], found[sought]["candidate"]) == ("COMPLETED", "CANCELED")
    assert race_of(pair._assess(three, RACED), sought, found[sought], 3, 2) is None
    ten = pair._assess(_runs(tmp_path, 10), RACED)
    race = race_of(ten, sought, found[sought], 10, 2)
    assert race is not None and race.verdict == "inconclusive"
    assert "the baseline itself is not deterministic" in race.why


def test_a_race_is_written_apart_and_is_not_a_finding(tmp_path: Path) -> None:
    example = Drawn(workers=(), tasks=(Node("SUB_WORKFLOW"),),
                    child=(Node("SET_VARIABLE", (0, ())),), inputs=(), outputs=())  # fmt: skip
    document = render(example)
    difference = {"level": "tasks", "kind": "changed", "path": "wf1.t1#0.status",
                  "shape": "wf1.*.status", "baseline": "COMPLETED", "candidate": "CANCELED",
                  "severity": "behavioral", "rate": [3, 3]}  # fmt: skip
    shown = Shown(document["name"], RECORDED, document, {"r": difference}, (), "incompatible",
                  11, 9.0)  # fmt: skip
    race = Race("r", difference, 11, "not shown", "inconclusive", "the baseline itself is not "
                "deterministic: its runs differ at the tasks level (45 noisy paths)")  # fmt: skip
    plan = Plan(kind="explore", baseline=BASELINE, candidates=(CANDIDATE,), out=str(tmp_path))
    files = write_findings(
        tmp_path, plan, seed=5, found=[Found("r", example, 1, 0, True)],
        memo={shown.name: shown}, tally=Tally(10, 0, 1), seconds=60.0, races={"r": race},
    )  # fmt: skip
    assert files.findings == []
    assert load_scenario(tmp_path / "races" / "explore-r.yaml").name == "explore-r"
    summary = json.loads((tmp_path / "explore.json").read_text())
    assert summary["findings"] == [] and summary["races"][0]["runs"] == 11
    assert "the baseline itself is not deterministic" in (tmp_path / "explore.md").read_text()

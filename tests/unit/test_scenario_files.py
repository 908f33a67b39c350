"""Scenario files: the shipped library loads, and every kind of mistake is located."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import yaml

from harness.documents.source import Problem
from harness.scenarios import ScenarioError, load_all, load_scenario

ROOT = Path(__file__).resolve().parents[2]

VALID = """\
name: tiny
definitions:
  workflows:
    - name: wf
      tasks:
        - {name: cc_work, taskReferenceName: work}
        - {name: gate, taskReferenceName: gate, type: WAIT}
steps:
  - start: {workflow: wf, as: main}
  - wait: {workflow: main, status: COMPLETED}
"""


def problems_of(tmp_path: Path, text: str, name: str = "s.yaml", **kwargs: bool) -> list[Problem]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, tmp_path, **kwargs)
    return caught.value.problems


def test_the_shipped_library_is_valid() -> None:
    loaded = load_all([ROOT / "scenarios"])
    assert [p.render() for p in loaded.problems] == []
    assert len(loaded.scenarios) >= 12
    assert len({s.name for s in loaded.scenarios}) == len(loaded.scenarios)


def test_a_valid_file_gets_harness_defaults(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(VALID)
    scenario = load_scenario(tmp_path / "s.yaml", tmp_path)
    (task_def,) = scenario.task_defs  # inferred for the SIMPLE task only, not for WAIT
    assert task_def["name"] == "cc_work" and task_def["retryCount"] == 0
    assert scenario.workflows[0]["version"] == 1
    assert set(scenario.workers) == {"cc_work"}
    assert len(scenario.digest) == 64


def test_a_misspelled_key_names_its_line_and_a_suggestion(tmp_path: Path) -> None:
    text = VALID.replace("status: COMPLETED", "staus: COMPLETED")
    (problem,) = problems_of(tmp_path, text)
    assert (problem.line, problem.column) == (10, 28)
    assert "unknown field 'staus'; did you mean 'status'?" in problem.message
    assert problem.field == "steps[1].wait.staus"
    assert problem.render().startswith(f"{tmp_path / 's.yaml'}:10:28: ")


def test_a_misspelled_value_suggests_the_allowed_one(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, VALID.replace("COMPLETED", "COMPLETD"))
    assert problem.line == 10 and "did you mean 'COMPLETED'?" in problem.message


def test_a_misspelled_step_action_is_caught(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, VALID.replace("  - wait:", "  - wiat:"))
    assert problem.line == 10 and "did you mean 'wait'?" in problem.message


def test_malformed_yaml_gets_a_location(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, "name: x\nsteps: [a, b\n")
    assert problem.line == 3 and problem.message.startswith("malformed YAML")


def test_duplicate_keys_are_reported_not_collapsed(tmp_path: Path) -> None:
    text = VALID.replace("  - wait:", "  - start: {workflow: wf}\n    wait:", 1)
    text = text.replace("    wait:", "    start:", 1)
    problems = problems_of(tmp_path, text)
    assert any("duplicate key 'start'" in p.message and p.line == 11 for p in problems)


def test_missing_required_fields(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, "name: x\n")
    assert problem.message == "missing required field 'steps'"


def test_names_that_must_exist(tmp_path: Path) -> None:
    text = VALID.replace("start: {workflow: wf,", "start: {workflow: wff,").replace(
        "wait: {workflow: main", "wait: {workflow: mian"
    )
    problems = {p.field: p.message for p in problems_of(tmp_path, text)}
    assert problems["steps[0].start.workflow"] == "no workflow named 'wff'; did you mean 'wf'?"
    assert "'mian'; did you mean 'main'?" in problems["steps[1].wait.workflow"]


def test_a_worker_for_an_unknown_task(tmp_path: Path) -> None:
    text = VALID + "workers:\n  cc_wrok: {poll: false}\n"
    (problem,) = problems_of(tmp_path, text)
    assert problem.message == "no worker task named 'cc_wrok'; did you mean 'cc_work'?"
    assert problem.line == 12


def test_worker_tasks_may_not_be_named_like_system_tasks(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, VALID.replace("cc_work", "llm_chat_complete"))
    assert "system task type LLM_CHAT_COMPLETE" in problem.message


def test_file_references_stay_inside_the_roots(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (tmp_path / "outside.json").write_text('{"name": "wf", "tasks": []}')
    text = VALID.replace("    - name: wf\n", "    - file: ../outside.json\n    - name: wf\n")
    (problem,) = problems_of(scenarios, text)
    assert "outside the scenario root" in problem.message and problem.line == 4


def test_file_references_under_fixtures_are_read(tmp_path: Path) -> None:
    (tmp_path / "fixtures" / "defs").mkdir(parents=True)
    (tmp_path / "fixtures" / "defs" / "wf2.json").write_text(
        '{"name": "wf2", "tasks": [{"name": "cc_other", "taskReferenceName": "o"}]}'
    )
    folder = tmp_path / "scenarios"
    folder.mkdir()
    text = VALID.replace("    - name: wf\n", "    - file: fixtures/defs/wf2.json\n    - name: wf\n")
    (folder / "s.yaml").write_text(text)
    scenario = load_scenario(folder / "s.yaml", folder)
    assert [w["name"] for w in scenario.workflows] == ["wf2", "wf"]
    assert "cc_other" in scenario.workers


def test_a_broken_referenced_file_is_located_in_that_file(tmp_path: Path) -> None:
    (tmp_path / "wf.json").write_text('{"name": "wf",\n "tasks": [}')
    text = VALID.replace("    - name: wf\n", "    - file: wf.json\n    - name: wf\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.file.endswith("wf.json") and problem.line == 2


HTTP = """\
name: http
allow_outbound: true
definitions:
  workflows:
    - name: wf
      tasks:
        - name: call
          taskReferenceName: call
          type: HTTP
          inputParameters:
            http_request: {uri: "URI", method: GET}
steps:
  - start: {workflow: wf}
"""


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("https://api.example.com/x", "calls 'api.example.com', not the local stub"),
        ("http://169.254.169.254/latest", "calls '169.254.169.254'"),
        ("${workflow.input.url}", "computed at run time"),
    ],
)
def test_http_tasks_may_call_only_the_stub(tmp_path: Path, uri: str, fragment: str) -> None:
    (problem,) = problems_of(tmp_path, HTTP.replace("URI", uri))
    assert fragment in problem.message and problem.line == 11


def test_outbound_calls_need_the_scenario_and_the_run_to_allow_them(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(HTTP.replace("URI", "https://api.example.com/x"))
    assert load_scenario(tmp_path / "s.yaml", tmp_path, allow_outbound=True).allow_outbound
    (tmp_path / "s.yaml").write_text(
        HTTP.replace("URI", "https://api.example.com/x").replace("allow_outbound: true\n", "")
    )
    with pytest.raises(ScenarioError):
        load_scenario(tmp_path / "s.yaml", tmp_path, allow_outbound=True)


def test_the_stub_is_allowed(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(HTTP.replace("URI", "http://stub/echo"))
    assert load_scenario(tmp_path / "s.yaml", tmp_path).name == "http"


def test_sleep_is_only_for_wall_clock_scenarios(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, VALID + "  - sleep: 2\n")
    assert "wall-clock" in problem.message
    (tmp_path / "t.yaml").write_text(
        VALID.replace("name: tiny", "name: t\ntags: [wall-clock]") + "  - sleep: 2\n"
    )
    assert load_scenario(tmp_path / "t.yaml", tmp_path).steps[-1].action == "sleep"


def test_a_step_has_one_action(tmp_path: Path) -> None:
    text = VALID + "  - pause: main\n    resume: main\n"
    (problem,) = problems_of(tmp_path, text)
    assert problem.message == "a step has exactly one action; found pause, resume"


def test_bad_version_specifiers(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, VALID + "applies_to:\n  oss: 'newer than 3'\n")
    assert "not a version specifier" in problem.message and problem.line == 12


def test_applicability(tmp_path: Path) -> None:
    text = (
        VALID
        + "applies_to:\n  netflix: {versions: none, reason: absent in 3.15}\n  oss: '>=3.32'\n"
    )
    (tmp_path / "s.yaml").write_text(text)
    scenario = load_scenario(tmp_path / "s.yaml", tmp_path)
    assert scenario.applicability("netflix", "3.15.0") == (False, "absent in 3.15")
    assert scenario.applicability("oss", "3.21.14")[0] is False
    assert scenario.applicability("oss", "3.32.1") == (True, None)
    assert scenario.applicability("remote", None) == (True, None)


def test_two_files_with_one_name(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text(VALID)
    loaded = load_all([tmp_path])
    assert len(loaded.scenarios) == 1
    assert "also used by" in loaded.problems[0].message


CHILD = """\
name: child-alias
definitions:
  workflows:
    - name: kid_wf
      tasks: [{name: gate, taskReferenceName: gate, type: WAIT}]
    - name: parent_wf
      tasks: [{name: call, taskReferenceName: call, type: SUB_WORKFLOW,
               subWorkflowParam: {name: kid_wf, version: 1}}]
steps:
  - start: {workflow: parent_wf, as: main}
  - child: {workflow: main, task: call, as: kid}
  - complete_task: {workflow: kid, task: gate}
"""


def test_a_child_step_names_a_new_alias(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(CHILD)
    scenario = load_scenario(tmp_path / "s.yaml", tmp_path)
    assert [s.action for s in scenario.steps] == ["start", "child", "complete_task"]


def test_a_child_step_needs_a_known_parent_and_task(tmp_path: Path) -> None:
    text = CHILD.replace("{workflow: main, task: call,", "{workflow: mian, task: cal,")
    messages = [p.message for p in problems_of(tmp_path, text)]
    assert any("no earlier step started a workflow as 'mian'" in m for m in messages)
    assert any("no task with reference 'cal'" in m for m in messages)


CALL_AS = """
name: call-as
definitions:
  workflows:
    - name: w
      tasks: [{name: gate, taskReferenceName: gate, type: WAIT}]
steps:
  - call: {method: POST, path: /api/workflow, body: {name: "{{name.w}}", version: 1}, as: main}
  - complete_task: {workflow: main, task: gate}
"""


def test_a_call_that_starts_a_workflow_names_an_alias(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(CALL_AS)
    scenario = load_scenario(tmp_path / "s.yaml", tmp_path)
    assert scenario.steps[0].args["as"] == "main"
    text = CALL_AS.replace(", as: main}", "}")
    messages = [p.message for p in problems_of(tmp_path, text)]
    assert any("no earlier step started a workflow as 'main'" in m for m in messages)


CATALOG = ROOT.parent / "shared" / "CATALOG.md"
# "TT-07a\u2013d" (an en dash), "TT-03a/b", "WO-04..09", "TT-06": ids and ranges in CATALOG.md
CATALOG_IDS = re.compile(
    r"\b([A-Z]{2,3})-(\d{2})([a-z](?:(?:/[a-z])+|[\u2013-][a-z])?)?(?:\.\.(\d{2}))?(?![\w-])"
)


SECTION = re.compile(r"^\*\*([A-Z]{2,3}-\d{2})\b")  # "**TT-03 INLINE** ..."
ITEM = re.compile(r"^- ([a-z])\) ")  # "- c) ..." under it: TT-03c


def catalog_ids(text: str) -> set[str]:
    """Every id the catalog names, ranges expanded, lettered items of a section too."""
    ids: set[str] = set()
    section = ""
    for line in text.splitlines():
        heading, item = SECTION.match(line), ITEM.match(line)
        section = heading.group(1) if heading else section
        if item and section:
            ids.add(section + item.group(1))
    for prefix, number, letters, last in CATALOG_IDS.findall(text):
        numbers = range(int(number), int(last or number) + 1)
        if letters and ("\u2013" in letters or "-" in letters):
            suffixes = [chr(c) for c in range(ord(letters[0]), ord(letters[-1]) + 1)]
        else:
            suffixes = letters.split("/") if letters else [""]
        ids |= {f"{prefix}-{n:02d}{s}" for n in numbers for s in suffixes}
        ids |= {f"{prefix}-{n:02d}" for n in numbers}  # TT-07a covers TT-07
    return ids


def test_catalog_ids_of_the_library_name_entries_of_the_catalog() -> None:
    if not CATALOG.is_file():
        pytest.skip(f"the catalog is not here: {CATALOG} (../shared/)")
    known = catalog_ids(CATALOG.read_text())
    used = {
        (entry, path.relative_to(ROOT).as_posix())
        for path in sorted((ROOT / "scenarios").rglob("*.yaml"))
        for entry in (yaml.safe_load(path.read_text()) or {}).get("catalog") or []
    }
    assert len(used) >= 60
    assert sorted((e, p) for e, p in used if e not in known) == []


def test_catalog_ranges_expand() -> None:
    assert catalog_ids("TT-07a\u2013d, TT-03a/b, WO-04..09") >= {
        "TT-07a", "TT-07d", "TT-03b", "WO-04", "WO-09"
    }  # fmt: skip
    assert "TT-07e" not in catalog_ids("TT-07a\u2013d")
    assert "TT-03f" in catalog_ids("**TT-03 INLINE** \u2014 T0\n- a) value\n- f) Script error")


@pytest.mark.parametrize("folder", ["netflix-3.15.0", "netflix-3.15.0-lock-off"])
def test_every_scenario_has_a_current_committed_baseline(folder: str) -> None:
    # gate skips a scenario whose file changed since its baseline was recorded: after
    # editing a scenario, re-record its baseline (scripts/record-baselines).
    baselines = ROOT / "fixtures" / "baselines" / folder
    recorded: dict[str, set[str]] = {}
    for path in baselines.glob("*.trace.json"):
        scenario = json.loads(path.read_text())["scenario"]
        recorded.setdefault(scenario["name"], set()).add(scenario["digest"])
    library = load_all([ROOT / "scenarios"]).scenarios
    stale = sorted(f"{s.name} ({s.file})" for s in library if recorded.get(s.name) != {s.digest})
    assert stale == []
    assert len(recorded) == len(library)

"""YAML features a scenario author may use, and those refused with a location."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.cli.app import main
from harness.documents.limits import Limits
from harness.documents.source import SourceError, read_source
from harness.errors import ExitCode
from harness.scenarios import load_scenario

MERGED = """\
name: merged
task_defaults: &retry {retryCount: 2, retryDelaySeconds: 0}
definitions:
  workflows:
    - name: wf
      tasks:
        - &work {name: cc_work, taskReferenceName: work, inputParameters: {a: 1}}
        - <<: *work
          taskReferenceName: again
        - <<: [{name: cc_other, taskReferenceName: other}, *work]
  task_defs:
    - {<<: *retry, name: cc_work}
steps:
  - start: {workflow: wf, as: main}
  - wait: {workflow: main, status: COMPLETED}
"""


def _source(tmp_path: Path, text: str, limits: Limits | None = None) -> object:
    path = tmp_path / "d.yaml"
    path.write_text(textwrap.dedent(text))
    return read_source(path, limits or Limits()).data


def _problems(tmp_path: Path, text: str, limits: Limits | None = None) -> list[str]:
    path = tmp_path / "d.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(SourceError) as caught:
        read_source(path, limits or Limits())
    return [p.render().replace(f"{path}:", "") for p in caught.value.problems]


def test_a_merge_key_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(MERGED)
    assert main(["validate", str(path)]) == ExitCode.OK, capsys.readouterr()
    tasks = load_scenario(path, tmp_path).workflows[0]["tasks"]
    assert tasks[1] == {
        "name": "cc_work",
        "taskReferenceName": "again",
        "inputParameters": {"a": 1},
    }
    # Of several mappings merged, the first wins; keys written in place win over all.
    assert tasks[2]["name"] == "cc_other" and tasks[2]["inputParameters"] == {"a": 1}


def test_merge_keys_follow_yaml_rules(tmp_path: Path) -> None:
    data = _source(tmp_path, "d: &d {a: 1, b: 2}\nx: {<<: *d, b: 3}\ny: {b: 3, <<: *d}\n")
    assert data == {"d": {"a": 1, "b": 2}, "x": {"a": 1, "b": 3}, "y": {"a": 1, "b": 3}}


def test_a_merge_key_needs_mappings(tmp_path: Path) -> None:
    assert _problems(tmp_path, "x: {<<: 3}\n") == [
        "1:9: a merge key (<<) takes a mapping or a list of mappings (at x)"
    ]


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, "a: &a [1, *a]\n")
    assert problem.startswith("1:11: the alias '*a' is inside the node it names")


def test_deep_nesting_is_refused_where_it_passes_the_limit(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, "a: " + "[" * 150 + "]" * 150 + "\n")
    assert problem == "1:103: nested more than 100 levels deep"
    nested = "a: &a " + "[" * 60 + "]" * 60 + "\nb: " + "[" * 60 + "*a" + "]" * 60 + "\n"
    (problem,) = _problems(tmp_path, nested)
    assert "the alias '*a' nests the document more than 100 levels deep" in problem


def test_a_large_expansion_is_refused_at_the_alias(tmp_path: Path) -> None:
    text = "a: &a [" + ", ".join(["x"] * 40) + "]\nb: [*a, *a, *a]\n"
    (problem,) = _problems(tmp_path, text, Limits(max_file_bytes=20 * 100))
    assert problem.startswith("2:9: with its aliases expanded, the document holds more than")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: !!binary aGVsbG8=\n", "1:4: the YAML tag !!binary is not supported"),
        ("a: !!python/object:os.system ls\n", "1:4: the YAML tag !!python/object:os.system"),
        ("a: !custom x\n", "1:4: the YAML tag !custom is not supported"),
        ("a: " + "9" * 5000 + "\n", "1:4: cannot read the value: Exceeds the limit"),
        ("? [a]\n: 1\n", "1:3: keys must be text"),
    ],
)
def test_values_that_are_not_json_are_refused(tmp_path: Path, text: str, expected: str) -> None:
    (problem,) = _problems(tmp_path, text)
    assert problem.startswith(expected)


def test_dates_stay_text_even_when_impossible(tmp_path: Path) -> None:
    assert _source(tmp_path, "a: 2024-01-31\nb: 2020-13-45\n") == {
        "a": "2024-01-31",
        "b": "2020-13-45",
    }


def test_a_problem_inside_an_anchor_is_reported_once(tmp_path: Path) -> None:
    assert _problems(tmp_path, "d: &d {a: 1, a: 2}\nx: *d\ny: *d\n") == [
        "1:14: duplicate key 'a' (YAML would silently keep only the last one) (at d.a)"
    ]


DEFAULTS = """\
name: defaults
task_defaults: &retry {retryCount: 2, retryDelaySeconds: 0}
definitions:
  task_defs:
    - &first
      name: cc_first
      timeoutSeconds: 60
      <<: *retry
    - <<: *first
      name: cc_second
      retryCount: 5
  workflows:
    - name: wf
      inputParameters: [x]
      tasks:
        - &task
          name: cc_first
          taskReferenceName: first
          inputParameters: &inputs {x: "${workflow.input.x}", y: 1}
        - <<: [*task, {taskReferenceName: ignored, optional: true}]
          taskReferenceName: second
          name: cc_second
          inputParameters: {<<: *inputs, y: 2}
steps:
  - start: &start {workflow: wf, input: {x: 1}, as: main}
  - wait: &done {workflow: main, status: COMPLETED}
  - start: {<<: *start, as: again}
  - wait: {<<: *done, workflow: again}
"""


def test_merge_keys_load_into_a_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(DEFAULTS)
    assert main(["validate", str(path)]) == ExitCode.OK, capsys.readouterr()
    scenario = load_scenario(path, tmp_path)
    first, second = scenario.task_defs
    assert (first["name"], first["retryCount"], first["timeoutSeconds"]) == ("cc_first", 2, 60)
    # a merged mapping that itself merges brings the keys of both; written keys win
    assert (second["name"], second["retryCount"], second["timeoutSeconds"]) == ("cc_second", 5, 60)
    assert second["retryDelaySeconds"] == 0
    tasks = scenario.workflows[0]["tasks"]
    assert tasks[1]["taskReferenceName"] == "second" and tasks[1]["optional"] is True
    assert tasks[1]["inputParameters"] == {"x": "${workflow.input.x}", "y": 2}
    assert tasks[0]["inputParameters"] == {"x": "${workflow.input.x}", "y": 1}  # untouched
    assert [s.args.get("as") for s in scenario.steps if s.action == "start"] == ["main", "again"]
    assert scenario.steps[3].args == {"workflow": "again", "status": "COMPLETED"}


def test_problems_in_merged_mappings_are_located_where_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: merged_errors\n"
        "definitions:\n"
        "  workflows:\n"
        "    - name: wf\n"
        "      tasks:\n"
        "        - {name: cc_a, taskReferenceName: a}\n"
        "steps:\n"
        "  - start: &start {workflow: wf, as: main, bogus: 1}\n"
        "  - start:\n"
        "      <<: *start\n"
        "      as: second\n"
        "  - wait: &wait {workflow: main, status: COMPLETED}\n"
        "  - wait:\n"
        "      <<: *wait\n"
        "      status: DONE\n"
    )
    assert main(["validate", str(path)]) == ExitCode.BAD_INPUT
    out = capsys.readouterr().out.replace(f"{path}:", "")
    # the merged-in key: once, at the anchor that holds it, named where first met
    assert out.count("unknown field 'bogus'") == 1
    assert "8:44: unknown field 'bogus'" in out and "(at steps[0].start.bogus)" in out
    # a key written next to the merge key: at its own line
    assert '15:15: "DONE" is not allowed' in out


def test_a_merge_key_outside_a_mapping_value_is_refused_with_its_place(tmp_path: Path) -> None:
    # at the merge key when its value is an alias (the anchor is elsewhere)
    assert _problems(tmp_path, "a: &a [1]\nb:\n  <<: *a\n") == [
        "3:3: a merge key (<<) takes a mapping or a list of mappings (at b)"
    ]
    # at the item that is not a mapping, when written in place
    assert _problems(tmp_path, "a: &a {x: 1}\nb: {<<: [*a, 2]}\n") == [
        "2:14: a merge key (<<) takes a mapping or a list of mappings (at b)"
    ]
    assert _problems(tmp_path, "a: &a 1\nb: {<<: [{y: 1}, *a]}\n") == [
        "2:9: a merge key (<<) takes a mapping or a list of mappings (at b)"
    ]

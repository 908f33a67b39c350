"""The config file: where it is found, how it is checked, and that a flag beats it."""

from __future__ import annotations

import argparse
import json
import re
import tomllib
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from harness.cli import config
from harness.cli.app import build_parser, main
from harness.cli.config import CONFIG_NAME, find_config, load_config, render_schema
from harness.cli.config_cmd import reference_table
from harness.cli.options import configurable
from harness.documents import DocumentError
from harness.errors import BadInputError, ExitCode
from harness.schemas import load_schema, schema_errors

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "configuration.md"


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(DocumentError) as caught:
        load_config(explicit=path)
    return [p.render() for p in caught.value.problems]


def _settled(argv: list[str]) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    config.apply(args)
    return args


# Where the file is found


def test_the_nearest_folder_with_a_config_file_wins(tmp_path: Path) -> None:
    _write(tmp_path, CONFIG_NAME, "jobs = 2\n")
    near = _write(tmp_path / "a", CONFIG_NAME, "jobs = 3\n")
    assert find_config(tmp_path / "a" / "b") == near
    assert load_config(start=tmp_path / "a" / "b")["jobs"] == 3
    assert load_config(start=tmp_path)["jobs"] == 2


def test_the_own_file_wins_over_pyproject_in_the_same_folder(tmp_path: Path) -> None:
    _write(tmp_path, "pyproject.toml", '[tool.conductor-compat]\nprofile = "redis"\n')
    own = _write(tmp_path, CONFIG_NAME, "jobs = 2\n")
    assert find_config(tmp_path) == own
    assert load_config(start=tmp_path)["profile"] == "embedded"


def test_a_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    outer = _write(tmp_path, "pyproject.toml", '[tool.conductor-compat]\nprofile = "redis"\n')
    _write(tmp_path / "pkg", "pyproject.toml", '[project]\nname = "conductor-compat-x"\n')
    assert find_config(tmp_path / "pkg") == outer
    loaded = load_config(start=tmp_path / "pkg")
    assert loaded["profile"] == "redis"
    assert loaded.origin("profile") == f"{outer}:2"


def test_no_file_gives_the_defaults(tmp_path: Path) -> None:
    loaded = load_config(start=tmp_path)
    assert loaded.file is None and loaded.given() == {}
    assert loaded["candidates"] == ["oss:3.32.1"] and loaded["isolation"] is True
    assert {s.origin for s in loaded.settings.values()} == {"default"}
    assert list(loaded.settings) == [o.key for o in configurable()]


def test_an_explicit_file_beats_discovery_and_must_exist(tmp_path: Path) -> None:
    _write(tmp_path, CONFIG_NAME, "jobs = 2\n")
    other = _write(tmp_path / "elsewhere", "ci.toml", "jobs = 5\n")
    assert load_config(start=tmp_path, explicit=other)["jobs"] == 5
    with pytest.raises(BadInputError, match="no such file"):
        load_config(explicit=tmp_path / "missing.toml")


def test_an_explicit_file_of_another_name_may_hold_the_table(tmp_path: Path) -> None:
    path = _write(tmp_path, "ci.toml", "[tool.conductor-compat]\njobs = 5\n[tool.other]\nx = 1\n")
    loaded = load_config(explicit=path)
    assert loaded["jobs"] == 5 and loaded.origin("jobs") == f"{path}:2"


def test_values_are_typed_and_paths_relative_to_the_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "team",
        CONFIG_NAME,
        'paths = ["scenarios", "/abs/more"]\naccept = "compat/accept.yaml"\n'
        'fail_on_known = "no"\nready_timeout = 300\nisolation = false\n',
    )
    loaded = load_config(start=tmp_path / "team")
    assert loaded.file == path
    assert loaded["paths"] == [tmp_path / "team" / "scenarios", Path("/abs/more")]
    assert loaded["accept"] == tmp_path / "team" / "compat" / "accept.yaml"
    assert loaded["fail_on_known"] is False and loaded["isolation"] is False
    assert loaded["ready_timeout"] == 300.0 and isinstance(loaded["ready_timeout"], float)
    assert loaded.origin("accept") == f"{path}:2"


# Mistakes, each with its place


def test_an_unknown_key_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    path = _write(tmp_path, CONFIG_NAME, "# ours\njobs = 2\njbos = 4\n")
    assert _problems(path) == [
        f"{path}:3:1: unknown setting 'jbos'; did you mean 'jobs'? (at jbos)"
    ]


def test_errors_name_the_line_of_their_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        CONFIG_NAME,
        'runtime = "proces"\n\n  jobs = 0\nready_timeout = "5m"\ncandidates = "oss:3.32.1"\n'
        "[extra]\nx = 1\n",
    )
    problems = _problems(path)
    assert (
        problems[0]
        == f"{path}:1:1: \"proces\" is not allowed; did you mean 'process'? (at runtime)"
    )
    assert problems[1].startswith(f"{path}:3:3: 0 is less than the minimum of 1")
    assert problems[2] == f'{path}:4:1: expected number, got text "5m" (at ready_timeout)'
    assert problems[3].startswith(f"{path}:5:1: expected array")
    assert problems[4].startswith(f"{path}:6:1: unknown setting 'extra'")


def test_errors_in_pyproject_name_lines_of_the_whole_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "pyproject.toml",
        '[project]\nname = "x"\njobs = "not ours"\n\n[tool.conductor-compat]\n'
        'profile = "redis"\nnetwork = "bridged"\n',
    )
    assert _problems(path) == [
        f"{path}:7:1: \"bridged\" is not allowed; did you mean 'bridge'? (at network)"
    ]


def test_malformed_toml_names_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, CONFIG_NAME, 'jobs = 2\nprofile = "redis\n')
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:2:")


def test_an_explicit_pyproject_needs_the_table(tmp_path: Path) -> None:
    path = _write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')
    assert _problems(path) == [f"{path}:1:1: pyproject.toml has no [tool.conductor-compat] table"]


def test_a_bad_file_stops_the_command_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, CONFIG_NAME, "jobs = 2\nfail_on = 'all'\n")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(ROOT / "scenarios" / "tasks" / "decision.yaml")]) == 2
    err = capsys.readouterr().err
    assert f'{path}:2:1: "all" is not allowed' in err
    assert main(["targets", "list"]) == 0  # a command that takes no setting never reads it


def test_key_positions_skip_multiline_strings_and_find_dotted_keys() -> None:
    text = 'a = """\nb = 1\n"""\n[tool.conductor-compat]\n"jobs" = 2\nx.y = 3\n'
    positions = config.key_positions(text)
    assert positions[("a",)] == (1, 1)
    assert ("b",) not in positions
    assert positions[("tool", "conductor-compat")] == positions[("tool",)] == (4, 1)
    assert positions[("tool", "conductor-compat", "jobs")] == (5, 1)
    assert positions[("tool", "conductor-compat", "x", "y")] == (6, 1)


# Precedence: flag > file > default


def test_a_flag_beats_the_file_which_beats_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(
        tmp_path,
        CONFIG_NAME,
        'jobs = 4\nprofile = "redis"\ncandidates = ["oss:3.21.14", "oss:3.32.1"]\n'
        'isolation = false\nrecheck = false\nfail_on_known = false\nscrub = ["s.yaml"]\n',
    )
    monkeypatch.chdir(tmp_path)
    args = _settled(["compare", "--jobs", "2", "--candidate", "oss:3.32.1"])
    assert args.jobs == 2 and args.option_origins["jobs"] == "flag"
    assert args.candidate == ["oss:3.32.1"]  # a list given by flags replaces the file's
    assert args.profile == "redis" and args.option_origins["profile"] == f"{path}:2"
    assert args.runtime == "process" and args.option_origins["runtime"] == "default"
    assert args.no_isolation is True and args.no_recheck is True
    assert args.fail_on_known == "no"
    assert args.scrub == [tmp_path / "s.yaml"]
    assert args.config_file == path


def test_the_plan_of_a_compare_takes_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from harness.cli.compare_cmd import _plan

    _write(tmp_path / "s", "x.yaml", "name: x\n")
    _write(
        tmp_path,
        CONFIG_NAME,
        'paths = ["s"]\ncandidates = ["oss:3.21.14"]\nrecheck = false\n'
        'fail_on_known = "no"\nready_timeout = 90\nshipped_catalog = false\n',
    )
    monkeypatch.chdir(tmp_path / "s")
    plan = _plan(_settled(["compare", "--baseline-repeats", "3"]), "compare")
    assert plan.paths == (str(tmp_path / "s"),)
    assert plan.candidates == ("oss:3.21.14",) and plan.baseline == "netflix:3.15.0"
    assert (plan.recheck, plan.fail_on_known, plan.shipped_catalog) == (False, False, False)
    assert plan.ready_timeout_s == 90.0 and plan.baseline_repeats == 3


def test_resume_ignores_the_file_but_refuses_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli.compare_cmd import _resumed
    from harness.pipeline import Plan, RunFolder

    _write(tmp_path, CONFIG_NAME, 'jobs = 3\nprofile = "redis"\n')
    monkeypatch.chdir(tmp_path)
    plan = Plan(kind="compare", baseline="netflix:3.15.0", candidates=("oss:3.32.1",))
    RunFolder(tmp_path / "run").save(plan)
    resumed, _ = _resumed(_settled(["compare", "--resume", str(tmp_path / "run")]))
    assert resumed == plan
    code = main(["compare", "--resume", str(tmp_path / "run"), "--profile", "redis", "PATH"])
    assert code == ExitCode.BAD_INPUT
    assert "leave out PATH, --profile" in " ".join(capsys.readouterr().err.split())


def test_config_show_says_where_each_setting_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, CONFIG_NAME, "jobs = 4\nreuse = true\n")
    monkeypatch.chdir(tmp_path)
    assert main(["config", "show", "--jobs", "2", "--runtime", "docker"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["config"] == f"config file: {path}"
    assert re.match(r"jobs +\= 2 +# flag --jobs$", lines["jobs"])
    assert re.match(rf"reuse +\= true +# {re.escape(str(path))}:2$", lines["reuse"])
    assert re.match(r"profile +\= \"embedded\" +# default$", lines["profile"])
    assert main(["config"]) == 0


# One table, one schema, one document


def test_the_shipped_schema_is_the_one_the_option_table_gives() -> None:
    shipped = (ROOT / "harness" / "schemas" / "config.schema.json").read_text()
    assert shipped == render_schema(), (
        "regenerate it: python -c 'from harness.cli.config import render_schema; "
        'print(render_schema(), end="")\' > harness/schemas/config.schema.json'
    )
    schema = load_schema("config")
    Draft202012Validator.check_schema(schema)
    assert set(schema["properties"]) == {o.key for o in configurable()}


def test_every_default_is_valid_against_the_schema() -> None:
    settings = load_config(start=Path("/")).settings
    given = {key: s.value for key, s in settings.items() if s.value is not None}
    document = json.loads(json.dumps(given, default=str))  # paths as text, as in a file
    assert schema_errors("config", document) == []


def test_the_document_lists_every_setting_as_the_table_gives_it() -> None:
    text = DOC.read_text()
    assert reference_table(build_parser()) in text, "regenerate docs/configuration.md's table"
    for option in configurable():
        assert f"| `{option.key}` |" in text


def test_every_toml_example_of_the_document_is_valid() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 3
    for block in blocks:
        document = tomllib.loads(block)
        settings = document.get("tool", {}).get("conductor-compat", document)
        assert schema_errors("config", settings) == [], block

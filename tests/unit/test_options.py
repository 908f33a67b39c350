"""Every option is defined once, in the option table, and commands take theirs from it."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.classify import load_settings
from harness.cli import config
from harness.cli.app import build_parser
from harness.cli.options import COMPARISON, OPTION, OPTIONS, judgement, plan_values
from harness.errors import BadInputError
from harness.pipeline import Plan, RunFolder

# Filled by compare from more than one option, or computed: not the option's default.
COMPUTED = {"paths", "baseline", "candidates"}


def _commands(
    parser: argparse.ArgumentParser, prefix: str = ""
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield prefix or "conductor-compat", parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, f"{prefix} {name}".strip())


def _settled(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> argparse.Namespace:
    monkeypatch.chdir(tmp_path)  # no config file found
    args = build_parser().parse_args(argv)
    config.apply(args)
    return args


def test_every_argument_of_every_command_comes_from_the_table() -> None:
    used: set[str] = set()
    for command, parser in _commands(build_parser()):
        names = parser.get_default("registered_options") or ()
        options = [OPTION[n] for n in names]
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._VersionAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                continue
            matching = [
                o
                for o in options
                if o.dest == action.dest and tuple(action.option_strings) == o.flags
            ]
            assert len(matching) == 1, f"{command}: {action.option_strings or action.dest}"
            assert action.default is argparse.SUPPRESS, f"{command}: {action.dest}"
            used.add(matching[0].name)
    assert used == {o.name for o in OPTIONS}, "options no command takes"


def test_names_are_unique_and_flags_look_like_their_dest() -> None:
    assert len({o.name for o in OPTIONS}) == len(OPTIONS)
    for option in OPTIONS:
        assert all(f.startswith("--") for f in option.flags)
        if option.key:
            assert option.key.replace("_", "").isalpha(), option.key


def test_the_plan_defaults_are_the_options_defaults() -> None:
    fields = {f.name: f for f in dataclasses.fields(Plan)}
    for option in OPTIONS:
        if option.plan is None:
            continue
        assert option.plan in fields, option.name
        if option.plan not in COMPUTED:
            default = option.for_plan(option.fresh_default())
            assert fields[option.plan].default == default, option.name


def test_judgement_is_what_load_settings_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = _settled(
        ["diff", "a", "b", "--out", "o", "--scrub", "x.yaml", "--no-recheck"],
        tmp_path,
        monkeypatch,
    )
    given = judgement(args)
    assert set(given) == set(inspect.signature(load_settings).parameters)
    assert given["scrub"] == (tmp_path / "x.yaml",) and given["recheck"] is False
    assert given["fail_on_known"] is True and given["accept"] is None
    assert plan_values(args, COMPARISON)["scrub"] == (str(tmp_path / "x.yaml"),)


def test_flags_and_defaults_are_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = _settled(["compare"], tmp_path, monkeypatch)
    assert (args.baseline, args.candidate, args.paths) == ("netflix:3.15.0", ["oss:3.32.1"], None)
    assert (args.jobs, args.baseline_repeats, args.candidate_repeats) == (8, 2, 1)
    assert (args.fail_on, args.fail_on_known, args.ready_timeout) == ("behavioral", "yes", 240.0)
    assert (args.profile, args.runtime, args.network) == ("embedded", "process", "none")
    assert args.image == [] and args.catalog == [] and args.quiet is False
    assert args.reports == Path("reports") and args.out is None
    args = _settled(
        ["run", "s", "--target", "oss:3.32.1", "--out", "o", "--image", "a=b", "--image", "c=d"],
        tmp_path,
        monkeypatch,
    )
    assert args.image == ["a=b", "c=d"] and args.paths == [Path("s")] and args.repeats == 1
    args = _settled(["import", "--out", "o", "--from", "remote:http://x"], tmp_path, monkeypatch)
    assert (args.source, args.name, args.prefix, args.files) == ("remote:http://x", [], "", [])
    args = _settled(["targets", "up", "oss:3.32.1", "--for", "5"], tmp_path, monkeypatch)
    assert args.duration == 5.0 and args.port is None and args.targets == ["oss:3.32.1"]


def test_quiet_and_verbose_still_exclude_each_other() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["compare", "--quiet", "--verbose"])


def test_a_run_json_of_this_version_resumes_and_unknown_settings_are_refused(
    tmp_path: Path,
) -> None:
    plan = Plan(kind="compare", baseline="netflix:3.15.0", candidates=("oss:3.32.1",))
    folder = RunFolder(tmp_path)
    folder.save(plan)
    assert folder.load() == plan
    assert Plan.from_json(plan.to_json()) == plan
    with pytest.raises(BadInputError, match="unknown setting 'turbo'"):
        Plan.from_json({**plan.to_json(), "turbo": True})
    text = folder.plan_file.read_text().replace('"jobs"', '"jobz"')
    folder.plan_file.write_text(text)
    with pytest.raises(BadInputError, match=r"run\.json: not a readable run plan .*'jobz'"):
        folder.load()

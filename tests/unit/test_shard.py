"""Sharding a comparison (`compare --shard I/N`, `gate --shard I/N`) and joining the shards
(`merge`), on traces recorded from real servers (fixtures/runs), with no server.

Each run folder is made by the real `execute` as a sharded compare leaves it: every
scenario run is already on disk (as when resuming), so nothing is left to play and no
server starts (the `no_servers` fixture fails the test if one would).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.cli import main
from harness.errors import BadInputError
from harness.pipeline import Outcome, Plan, RunFolder, execute, live
from harness.pipeline.shard import Shard, partition
from harness.report import report_errors
from harness.scenarios import require_valid
from tests.unit.traces import RUNS

ROOT = Path(__file__).resolve().parents[2]
# Recorded with the scenario files as they are now (their digests match): the first runs of
# every version, two each; retry-restart-rerun is incompatible on oss:3.32.1.
NAMES = (
    "api-metadata-crud",
    "api-unknown-workflow-id",
    "http",
    "inline",
    "retry-restart-rerun",
    "terminate-task",
    "worker-in-progress-callback-logs",
)
RECORDED = {
    "netflix:3.15.0": RUNS / "netflix-3.15.0-a",
    "oss:3.21.14": RUNS / "oss-3.21.14",
    "oss:3.32.1": RUNS / "oss-3.32.1",
}
SHARDS = 3
# How the traces were made, not what they say: may differ between a merged and a whole run.
TIMINGS = ("seconds", "shards", "shard")


def _files() -> dict[str, str]:
    return {s.name: str(s.file) for s in require_valid([ROOT / "scenarios"])}


FILES = _files()


def _plan(kind: str = "compare", names: tuple[str, ...] = NAMES, **kw: Any) -> Plan:
    values: dict[str, Any] = {
        "baseline": "netflix:3.15.0",
        "candidates": ("oss:3.21.14", "oss:3.32.1"),
        "baseline_repeats": 2,
        "candidate_repeats": 2,
        "recheck": False,  # a re-check would play more runs than were recorded
        **kw,
    }
    return Plan(kind=kind, paths=tuple(FILES[n] for n in names), **values)


def _fill(folder: RunFolder, plan: Plan, names: list[str]) -> None:
    """The recorded runs of ``names`` where the run would have written them."""
    live_targets = ([plan.baseline] if plan.kind == "compare" else []) + list(plan.candidates)
    for target in live_targets:
        into = folder.traces(target)
        into.mkdir(parents=True, exist_ok=True)
        for name in names:
            for suffix in (".trace.json", ".run2.trace.json"):
                shutil.copy(RECORDED[target] / f"{name}{suffix}", into)


def _run(plan: Plan, folder: RunFolder, names: list[str]) -> Outcome:
    _fill(folder, plan, names)
    return asyncio.run(execute(plan, folder, lambda event: None, resumed=True))


def _refuse(*args: object, **kw: object) -> None:
    raise AssertionError("a server would have started")


def _forbid_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "start", _refuse)
    monkeypatch.setattr(live, "each_target", _refuse)


@pytest.fixture(autouse=True)
def no_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    _forbid_servers(monkeypatch)


def _sharded(
    root: Path, plan: Plan, names: tuple[str, ...], count: int, recorded: tuple[str, ...] = NAMES
) -> list[Path]:
    """``count`` shards of ``plan`` (over ``names``), with the traces of ``recorded``."""
    folders = []
    for index in range(1, count + 1):
        folder = RunFolder(root / f"shard-{index}")
        part = [n for n in Shard(index, count).part(names) if n in recorded]
        _run(Plan.from_json({**plan.to_json(), "shard": f"{index}/{count}"}), folder, part)
        folders.append(folder.root)
    return folders


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One whole compare and the same compare in three shards, over the same traces."""
    root = tmp_path_factory.mktemp("sharded")
    with pytest.MonkeyPatch.context() as patch:
        _forbid_servers(patch)
        plan = _plan()
        whole = _run(plan, RunFolder(root / "whole"), list(NAMES))
        shards = _sharded(root, plan, NAMES, SHARDS)
    yield {"root": root, "plan": plan, "whole": whole, "shards": shards}


def _report(folder: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((folder / "report.json").read_text())
    assert report_errors(report) == []
    return report


def _apart_from_metadata(report: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The report with its run metadata left out: when and how it was made, and where."""
    text = json.dumps(report).replace(str(folder), "RUN_DIR")
    kept: dict[str, Any] = json.loads(text)
    del kept["created_at"], kept["command"]
    run = kept["run"]
    for key in TIMINGS:
        run.pop(key, None)
    for target in run["targets"]:
        target.pop("start_seconds", None)
    return kept


def _merge(out: Path, *folders: Path) -> int:
    return main(["merge", "--quiet", "--out", str(out), *map(str, folders)])


def test_a_sharded_compare_merges_into_the_report_of_the_whole_run(
    compared: dict[str, Any], tmp_path: Path
) -> None:
    whole: Outcome = compared["whole"]
    shards: list[Path] = compared["shards"]
    # each shard knows which it is, and reports only its own scenarios
    covered: list[str] = []
    for index, folder in enumerate(shards, 1):
        plan, record = RunFolder(folder).load_all()
        assert plan.shard == f"{index}/{SHARDS}" and record is not None
        assert record["selection"]["scenarios"] == len(NAMES)
        report = _report(folder)
        assert report["run"]["shard"] == plan.shard
        names = [s["name"] for s in report["comparisons"][0]["scenarios"]]
        assert names == record["scenarios"] == Shard(index, SHARDS).part(NAMES)
        covered += names
    assert sorted(covered) == sorted(NAMES)

    out = tmp_path / "merged"
    assert _merge(out, *reversed(shards)) == whole.exit_code == 1  # in any order
    merged = _report(out)
    expected = _report(whole.folder)
    assert merged["verdict"]["status"] == "incompatible"
    assert _apart_from_metadata(merged, out) == _apart_from_metadata(expected, whole.folder)
    assert [s["shard"] for s in merged["run"]["shards"]] == ["1/3", "2/3", "3/3"]
    assert "shard" not in merged["run"]
    # the merged folder is the whole run's: its plan, and every trace
    assert RunFolder(out).load() == Plan.from_json(
        {**compared["plan"].to_json(), "command": RunFolder(out).load().command}
    )
    for target in RECORDED:
        assert len(list((out / "traces" / target.replace(":", "-")).iterdir())) == 2 * len(NAMES)
    assert "merged from 3 shards" in (out / "report.md").read_text()


def test_a_sharded_gate_merges_into_the_report_of_the_whole_run(tmp_path: Path) -> None:
    # switch's file changed since its baseline was recorded: not compared, as unsharded
    names = ("api-unknown-workflow-id", "inline", "switch", "terminate-task")
    baselines = tmp_path / "baselines"  # and two that no scenario uses
    baselines.mkdir()
    for name in (*names, "api-metadata-crud", "http"):
        for recorded in RECORDED["netflix:3.15.0"].glob(f"{name}.*"):
            shutil.copy(recorded, baselines)
    plan = _plan("gate", names, baseline=str(baselines), candidates=("oss:3.32.1",))
    compared = tuple(n for n in names if n != "switch")
    whole = _run(plan, RunFolder(tmp_path / "whole"), list(compared))
    shards = _sharded(tmp_path, plan, names, 2, compared)
    out = tmp_path / "merged"
    assert _merge(out, *shards) == whole.exit_code
    merged, expected = _report(out), _report(whole.folder)
    assert expected["run"]["no_baseline"] == [
        "switch (its file changed since the baseline was recorded)"
    ]
    assert expected["run"]["unused_baselines"] == ["api-metadata-crud", "http"]
    assert _apart_from_metadata(merged, out) == _apart_from_metadata(expected, whole.folder)


def test_a_shard_with_no_scenario_starts_nothing(tmp_path: Path) -> None:
    plan = _plan(names=NAMES[:2], shard="3/3", recheck=True)  # candidates re-check: none
    outcome = _run(plan, RunFolder(tmp_path), [])
    assert _report(tmp_path)["comparisons"][0]["scenarios"] == []
    assert RunFolder(tmp_path).load_all()[1]["scenarios"] == []  # type: ignore[index]
    assert outcome.verdict == "inconclusive"


@given(
    st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=40),
    st.integers(min_value=1, max_value=12),
    st.randoms(use_true_random=False),
)
def test_every_scenario_is_in_exactly_one_shard(names: list[str], count: int, rng: Any) -> None:
    parts = [Shard(i, count).part(names) for i in range(1, count + 1)]
    assert sorted(n for part in parts for n in part) == sorted(names)
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    shuffled = list(names)
    rng.shuffle(shuffled)  # the order the files were found in does not matter
    assert partition(shuffled, count) == parts


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "1/0", "2", "-1/2", "1/2/3", ""])
def test_a_bad_shard_is_bad_input_naming_the_option(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(BadInputError, match="--shard"):
        Shard.parse(text)
    assert main(["compare", "--shard", text, "--out", str(tmp_path / "run")]) == 2
    assert "--shard" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_shard_is_kept_by_resume_and_goes_only_with_compare_and_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert Shard.parse(" 2 / 4 ") == Shard(2, 4) and _plan(shard="2/4").shard == "2/4"
    with pytest.raises(BadInputError, match="--shard goes with compare and gate"):
        Plan("run", targets=("oss:3.32.1",), out="o", shard="1/2")
    RunFolder(tmp_path).save(_plan(shard="1/2"))
    assert main(["compare", "--resume", str(tmp_path), "--shard", "2/2"]) == 2
    assert "leave out --shard" in capsys.readouterr().err


def _copy(folder: Path, into: Path, **changes: Any) -> Path:
    """A copy of a shard's run folder, with run.json's plan and shard record changed."""
    shutil.copytree(folder, into)
    document = json.loads((into / "run.json").read_text())
    for key, value in changes.items():
        where, _, field = key.partition("__")
        document[where][field] = value
    (into / "run.json").write_text(json.dumps(document))
    return into


def _refused(capsys: pytest.CaptureFixture[str], out: Path, *folders: Path) -> str:
    assert _merge(out, *folders) == 2
    assert not (out / "report.json").exists() and not (out / "run.json").exists()
    return " ".join(capsys.readouterr().err.split())


def test_merge_refuses_parts_that_do_not_make_one_run(
    compared: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, two, three = compared["shards"]
    out = tmp_path / "out"
    assert "shard 2/3 is missing (given: 1/3, 3/3)" in _refused(capsys, out, one, three)
    assert "shards 2/3, 3/3 are missing" in _refused(capsys, out, one)
    assert f"{one} is given twice" in _refused(capsys, out, one, one, two, three)
    again = _copy(one, tmp_path / "again")
    assert f"shard 1/3 is given twice: {one} and {again}" in _refused(
        capsys, out, one, again, two, three
    )
    whole = compared["whole"].folder
    assert f"{whole} is not a shard" in _refused(capsys, out, whole)
    assert "run.json is missing" in _refused(capsys, out, tmp_path)
    judged = _copy(two, tmp_path / "judged", plan__fail_on="any")
    assert "their plans (run.json) differ: fail_on is 'any', not 'behavioral'" in _refused(
        capsys, out, one, judged, three
    )
    four = _copy(two, tmp_path / "four", plan__shard="2/4", shard__count=4)
    assert "is shard 2/4 and" in _refused(capsys, out, one, four, three)
    other = _copy(two, tmp_path / "other", shard__selection={"scenarios": 8, "digest": "0"})
    assert "were cut from other scenario files (8 and 7 scenarios" in _refused(
        capsys, out, one, other, three
    )
    unfinished = _copy(two, tmp_path / "unfinished")
    (unfinished / "report.json").unlink()
    assert re.search(
        r"has no report.json: shard 2/3 never finished; finish it with `conductor-compat "
        r"compare --resume .*unfinished`",
        _refused(capsys, out, one, unfinished, three),
    )
    assert _merge(whole, one, two, three) == 2
    assert "already holds a run" in capsys.readouterr().err

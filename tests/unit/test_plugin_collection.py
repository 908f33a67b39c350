"""The pytest plugin's collection and settings, with no server: scenario files become one
item per live target, markers are added, a bad option is a usage error, and the config
file's settings are used where no ini option is given."""

from __future__ import annotations

import lzma
import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]


def _project(pytester: pytest.Pytester, ini: str) -> None:
    folder = pytester.path / "workflows"
    folder.mkdir()
    for name in ("inline.yaml", "switch.yaml"):
        shutil.copy(ROOT / "scenarios" / "tasks" / name, folder)
    pytester.makeini("[pytest]\n" + ini)


def test_each_scenario_is_an_item_per_live_target(pytester: pytest.Pytester) -> None:
    _project(
        pytester,
        "conductor_compat_scenarios = workflows\n"
        "conductor_compat_candidates = oss:3.21.14 oss:3.32.1\n"
        "conductor_compat_markers = e2e\n"
        "markers = e2e: real servers\n",
    )
    result = pytester.runpytest_subprocess("--co", "-q", "-m", "e2e", "-p", "no:cacheprovider")
    items = sorted(line for line in result.outlines if "::" in line)
    assert items == [
        f"workflows/{file}::{name}[{target}]"
        for file, name in (("inline.yaml", "inline"), ("switch.yaml", "switch"))
        for target in ("netflix:3.15.0", "oss:3.21.14", "oss:3.32.1")
    ]


def test_a_recorded_baseline_makes_items_of_the_candidates_only(
    pytester: pytest.Pytester,
) -> None:
    _project(
        pytester,
        f"conductor_compat_scenarios = workflows\n"
        f"conductor_compat_baseline = {ROOT / 'fixtures' / 'baselines' / 'netflix-3.15.0'}\n",
    )
    result = pytester.runpytest_subprocess("--co", "-q", "-p", "no:cacheprovider")
    items = sorted(line for line in result.outlines if "::" in line)
    assert items == [
        "workflows/inline.yaml::inline[oss:3.32.1]",
        "workflows/switch.yaml::switch[oss:3.32.1]",
    ]


def test_the_config_file_gives_what_no_ini_option_does(pytester: pytest.Pytester) -> None:
    _project(pytester, "conductor_compat_scenarios = workflows\n")
    pytester.makefile(".toml", **{"conductor-compat": 'candidates = ["oss:3.21.14"]\n'})
    result = pytester.runpytest_subprocess("--co", "-q", "-p", "no:cacheprovider")
    items = sorted(line for line in result.outlines if "::" in line)
    assert "workflows/inline.yaml::inline[oss:3.21.14]" in items
    assert not [i for i in items if "oss:3.32.1" in i]


def test_a_bad_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    _project(pytester, "conductor_compat_scenarios = workflows\nconductor_compat_jobs = zero\n")
    result = pytester.runpytest_subprocess("--co", "-q", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*conductor_compat_jobs must be a whole number*'zero'*"])


def test_an_invalid_scenario_file_is_a_collection_error_naming_it(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, "conductor_compat_scenarios = workflows\n")
    (pytester.path / "workflows" / "broken.yaml").write_text("scenario_format: 1\nname: 7\n")
    result = pytester.runpytest_subprocess("--co", "-q", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*workflows/broken.yaml:2:*(at name)*"])


def _recorded_comparison(pytester: pytest.Pytester) -> Path:
    """A run folder holding a real comparison's report.json (netflix:3.15.0 against
    oss:3.21.14 and oss:3.32.1, recorded in CI; trimmed to two scenarios): under load,
    3.15.0's two runs of rate-limit-per-frequency differed, so its verdict is
    inconclusive; inline is compatible. The items read it and run nothing."""
    out = pytester.path / "run"
    (out / "comparison").mkdir(parents=True)
    packed = ROOT / "fixtures" / "reports" / "inconclusive-baseline.json.xz"
    (out / "comparison" / "report.json").write_bytes(lzma.decompress(packed.read_bytes()))
    for name in ("rate_limit.yaml",):
        shutil.copy(ROOT / "scenarios" / "limits" / name, pytester.path / "workflows")
    return out


@pytest.mark.parametrize(("option", "outcome"), [("fail", "failed"), ("skip", "skipped")])
def test_an_inconclusive_candidate_item_fails_or_is_skipped_with_its_reason(
    pytester: pytest.Pytester, option: str, outcome: str
) -> None:
    _project(pytester, "")
    out = _recorded_comparison(pytester)
    pytester.makeini(
        "[pytest]\nconductor_compat_scenarios = workflows\n"
        "conductor_compat_candidates = oss:3.21.14\n"
        f"conductor_compat_out = {out}\nconductor_compat_inconclusive = {option}\n"
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-rsf", "-k", "oss and (inline or rate)"
    )
    result.assert_outcomes(passed=1, **{outcome: 1})
    result.stdout.fnmatch_lines(["*inconclusive: the baseline itself is not deterministic*"])

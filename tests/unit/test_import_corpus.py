"""Every file of the real-world corpus imports into valid scenarios, and the committed
corpus scenarios (scenarios/corpus/conductor-oss-e2e/) are what the importer makes today.

The corpus lives beside the repository, in ../shared/corpus/conductor-oss-e2e/ (the
workflow and task definitions of conductor-oss's e2e suite); without it these tests
are skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import ExitCode
from harness.scenarios import load_all

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "conductor-oss-e2e"
COMMITTED = ROOT / "scenarios" / "corpus" / "conductor-oss-e2e"
PREFIX = "oss-e2e."  # the command in scenarios/README.md
FILES = sorted(CORPUS.glob("*.json")) if CORPUS.is_dir() else []
ABSENT = f"the corpus is not here: no *.json in {CORPUS} (../shared/corpus/)"


def _require_corpus() -> None:
    if not FILES:
        pytest.skip(ABSENT)


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.name) for p in FILES]
    or [pytest.param(None, id="no-corpus", marks=pytest.mark.skip(reason=ABSENT))],
)
def test_each_corpus_file_imports_and_validates(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["import", str(path), "--out", str(out)]) == ExitCode.OK
    written = sorted(out.glob("*.yaml")) if out.exists() else []
    loaded = load_all(written) if written else None
    assert loaded is None or loaded.problems == []
    if '"tasks"' in path.read_text():  # a workflow file: one scenario per workflow
        assert loaded is not None and loaded.scenarios


def test_the_committed_corpus_scenarios_are_current(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _require_corpus()
    monkeypatch.chdir(ROOT)  # the documented command runs from the repository's root
    out = tmp_path / "out"
    files = [str(Path("..") / "shared" / "corpus" / "conductor-oss-e2e" / p.name) for p in FILES]
    assert main(["import", *files, "--out", str(out), "--prefix", PREFIX]) == ExitCode.OK
    made = {p.name: p.read_text() for p in out.glob("*.yaml")}
    committed = {p.name: p.read_text() for p in COMMITTED.glob("*.yaml")}
    assert sorted(made) == sorted(committed), "regenerate: see scenarios/README.md"
    stale = [name for name in made if made[name] != committed[name]]
    assert not stale, f"regenerate (see scenarios/README.md); out of date: {stale}"
    loaded = load_all([COMMITTED])
    assert loaded.problems == [] and len(loaded.scenarios) == len(committed)

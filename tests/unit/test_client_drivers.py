"""The client table and the drivers' build keys: each known client has its driver and its
locked dependencies, and a build is keyed by everything in its driver's folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.clients import build as build_mod
from harness.clients import known
from harness.errors import BadInputError


def test_a_client_is_named_sdk_colon_version() -> None:
    spec = known.parse_client("python:2.0.0")
    assert (spec.sdk, spec.version, spec.name) == ("python", "2.0.0", "python:2.0.0")
    with pytest.raises(BadInputError, match=r"unknown client 'python:9\.9'.*js:4\.0\.0"):
        known.parse_client("python:9.9")
    assert {known.parse_client(c).name for c in known.DEFAULT_CLIENTS} <= {
        s.name for s in known.KNOWN
    }


@pytest.mark.parametrize("spec", known.KNOWN, ids=lambda s: s.name)
def test_every_known_client_has_its_driver_and_its_locked_dependencies(
    spec: known.ClientSpec,
) -> None:
    folder = spec.source
    if spec.sdk == "python":
        lock = folder / f"requirements-{spec.version}.txt"
        lines = [ln for ln in lock.read_text().splitlines() if ln and not ln.startswith("#")]
        pins = [ln for ln in lines if "==" in ln]
        assert f"conductor-python=={spec.version}" in " ".join(pins)
        assert len([ln for ln in lines if "--hash=sha256:" in ln]) >= len(pins)
        assert (folder / "driver.py").is_file()
    elif spec.sdk == "js":
        lock = folder / "package-lock.json"
        assert f'"{spec.version}"' in (folder / "package.json").read_text()
        assert '"integrity"' in lock.read_text()
        assert (folder / "driver.mjs").is_file()
    else:
        lock = folder / "pom.xml"
        pom = lock.read_text()
        assert spec.version in pom
        assert not spec.profile or f"<id>{spec.profile}</id>" in pom
    text = lock.read_text()  # dependencies come from the registries each tool is set up with
    assert '"resolved"' not in text and "<repository>" not in text and "--index-url" not in text


def test_a_build_is_keyed_by_every_file_of_its_driver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(known.DRIVERS / "js", tmp_path / "js", ignore=shutil.ignore_patterns("node_*"))
    monkeypatch.setattr(known, "DRIVERS", tmp_path)
    spec = known.parse_client("js:4.0.0")
    first = build_mod.driver_digest(spec)
    (tmp_path / "js" / "node_modules").mkdir(exist_ok=True)
    (tmp_path / "js" / "node_modules" / "x.js").write_text("built, not a source")
    assert build_mod.driver_digest(spec) == first
    (tmp_path / "js" / "driver.mjs").write_text("// changed\n", encoding="utf-8")
    assert build_mod.driver_digest(spec) != first
    other = known.ClientSpec("js", "3.0.0", "", "", "")
    assert build_mod.driver_digest(other) != build_mod.driver_digest(spec)

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import BadInputError, DigestMismatchError, UnknownTargetError
from harness.targets.locks import Artifact, find_lock, known_locks, load_lock, sha256_file, verify
from harness.targets.spec import parse_target


def test_the_three_supported_versions_are_locked() -> None:
    names = [str(lock.target) for lock in known_locks()]
    assert {"netflix:3.15.0", "oss:3.21.14", "oss:3.32.1"} <= set(names)
    for lock in known_locks():
        assert len(lock.server_jar.sha256) == 64
        assert lock.embedded_backend in ("memory", "sqlite")


def test_java_21_line_needs_java_21() -> None:
    assert find_lock(parse_target("oss:3.32.1")).java == 21
    assert find_lock(parse_target("netflix:3.15.0")).java == 17


def test_unknown_version_lists_the_known_ones() -> None:
    with pytest.raises(UnknownTargetError) as err:
        find_lock(parse_target("netflix:9.9.9"))
    assert "netflix:3.15.0" in err.value.message
    assert "targets lock netflix:9.9.9" in err.value.message


def test_unpublished_version_says_what_to_use_instead() -> None:
    with pytest.raises(UnknownTargetError) as err:
        find_lock(parse_target("oss:3.21.20"))
    assert "oss:3.21.14" in err.value.message
    assert "Maven Central" in err.value.message


def _artifact_for(path: Path) -> Artifact:
    return Artifact("g:a:1:jar", path.name, path.stat().st_size, sha256_file(path))


def test_verify_accepts_the_pinned_file(tmp_path: Path) -> None:
    jar = tmp_path / "server.jar"
    jar.write_bytes(b"pinned bytes")
    verify(jar, _artifact_for(jar))


@pytest.mark.parametrize("tampered", [b"pinned bytez", b"pinned bytes plus more"])
def test_verify_refuses_any_other_file(tmp_path: Path, tampered: bytes) -> None:
    jar = tmp_path / "server.jar"
    jar.write_bytes(b"pinned bytes")
    artifact = _artifact_for(jar)
    jar.write_bytes(tampered)
    with pytest.raises(DigestMismatchError) as err:
        verify(jar, artifact)
    assert artifact.sha256 in err.value.message
    assert "refuses" in err.value.message


def test_malformed_lock_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "netflix-3.15.0.json"
    bad.write_text(json.dumps({"lock_format": 1, "target": "netflix:3.15.0"}))
    with pytest.raises(BadInputError) as err:
        load_lock(bad)
    assert str(bad) in err.value.message

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


# Every 3.x conductor-server that Maven Central publishes (its maven-metadata.xml, read with
# mvn on 2026-12-05), each verified to start with the embedded profile and run a workflow.
PUBLISHED_3X = {
    "netflix": (
        "3.5.2 3.8.0 3.8.1 3.8.3 3.9.2 3.10.0 3.10.1 3.10.5 3.10.7 3.11.0 3.11.1 3.11.3 "
        "3.12.0 3.13.0 3.13.2 3.13.3 3.13.5 3.13.6 3.13.7 3.13.8 3.14.0 3.15.0"
    ),
    "oss": "3.21.14 3.32.1 3.32.2 3.32.3",
}


def test_every_published_3x_server_is_locked() -> None:
    names = {str(lock.target) for lock in known_locks()}
    wanted = {
        f"{flavor}:{v}" for flavor, versions in PUBLISHED_3X.items() for v in versions.split()
    }
    assert wanted - names == set()


def test_each_line_runs_on_its_embedded_store_and_java() -> None:
    for lock in known_locks():
        line = (lock.target.flavor.value, lock.target.version or "")
        if line[0] == "oss" and line[1].startswith("3.32."):
            assert (lock.java, lock.embedded_backend) == (21, "sqlite"), line
        elif lock.java_max:  # netflix up to 3.13.8: Java 11, for its Nashorn
            assert (lock.java, lock.java_max, lock.embedded_backend) == (11, 14, "memory"), line
        else:  # netflix 3.14, 3.15 and oss 3.21.x: the in-memory Redis emulation, on Java 17
            assert (lock.java, lock.embedded_backend) == (17, "memory"), line
        assert lock.server_jar.coordinate.endswith(f":conductor-server:{line[1]}:jar:boot")


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


def test_a_lock_without_class_path_round_trips_unchanged() -> None:
    for lock in known_locks():
        written = json.loads(lock.path.read_text())
        assert lock.to_json() == written
        if "class_path" not in written:
            assert lock.extra_jars("postgres") == ()


def test_netflix_3_15_0_adds_the_community_postgres_module_for_postgres_only() -> None:
    lock = find_lock(parse_target("netflix:3.15.0"))
    jars = lock.extra_jars("postgres")
    names = [a.coordinate.split(":")[1] for a in jars]
    assert names[0] == "conductor-postgres-persistence"
    assert {"postgresql", "HikariCP", "spring-jdbc", "spring-tx", "flyway-core"} <= set(names)
    for jar in jars:
        assert len(jar.sha256) == 64 and jar.size > 0
        assert jar.file.startswith(jar.coordinate.split(":")[1] + "-")
    assert lock.extra_jars("redis") == lock.extra_jars("embedded") == ()
    for other in ("oss:3.21.14", "oss:3.32.1"):  # their boot jars carry the module
        assert find_lock(parse_target(other)).extra_jars("postgres") == ()


def test_class_path_round_trips(tmp_path: Path) -> None:
    jar = Artifact("g:m:1:jar", "m-1.jar", 3, "a" * 64)
    raw = json.loads((find_lock(parse_target("oss:3.21.14")).path).read_text())
    raw["class_path"] = {"postgres": [jar.to_json()]}
    path = tmp_path / "oss-3.21.14.json"
    path.write_text(json.dumps(raw))
    lock = load_lock(path)
    assert lock.extra_jars("postgres") == (jar,)
    assert lock.to_json() == raw
    path.write_text(json.dumps(lock.to_json()))
    assert load_lock(path) == lock


@pytest.mark.parametrize("class_path", [["not", "a", "mapping"], {"postgres": [{"file": "x"}]}])
def test_malformed_class_path_names_the_file(tmp_path: Path, class_path: object) -> None:
    raw = json.loads((find_lock(parse_target("oss:3.21.14")).path).read_text())
    raw["class_path"] = class_path
    path = tmp_path / "oss-3.21.14.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(BadInputError) as err:
        load_lock(path)
    assert str(path) in err.value.message

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import BadInputError
from harness.targets.locks import known_locks
from harness.targets.profiles import COMMON, PROFILES, get_profile, render_properties


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_version_gets_the_same_aligned_settings(profile: str, tmp_path: Path) -> None:
    for lock in known_locks():
        props = PROFILES[profile].properties(
            port=1234, embedded_backend=lock.embedded_backend, state_dir=tmp_path, redis_port=6400
        )
        for key, value in COMMON.items():
            assert props[key] == value, (lock.target, key)
        assert props["server.address"] == "127.0.0.1"
        assert props["server.port"] == "1234"


def test_redis_profile_puts_every_version_on_one_backend(tmp_path: Path) -> None:
    backends = {
        PROFILES["redis"].properties(
            port=1, embedded_backend=lk.embedded_backend, state_dir=tmp_path, redis_port=6400
        )["conductor.db.type"]
        for lk in known_locks()
    }
    assert backends == {"redis_standalone"}


def test_sqlite_state_is_a_file_in_the_run_folder(tmp_path: Path) -> None:
    props = PROFILES["embedded"].properties(port=1, embedded_backend="sqlite", state_dir=tmp_path)
    assert str(tmp_path / "conductor.db") in props["spring.datasource.url"]


def test_redis_profile_needs_its_port(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="redis port"):
        PROFILES["redis"].properties(port=1, embedded_backend="memory", state_dir=tmp_path)


def test_unknown_profile_lists_the_known() -> None:
    with pytest.raises(BadInputError, match="embedded, redis"):
        get_profile("cassandra")


def test_rendered_properties_are_sorted_and_escaped() -> None:
    text = render_properties({"b": "2", "a": "x\ny"})
    assert text.splitlines()[1:] == ["a=x\\ny", "b=2"]

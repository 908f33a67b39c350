from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import BadInputError
from harness.targets.locks import known_locks
from harness.targets.profiles import COMMON, PROFILES, get_profile, render_properties
from harness.targets.stores import Store


def _store(kind: str | None, tmp_path: Path) -> Store | None:
    port = {"redis": 6400, "postgres": 5499}
    return Store(kind, port[kind], tmp_path, tmp_path / "log", "pw") if kind else None


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_version_gets_the_same_aligned_settings(profile: str, tmp_path: Path) -> None:
    store = _store(PROFILES[profile].store, tmp_path)
    # Indexing is on where the store indexes: on every version alike.
    overridden = set(store.properties()) if store else set()
    for lock in known_locks():
        props = PROFILES[profile].properties(
            port=1234, embedded_backend=lock.embedded_backend, state_dir=tmp_path, store=store
        )
        for key, value in COMMON.items():
            if key not in overridden:
                assert props[key] == value, (lock.target, key)
        assert props["server.address"] == "127.0.0.1"
        assert props["server.port"] == "1234"


def test_redis_profile_puts_every_version_on_one_backend(tmp_path: Path) -> None:
    store = _store("redis", tmp_path)
    backends = {
        PROFILES["redis"].properties(
            port=1, embedded_backend=lk.embedded_backend, state_dir=tmp_path, store=store
        )["conductor.db.type"]
        for lk in known_locks()
    }
    assert backends == {"redis_standalone"}


@pytest.mark.parametrize("target", ["netflix:3.15.0", "oss:3.21.14", "oss:3.32.1"])
def test_postgres_profile_puts_each_version_on_postgres_with_search(
    target: str, tmp_path: Path
) -> None:
    lock = next(lk for lk in known_locks() if str(lk.target) == target)
    store = _store("postgres", tmp_path)
    props = PROFILES["postgres"].properties(
        port=1, embedded_backend=lock.embedded_backend, state_dir=tmp_path, store=store
    )
    assert {k: props[k] for k in props if k.startswith(("conductor.db", "conductor.q"))} == {
        "conductor.db.type": "postgres",
        "conductor.queue.type": "postgres",
    }
    assert props["conductor.indexing.enabled"] == "true"
    assert props["conductor.indexing.type"] == "postgres"
    assert props["conductor.elasticsearch.version"] == "0"
    assert props["spring.datasource.url"] == "jdbc:postgresql://127.0.0.1:5499/postgres"
    assert props["spring.datasource.username"] == "conductor"
    assert props["spring.datasource.password"] == "pw"
    assert "conductor.redis.hosts" not in props
    assert PROFILES["postgres"].backend(lock.embedded_backend) == "postgres"


def test_sqlite_state_is_a_file_in_the_run_folder(tmp_path: Path) -> None:
    props = PROFILES["embedded"].properties(port=1, embedded_backend="sqlite", state_dir=tmp_path)
    assert str(tmp_path / "conductor.db") in props["spring.datasource.url"]


@pytest.mark.parametrize("profile", ["redis", "postgres"])
def test_a_profile_with_a_store_needs_that_store(profile: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"needs a {profile} store"):
        PROFILES[profile].properties(port=1, embedded_backend="memory", state_dir=tmp_path)
    other = _store("redis" if profile == "postgres" else "postgres", tmp_path)
    with pytest.raises(ValueError, match=f"needs a {profile} store"):
        PROFILES[profile].properties(
            port=1, embedded_backend="memory", state_dir=tmp_path, store=other
        )


def test_unknown_profile_lists_the_known() -> None:
    with pytest.raises(BadInputError, match="embedded, redis, postgres"):
        get_profile("cassandra")


def test_rendered_properties_are_sorted_and_escaped() -> None:
    text = render_properties({"b": "2", "a": "x\ny"})
    assert text.splitlines()[1:] == ["a=x\\ny", "b=2"]


LOCK_OFF = "conductor.app.workflow-execution-lock-enabled=false"


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_settings_given_go_on_top_of_the_profile_on_every_version(
    profile: str, tmp_path: Path
) -> None:
    given = get_profile(profile, [LOCK_OFF, "conductor.app.x=1", "conductor.app.x=2"])
    store = _store(given.store, tmp_path)
    for lock in known_locks():
        props = given.properties(
            port=1, embedded_backend=lock.embedded_backend, state_dir=tmp_path, store=store
        )
        assert props["conductor.app.workflow-execution-lock-enabled"] == "false"
        assert props["conductor.app.x"] == "2"  # a later one of a key wins
        assert props["conductor.workflow-execution-lock.type"] == "local_only"  # the rest stay
    assert given.label == f"{profile} + {LOCK_OFF}, conductor.app.x=2"
    assert get_profile(profile).label == profile


@pytest.mark.parametrize(
    "text",
    ["server.port=1", "conductor.db.type=postgres", "spring.datasource.url=jdbc:x",
     "conductor.redis.hosts=h:1:a", "conductor.indexing.enabled=true"],
)  # fmt: skip
def test_settings_cannot_move_a_server_off_its_port_or_its_store(text: str) -> None:
    with pytest.raises(BadInputError, match="where a server listens and what it stores in"):
        get_profile("embedded", [text])


@pytest.mark.parametrize("text", ["no-equals-sign", "=value", "a key=1"])
def test_a_setting_that_is_not_key_equals_value_is_refused(text: str) -> None:
    with pytest.raises(BadInputError, match="give KEY=VALUE"):
        get_profile("embedded", [text])

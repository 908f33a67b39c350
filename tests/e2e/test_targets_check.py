"""`targets check` in every profile: embedded, redis and postgres."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.e2e.conftest import (
    assert_nothing_left,
    cli,
    processes_mentioning,
    require_postgres,
)

pytestmark = pytest.mark.e2e

# Every supported version runs on real Redis and PostgreSQL in tests/e2e/test_upgrade.py,
# played wholly and across switches. Here, `check` on each store is proved on the versions
# whose store support differs most: 3.15.0 (Redis built in, PostgreSQL from the community
# module) and 3.32.1 (both built in, Java 21).
REDIS = ["oss:3.32.1"]
EMBEDDED = ["netflix:3.15.0"]
POSTGRES = ["netflix:3.15.0"]


def _check(workdir: Path, targets: list[str], *extra: str) -> None:
    run = cli("targets", "check", *targets, "--workdir", str(workdir), *extra)
    assert run.code == 0, run.out + run.err
    lines = [ln for ln in run.out.splitlines() if ln.strip()]
    assert len(lines) == len(targets)
    for target, line in zip(targets, lines, strict=True):
        assert line.startswith("PASS"), line
        assert target in line
    assert_nothing_left(workdir)


def test_the_check_passes_on_the_embedded_store(workdir: Path) -> None:
    """netflix:3.15.0; the conductor-oss versions play the whole library on their embedded
    stores in tests/e2e/test_compare.py (the session's library gate)."""
    _check(workdir, EMBEDDED)
    log = (workdir / "netflix_3.15.0" / "server.log").read_text()
    assert "Started Conductor" in log  # the log is kept in a file


def test_all_supported_versions_pass_on_real_redis(workdir: Path) -> None:
    require_tool("redis-server", "the redis profile starts a redis-server on loopback")
    _check(workdir, REDIS, "--profile", "redis")
    for target in REDIS:
        props = (workdir / target.replace(":", "_") / "server.properties").read_text()
        assert "conductor.db.type=redis_standalone" in props
        # redis-server rewrites its process title, so look for its port instead.
        port = int(props.split("conductor.redis.hosts=127.0.0.1:")[1].split(":")[0])
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"redis on {port} outlived the run"


def test_all_supported_versions_pass_on_real_postgres(workdir: Path) -> None:
    require_postgres()
    _check(workdir, POSTGRES, "--profile", "postgres")
    for target in POSTGRES:
        folder = workdir / target.replace(":", "_")
        props = (folder / "server.properties").read_text()
        assert "conductor.db.type=postgres" in props
        assert "conductor.indexing.type=postgres" in props
        assert "conductor.indexing.enabled=true" in props
        assert "Successfully applied" in (folder / "server.log").read_text()  # Flyway, on it
        # PostgreSQL's children rewrite their command line: look for any process that
        # works in the run folder, and for the port.
        port = int(props.split("jdbc:postgresql://127.0.0.1:")[1].split("/")[0])
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"postgres on {port} outlived it"
    assert not processes_mentioning(str(workdir))

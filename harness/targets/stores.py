"""The store a server runs on, apart from the server: redis-server for the ``redis``
profile, PostgreSQL for ``postgres`` (the ``embedded`` profile has none: the store is in the
server).

``process.start`` starts the profile's store with the server and stops it with the server,
unless its caller gives one: then the caller owns the store, and may run several servers on
it one after the other (an in-place upgrade: a version, then the next on the same data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.targets import netns
from harness.targets.postgres import DATABASE, USER, PostgresServer, find_postgres, run_as
from harness.targets.postgres import start_postgres as _start_postgres
from harness.targets.profiles import Profile
from harness.targets.redis import RedisServer, find_redis
from harness.targets.redis import start_redis as _start_redis

KINDS = ("redis", "postgres")


@dataclass(slots=True)
class Store:
    """A running store. ``password``: the server's role's, for ``postgres``."""

    kind: str  # "redis" | "postgres"
    port: int
    directory: Path
    log: Path
    password: str = field(default="", repr=False)
    server: RedisServer | PostgresServer | None = field(default=None, repr=False, compare=False)

    def properties(self) -> dict[str, str]:
        """The Spring properties that point a server at this store."""
        if self.kind == "redis":
            return {
                "conductor.db.type": "redis_standalone",
                "conductor.queue.type": "redis_standalone",
                "conductor.redis.hosts": f"127.0.0.1:{self.port}:us-east-1c",
            }
        if self.kind == "postgres":
            # Every version here has a Postgres index DAO: search is on, and alike.
            return {
                "conductor.db.type": "postgres",
                "conductor.queue.type": "postgres",
                "conductor.indexing.enabled": "true",
                "conductor.indexing.type": "postgres",
                "conductor.elasticsearch.version": "0",
                "spring.datasource.url": f"jdbc:postgresql://127.0.0.1:{self.port}/{DATABASE}",
                "spring.datasource.username": USER,
                "spring.datasource.password": self.password,
            }
        raise ValueError(f"unknown store kind {self.kind!r}; known: {', '.join(KINDS)}")

    def stop(self) -> None:
        """Stop the store's process (a second call does nothing more)."""
        if self.server is not None:
            self.server.stop()


def check_store(profile: Profile) -> None:
    """Fail fast, before any download, when the profile's store cannot start here."""
    if profile.store == "redis":
        find_redis()
    elif profile.store == "postgres":
        find_postgres()
        run_as()


async def start_store(
    profile: Profile, directory: Path, namespace: netns.Namespace | None
) -> Store | None:
    """The profile's store, started in ``directory`` (in ``namespace`` if given), ready for a
    server; ``None`` for a profile without one. The caller stops it."""
    if profile.store == "redis":
        redis = await _start_redis(directory, namespace)
        return Store("redis", redis.port, directory, redis.log, server=redis)
    if profile.store == "postgres":
        postgres = await _start_postgres(directory, namespace)
        return Store(
            "postgres", postgres.port, directory, postgres.log, postgres.password, postgres
        )
    return None

"""Profiles: the server configuration, aligned across versions.

Every version gets the same explicit settings (sample data off, the same owner-email
and name-validation rules, the same indexing, loopback only, gRPC off), so a difference
between two targets is a difference between versions, not between configurations.

- ``embedded`` (default): no external service. Each version uses the embedded
  backend it has: the in-memory Redis emulation with the in-memory dyno queue
  (netflix 3.5.2 to 3.15.0, oss 3.21.x: the same properties on every one), or a fresh
  SQLite file (3.32.x, whose in-memory store has no queue that works without Redis:
  verified on 3.32.1, see fixtures/locks).
- ``redis``: every version on the same real backend, a redis-server that the
  harness starts on loopback for the target, so backends never explain a difference.
- ``postgres``: every version on a real PostgreSQL server that the harness starts on
  loopback for the target, with search indexed in it (every version here has a Postgres
  index; netflix 3.15.0 has the module only as a community jar, which its lock adds to its
  class path). Indexing is on in this profile alone.

A profile with a store (``Profile.store``) gets it from ``stores.start_store``; the store
gives the properties that point a server at it.

A team's own settings (``--server-property KEY=VALUE``: its deployment's, say) go on top of
the profile's, on every server of the run alike, and are named with the profile in every
trace and report (``Profile.label``). They cannot move a server off its port or its store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from harness.errors import BadInputError

# The same on every version, in every profile.
COMMON: dict[str, str] = {
    "server.address": "127.0.0.1",
    "loadSample": "false",
    "conductor.grpc-server.enabled": "false",
    "conductor.indexing.enabled": "false",
    "conductor.app.ownerEmailMandatory": "false",
    "conductor.app.workflow.name-validation.enabled": "false",
    "conductor.app.workflow-execution-lock-enabled": "true",
    "conductor.workflow-execution-lock.type": "local_only",
    "conductor.workflow-repair-service.enabled": "true",
    # Rate- and concurrency-limited tasks are postponed 60 s by default; 1 s keeps
    # scenarios about limits short on every version alike.
    "conductor.app.taskExecutionPostponeDuration": "1",
    "spring.main.banner-mode": "off",
}

BACKENDS: dict[str, dict[str, str]] = {
    # db.type=memory brings the in-memory Redis emulation and, with any queue type but
    # redis_*, the dyno queue on top of it: no Redis server needed.
    "memory": {"conductor.db.type": "memory", "conductor.queue.type": "memory"},
    # 3.32's SQLite module registers its index DAO whenever indexing.type is sqlite (its
    # default), which clashes with indexing.enabled=false; naming no index type keeps
    # the no-op index, as on every other backend.
    "sqlite": {
        "conductor.db.type": "sqlite",
        "conductor.queue.type": "sqlite",
        "conductor.indexing.type": "none",
    },
}


class StoreLike(Protocol):
    """What a profile reads of the store a server runs on (``stores.Store``)."""

    @property
    def kind(self) -> str: ...

    def properties(self) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    summary: str
    store: str | None = None  # the store the harness starts for it ("redis", "postgres")
    settings: tuple[tuple[str, str], ...] = ()  # the team's own, on top of the profile's

    @property
    def label(self) -> str:
        """The profile's name, with the settings given on top of it."""
        if not self.settings:
            return self.name
        return f"{self.name} + " + ", ".join(f"{k}={v}" for k, v in self.settings)

    def configured(self) -> tuple[tuple[str, str], ...]:
        """The server properties this profile and the team's settings set on every version,
        sorted: what a trace records of how its server was configured (not where it listens
        or what it stores in)."""
        props = {k: v for k, v in COMMON.items() if k != "server.address"}
        props.update(self.settings)
        return tuple(sorted(props.items()))

    def backend(self, embedded_backend: str) -> str:
        return self.store or embedded_backend

    def properties(
        self,
        *,
        port: int,
        embedded_backend: str,
        state_dir: Path,
        store: StoreLike | None = None,
    ) -> dict[str, str]:
        """The Spring properties for one server start (on ``store``, for a profile with one)."""
        props = dict(COMMON)
        props.update(self.settings)
        props["server.port"] = str(port)
        if self.store is not None:
            if store is None or store.kind != self.store:
                raise ValueError(f"the {self.name} profile needs a {self.store} store")
            props.update(store.properties())
            return props
        props.update(BACKENDS[embedded_backend])
        if embedded_backend == "sqlite":
            db = state_dir / "conductor.db"
            props["spring.datasource.url"] = f"jdbc:sqlite:{db}?busy_timeout=15000&journal_mode=WAL"
        return props


PROFILES: dict[str, Profile] = {
    "embedded": Profile("embedded", "no external services; each version's embedded store"),
    "redis": Profile("redis", "every version on a real redis-server started on loopback", "redis"),
    "postgres": Profile(
        "postgres",
        "every version on a real PostgreSQL server started on loopback, search indexed in it",
        "postgres",
    ),
}
DEFAULT_PROFILE = "embedded"


def get_profile(name: str, settings: Sequence[str] = ()) -> Profile:
    """The profile ``name``, with ``settings`` (KEY=VALUE server properties) on top."""
    try:
        profile = PROFILES[name]
    except KeyError:
        known = ", ".join(PROFILES)
        raise BadInputError(f"Unknown profile '{name}'. Known profiles: {known}.") from None
    return replace(profile, settings=parse_settings(settings)) if settings else profile


# Where a server listens and what it stores in: the harness sets these, the team cannot.
_RESERVED_KEYS = frozenset({"server.port", "conductor.db.type", "conductor.queue.type"})
_RESERVED_PREFIXES = (
    "conductor.indexing.",
    "conductor.elasticsearch.",
    "conductor.redis.",
    "spring.datasource.",
)


def parse_settings(texts: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """KEY=VALUE server properties, in the order given (a later one of a key wins)."""
    settings: dict[str, str] = {}
    for text in texts:
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not key or any(c.isspace() for c in key):
            raise BadInputError(
                f"--server-property {text!r}: give KEY=VALUE, a Spring property of the server "
                "(e.g. conductor.app.workflow-execution-lock-enabled=false)"
            )
        if key in _RESERVED_KEYS or key.startswith(_RESERVED_PREFIXES):
            raise BadInputError(
                f"--server-property {key}: the harness sets where a server listens and what it "
                "stores in (choose a store with --profile)"
            )
        settings.pop(key, None)
        settings[key] = value
    return tuple(settings.items())


def render_properties(props: dict[str, str]) -> str:
    """A .properties file body, keys sorted so two profiles diff cleanly."""
    lines = ["# written by conductor-compat; one server start"]
    lines += [f"{key}={_escape(value)}" for key, value in sorted(props.items())]
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")

"""What a job will do, and the run folder that holds everything a compare or gate makes.

One ``Plan`` per job, whatever its kind: ``compare`` and ``gate`` (scenarios on live
targets, compared; the main job), ``run`` (scenarios on live targets, traces only),
``diff`` (two recorded trace directories compared, no server), ``check`` (each target
started, the smoke check run on it, stopped), ``upgrade`` (scenarios played across an
in-place upgrade from ``baseline`` to the one candidate, on one store), ``merge`` (the
run folders of a compare or gate run's shards joined into one comparison, no server) and
``bisect`` (the versions from ``baseline`` to the one candidate probed for the first that
shows one difference).

A compare or gate plan is saved as ``run.json`` in the run folder before anything starts,
so that ``--resume RUN_DIR`` can finish an interrupted run with the same settings:

    RUN_DIR/run.json                        the plan (a shard's: and what it was cut from)
    RUN_DIR/traces/<target>/*.trace.json    one per scenario run, written as each finishes
    RUN_DIR/servers/<start>/<target>/       server logs and state, one folder per execution
    RUN_DIR/report.{json,md,html}, junit.xml
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.clients.known import DEFAULT_CLIENTS
from harness.documents.limits import Limits
from harness.errors import BadInputError
from harness.pipeline.shard import Shard
from harness.scenarios.model import Scenario
from harness.scenarios.outbound import declared_hosts
from harness.targets.model import DEFAULT_JIT, DockerSettings, Isolation

RUN_FORMAT = 1
PLAN_FILE = "run.json"
KINDS = (
    "compare",
    "gate",
    "run",
    "diff",
    "check",
    "upgrade",
    "clients",
    "merge",
    "bisect",
    "explore",
)


@dataclass(frozen=True, slots=True)
class Plan:
    """Every setting of a job; a compare's or gate's paths are absolute, so that a resume
    works from anywhere."""

    kind: str  # one of KINDS
    baseline: str = ""  # compare: a target; gate, diff: a directory of recorded traces
    candidates: tuple[str, ...] = ()  # compare, gate: targets; diff: one trace directory
    paths: tuple[str, ...] = ()  # scenario files and folders; merge: the shards' run folders
    command: tuple[str, ...] = ()
    baseline_repeats: int = 2  # two baseline runs tell noise from differences
    candidate_repeats: int = 1
    recheck: bool = True  # re-run the candidate for scenarios that differ
    jobs: int = 8
    profile: str = "embedded"
    server_properties: tuple[str, ...] = ()  # KEY=VALUE on top of the profile's
    runtime: str = "process"
    ready_timeout_s: float = 240.0
    fail_on: str = "behavioral"
    fail_on_known: bool = True
    catalogs: tuple[str, ...] = ()  # the team's own catalogs of changes
    shipped_catalog: bool = True
    accept: str | None = None  # the team's acceptances
    scrub: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    allow_outbound: bool = False
    images: tuple[str, ...] = ()  # docker runtime: TARGET=IMAGE
    network: str = "none"  # docker runtime: none | bridge | host
    reuse: bool = False  # docker runtime: warm containers
    no_isolation: bool = False  # servers without a network namespace of their own
    boot_jar: bool = False  # servers run with -jar, not unpacked with a sharing archive
    jit: str = DEFAULT_JIT  # an unpacked server's JIT: c1 | tiered
    targets: tuple[str, ...] = ()  # run, check: the targets started (or reached)
    out: str | None = None  # run: the trace folder; diff: the report folder
    workdir: str | None = None  # run, check: server logs and state (default: the cache's)
    repeats: int = 1  # run: runs of each scenario on each target
    keep_poll_bodies: bool = False  # run: every poll's body in the trace, not its digest
    max_file_bytes: int | None = None  # input limits (None: the environment's, or default)
    max_tasks: int | None = None
    kill: bool = False  # upgrade: the old server is killed (SIGKILL), not stopped
    rollbacks: tuple[str, ...] = ()  # upgrade: candidates also switched back to the baseline
    switch_points: str = "all"  # upgrade: every switch point in a round of its own, or first
    clients: tuple[str, ...] = DEFAULT_CLIENTS  # clients: the client SDKs played everywhere
    script_timeout_s: float = 120.0  # clients: each wait of a client's script
    shard: str | None = None  # compare, gate: part I/N of the scenarios (pipeline/shard.py)
    seek: str = ""  # bisect: "change:ID" or "fingerprint:FP", the difference looked for
    budget_s: float = 1200.0  # explore: how long the search goes on
    seed: int | None = None  # explore: the first round's seed (None: a random one)
    without_changes: tuple[str, ...] = ()  # explore: changes left out of the catalog
    explore_runs: int = 3  # explore: runs of a scenario that shows a difference, each side
    reproduce: int = 2  # explore: runs that must show it for it to count
    confirm_runs: int = 8  # explore: more runs of each finding before it is written
    max_findings: int | None = None  # explore: stop once this many are shrunk

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BadInputError(f"unknown run kind '{self.kind}'")
        if self.kind in ("compare", "gate", "clients"):
            self._check_comparison()
            if self.kind == "clients" and not self.clients:
                raise BadInputError("clients needs at least one client (--client)")
        elif self.kind == "upgrade":
            self._check_upgrade()
        elif self.kind in ("diff", "merge"):
            self._check_recorded()
        elif self.kind in ("bisect", "explore"):
            self._check_pair()
        else:
            if not self.targets:
                raise BadInputError(f"{self.kind} needs at least one target")
            if len(set(self.targets)) != len(self.targets):
                raise BadInputError("the same target is named twice")
        self._check_shard()
        if self.kind in ("run", "diff", "merge", "bisect", "explore") and not self.out:
            raise BadInputError(f"{self.kind} needs a folder to write into (--out)")
        for name, value in (
            ("--jobs", self.jobs),
            ("--baseline-repeats", self.baseline_repeats),
            ("--candidate-repeats", self.candidate_repeats),
            ("--repeats", self.repeats),
        ):
            if value < 1:
                raise BadInputError(f"{name} must be at least 1")

    def _check_recorded(self) -> None:
        if self.kind == "diff" and (not self.baseline or len(self.candidates) != 1):
            raise BadInputError("diff compares one baseline and one candidate directory")
        if self.kind == "merge" and not self.paths:
            raise BadInputError("merge needs the run folder of every shard")

    def _check_shard(self) -> None:
        """``--shard I/N``, kept as ``I/N`` (``Shard.parse`` says what is wrong)."""
        if self.shard is None:
            return
        if self.kind not in ("compare", "gate"):
            raise BadInputError(f"--shard goes with compare and gate, not {self.kind}")
        object.__setattr__(self, "shard", str(Shard.parse(self.shard)))

    def _check_comparison(self) -> None:
        if not self.candidates:
            raise BadInputError("a run needs at least one candidate target")
        if len(set(self.candidates)) != len(self.candidates):
            raise BadInputError("the same candidate is named twice")
        if self.kind in ("compare", "clients") and self.baseline in self.candidates:
            raise BadInputError(
                f"{self.baseline} is both baseline and candidate; to measure a version's own "
                "noise, record it twice with `run --repeats 2`"
            )

    def _check_upgrade(self) -> None:
        if not self.baseline or not self.candidates:
            raise BadInputError("an upgrade goes from one version (--from) to others (--to)")
        if self.baseline in self.candidates:
            raise BadInputError(f"--from and --to are both {self.baseline}")
        if len(set(self.candidates)) != len(self.candidates):
            raise BadInputError("the same --to is named twice")
        for target in self.rollbacks:
            if target not in self.candidates:
                raise BadInputError(
                    f"--rollback-from {target} is not a --to: a rollback goes back from a "
                    "version the upgrade went to"
                )
        if len(set(self.rollbacks)) != len(self.rollbacks):
            raise BadInputError("the same --rollback-from is named twice")

    def _check_bisect(self) -> None:
        if not self.baseline or len(self.candidates) != 1:
            raise BadInputError("bisect goes from one version (--from) to another (--to)")
        if self.baseline == self.candidates[0]:
            raise BadInputError(f"--from and --to are both {self.baseline}")
        kind, _, value = self.seek.partition(":")
        if kind not in ("change", "fingerprint") or not value:
            raise BadInputError("name one difference to look for: --change ID or --fingerprint FP")

    def _check_pair(self) -> None:
        if self.kind == "bisect":
            self._check_bisect()
            return
        if not self.baseline or len(self.candidates) != 1:
            raise BadInputError("explore compares one baseline with one candidate")
        if self.baseline == self.candidates[0]:
            raise BadInputError(f"--baseline and --candidate are both {self.baseline}")
        if self.budget_s <= 0:
            raise BadInputError("--budget must be more than 0")
        if not 1 <= self.reproduce <= self.explore_runs:
            raise BadInputError(
                f"--reproduce {self.reproduce} must be between 1 and --explore-runs "
                f"{self.explore_runs}"
            )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def isolation(self, scenarios: Iterable[Scenario]) -> Isolation:
        """How the servers are kept off the network: with --allow-outbound, they may reach
        the HOST:PORT that the scenarios declare."""
        allowed = declared_hosts(scenarios) if self.allow_outbound else ()
        return Isolation(enforce=not self.no_isolation, allowed=allowed)

    def docker_settings(self) -> DockerSettings:
        images = dict(i.split("=", 1) for i in self.images)
        return DockerSettings(images=images, network=self.network, reuse=self.reuse)

    def limits(self) -> Limits:
        """The input limits: the environment's, raised or lowered by the plan's own."""
        return Limits.from_environment().replace(
            max_file_bytes=self.max_file_bytes, max_tasks=self.max_tasks
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        """The plan ``to_json`` gave; a setting this version does not know is refused, not
        dropped (a run.json of a newer conductor-compat, or a damaged one)."""
        if not isinstance(data, dict):
            raise BadInputError(f"a plan is a JSON object, not {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BadInputError(
                f"unknown setting{'s' * (len(unknown) != 1)} {', '.join(map(repr, unknown))}: "
                "written by a newer conductor-compat, or the file was altered; finish the run "
                "with the version that started it"
            )
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
        }
        values.setdefault("jit", "tiered")  # a run.json from before --jit: the JVM's default
        return cls(**values)


def slug(target: str) -> str:
    """A folder name for a target: 'oss:3.32.1' -> 'oss-3.32.1'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", target).strip("-")


@dataclass(frozen=True, slots=True)
class RunFolder:
    root: Path

    def __post_init__(self) -> None:
        # Absolute: servers run in folders of their own and read their files from here.
        object.__setattr__(self, "root", self.root.resolve())

    @property
    def plan_file(self) -> Path:
        return self.root / PLAN_FILE

    def traces(self, target: str) -> Path:
        return self.root / "traces" / slug(target)

    def new_servers_dir(self) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        return self.root / "servers" / f"{stamp}-{os.getpid()}"

    def save(self, plan: Plan, shard: dict[str, Any] | None = None) -> None:
        """run.json: the plan, and for a shard what it was cut from (``shard.record``)."""
        self.root.mkdir(parents=True, exist_ok=True)
        document: dict[str, Any] = {"run_format": RUN_FORMAT, "plan": plan.to_json()}
        if shard is not None:
            document["shard"] = shard
        temporary = self.plan_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, self.plan_file)

    def load(self) -> Plan:
        return self.load_all()[0]

    def load_all(self) -> tuple[Plan, dict[str, Any] | None]:
        """The plan, and a shard's record of what it was cut from (None: not a shard)."""
        if not self.plan_file.is_file():
            raise BadInputError(
                f"{self.root} is not a run folder ({PLAN_FILE} is missing); --resume takes "
                "the folder a compare or gate run wrote"
            )
        try:
            document = json.loads(self.plan_file.read_text(encoding="utf-8"))
            if document.get("run_format") != RUN_FORMAT:
                raise BadInputError(
                    f"{self.plan_file}: run_format {document.get('run_format')} is not "
                    f"{RUN_FORMAT}; this run was made by another conductor-compat version"
                )
            shard = document.get("shard")
            return Plan.from_json(document["plan"]), shard if isinstance(shard, dict) else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BadInputError(f"{self.plan_file}: not a readable run plan ({exc})") from exc


def default_folder(reports: Path, plan: Plan) -> RunFolder:
    """reports/<UTC time>-<baseline>-vs-<candidates>."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    baseline = slug(Path(plan.baseline).name if plan.kind == "gate" else plan.baseline)
    between = "-to-" if plan.kind == "upgrade" else "-vs-"
    name = f"{stamp}-{baseline}{between}{'-'.join(slug(c) for c in plan.candidates)}"
    return RunFolder(reports / name[:120])

"""``conductor-compat targets …``: list, check, bring up, and lock server versions."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from typing import Any

from harness.cli.options import (
    SERVER,
    add_options,
    docker_settings,
    isolation_for,
    parse_targets,
    plan_values,
    say,
    workdir_for,
)
from harness.cli.progress import Display, choose_mode
from harness.errors import CompatError, ExitCode, HarnessError
from harness.pipeline import Plan, TargetCheck, run_plan
from harness.targets import procs
from harness.targets.java import find_java
from harness.targets.launcher import has_module
from harness.targets.lockgen import write_lock
from harness.targets.locks import UNPUBLISHED, VersionLock, known_locks
from harness.targets.maven import artifact_path, cache_dir
from harness.targets.postgres import find_postgres
from harness.targets.process import STORE_MODULES
from harness.targets.profiles import PROFILES, Profile, get_profile
from harness.targets.provision import provision
from harness.targets.spec import parse_target
from harness.targets.stale import sweep


def register(commands: Any) -> None:
    targets = commands.add_parser(
        "targets",
        help="list, check and start Conductor servers",
        description="Bring real Conductor servers up on this machine and check them.",
    )
    sub = targets.add_subparsers(dest="targets_command", metavar="SUBCOMMAND", required=True)

    ls = sub.add_parser("list", help="known versions and what each needs")
    ls.set_defaults(handler=cmd_list)

    check = sub.add_parser(
        "check",
        help="start each target, run one workflow on it, stop it",
        description="Start each target (in parallel), register a task and a workflow, start "
        "the workflow, poll and complete its SIMPLE task, see it COMPLETED, and stop the "
        "server. Exit 0 only if every target passed.",
    )
    add_options(check, "config", "targets", *SERVER, "workdir")
    check.set_defaults(handler=cmd_check)

    up = sub.add_parser(
        "up",
        help="start targets and keep them running for manual use",
        description="Start the targets, print their URLs, and keep them running until "
        "Ctrl-C (or --for SECONDS). Everything is stopped on the way out. Each server is "
        "isolated as in a run (it reaches nothing on the network but its own loopback; "
        "not with --no-isolation, nor docker's bridge and host networks) and served to "
        "you at its URL on 127.0.0.1, a port the harness forwards to it. An isolated "
        "server cannot reach the HTTP stub of a `run --target remote:URL` either: start it "
        "with --no-isolation for scenarios with HTTP tasks.",
    )
    add_options(up, "config", "targets", "port", "duration", *SERVER, "workdir")
    up.set_defaults(handler=cmd_up)

    lock = sub.add_parser(
        "lock",
        help="pin a published version's artifacts (for maintainers)",
        description="Resolve a version's server jar with Maven, hash it, and write "
        "fixtures/locks/FLAVOR-VERSION.json. Commit the file to make the version known.",
    )
    add_options(lock, "targets", "java")
    lock.set_defaults(handler=cmd_lock)

    prune = sub.add_parser(
        "prune",
        help="remove what crashed runs left behind (PostgreSQL servers, containers)",
        description="Stop every PostgreSQL server (postgres profile) whose conductor-compat "
        "run is gone, then remove every container labelled by a conductor-compat run. A run "
        "removes its own servers and containers however it ends; only a run killed with "
        "SIGKILL, or a machine that lost power, leaves some behind.",
    )
    prune.set_defaults(handler=cmd_prune)


async def cmd_check(args: argparse.Namespace) -> int:
    docker = docker_settings(args)  # docker options without the docker runtime: exit 2 now
    workdir, temporary = workdir_for(args)
    values = plan_values(args, SERVER)
    values.update(
        images=tuple(f"{t}={i}" for t, i in docker.images.items()),
        targets=tuple(args.targets),
        workdir=str(workdir),
    )
    plan = Plan("check", command=tuple(sys.argv[1:]), **values)
    display = Display(sys.stderr, mode=choose_mode(sys.stderr, quiet=False))
    try:
        outcome = await run_plan(plan, display)
    finally:
        display.close()
    for check in outcome.checks:
        print(_check_line(check), flush=True)
    if outcome.exit_code == ExitCode.OK:
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)
        return int(ExitCode.OK)
    if workdir.exists():
        say(f"server logs kept in {workdir}")
    return outcome.exit_code


def _check_line(check: TargetCheck) -> str:
    if check.server is None or check.result is None:
        error = check.error
        message = error.message if isinstance(error, HarnessError) else str(error)
        details = error.details if isinstance(error, HarnessError) else []
        tail = "".join(f"\n    | {d}" for d in details)
        return f"ERROR {check.target}: {message}{tail}"
    target, result = check.server, check.result
    ident = target.identity
    setup = f"runtime={ident.runtime}"
    if ident.profile:
        setup += f" profile={ident.profile}({ident.backend}) java={ident.java}"
    verdict = "PASS " if result.passed else "FAIL "
    detail = "" if result.passed else f": {result.detail}"
    return (
        f"{verdict} {ident.target:<16} {setup}  start {target.start_seconds:5.1f}s  "
        f"check {result.seconds:4.1f}s{detail}"
    )


async def cmd_up(args: argparse.Namespace) -> int:
    specs = parse_targets(args.targets)
    workdir, _ = workdir_for(args)
    async with provision(
        specs,
        profile=get_profile(args.profile, args.server_property),
        workdir=workdir,
        runtime=args.runtime,
        port=args.port,
        ready_timeout_s=args.ready_timeout,
        docker=docker_settings(args),
        isolation=isolation_for(args),
        boot_jar=args.boot_jar,
        jit=args.jit,
    ) as running:
        for target in running:
            log = f"  log: {target.log}" if target.log else ""
            print(f"{target.identity.target:<16} {target.base_url}{log}", flush=True)
            say(f"{target.identity.target}: isolation {target.identity.isolation}")
        if args.duration is None:
            say("servers are running; press Ctrl-C to stop them")
            await asyncio.Event().wait()
        else:
            say(f"servers are running; stopping in {args.duration:.0f} s")
            await asyncio.sleep(args.duration)
    say(f"stopped; {procs.live_count()} server processes left running")
    return int(ExitCode.OK)


async def cmd_list(args: argparse.Namespace) -> int:
    print(f"{'TARGET':<16} {'JAVA':<6} {'JRE FOUND':<16} {'EMBEDDED':<9} {'SIZE':>8}  CACHED")
    for lock in known_locks():
        try:
            jre = find_java(lock.java, lock.java_max, provide=False).describe()
        except CompatError:
            jre = "first start" if lock.java_max else "missing"
        jar = lock.server_jar
        cached = "yes" if artifact_path(jar).exists() else "no"
        java = f"{lock.java}-{lock.java_max}" if lock.java_max else str(lock.java)
        print(
            f"{lock.target!s:<16} {java:<6} {jre:<16} {lock.embedded_backend:<9} "
            f"{jar.size / 2**20:6.0f}MB  {cached}"
        )
    if any(lock.java_max for lock in known_locks()):
        print(
            "\nJAVA 11-14: the server evaluates JavaScript with the JDK's own Nashorn, which "
            "Java 15 removed; it runs on Java 11 (Debian 11's OpenJDK, fetched with apt into "
            "the cache on its first start when the machine has none)."
        )
    print(f"\n{'PROFILE':<9} {'TARGET':<16} STORE")
    locks = known_locks()
    for profile in PROFILES.values():
        for lock in locks:
            print(f"{profile.name:<9} {lock.target!s:<16} {_store(profile, lock)}")
    for name, why in UNPUBLISHED.items():
        print(f"\n{name} is not available: {why}")
    print("\nremote:URL      a server already running (credentials from the environment)")
    try:
        postgres = str(find_postgres().postgres.parent)
    except CompatError:
        postgres = "missing"
    print(
        f"maven: {shutil.which('mvn') or 'missing'}   redis-server (redis profile): "
        f"{shutil.which('redis-server') or 'missing'}   PostgreSQL (postgres profile): "
        f"{postgres}   cache: {cache_dir()}"
    )
    return int(ExitCode.OK)


EMBEDDED_STORES = {
    "memory": "memory (in-memory Redis emulation, dyno queue)",
    "sqlite": "sqlite (a file, fresh per start)",
}


def _store(profile: Profile, lock: VersionLock) -> str:
    """The store ``profile`` runs ``lock``'s version on."""
    if profile.store is None:
        return EMBEDDED_STORES.get(lock.embedded_backend, lock.embedded_backend)
    extra = lock.extra_jars(profile.name)
    module = STORE_MODULES.get(profile.store)
    jar = artifact_path(lock.server_jar)
    if not extra and module and jar.exists() and not has_module(jar, module):
        return f"not available: its server jar has no {module}, and its lock adds none"
    if not extra:
        return profile.store
    _, module, version, *_ = extra[0].coordinate.split(":")
    return f"{profile.store} (with the community module {module} {version})"


async def cmd_lock(args: argparse.Namespace) -> int:
    for text in args.targets:
        path = await asyncio.to_thread(write_lock, parse_target(text), None, args.java)
        print(f"wrote {path}")
    return int(ExitCode.OK)


async def cmd_prune(args: argparse.Namespace) -> int:
    from harness.targets import docker  # the Docker SDK only when asked for

    stopped = await asyncio.to_thread(sweep)
    for name in stopped:
        print(f"stopped {name}")
    say(f"{len(stopped)} leftover PostgreSQL server{'s' * (len(stopped) != 1)} stopped")
    removed = docker.prune()
    for name in removed:
        print(f"removed {name}")
    networks = sum(name.startswith("network ") for name in removed)
    boxes = len(removed) - networks
    say(
        f"{boxes} leftover container{'s' * (boxes != 1)} and "
        f"{networks} network{'s' * (networks != 1)} removed"
    )
    return int(ExitCode.OK)

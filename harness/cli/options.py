"""Options and helpers that several commands share."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from harness.errors import BadInputError
from harness.targets.locks import find_lock
from harness.targets.maven import cache_dir
from harness.targets.model import NETWORKS, DockerSettings, Isolation
from harness.targets.profiles import DEFAULT_PROFILE, PROFILES
from harness.targets.provision import RUNTIMES
from harness.targets.spec import TargetSpec, parse_target


def server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        default=DEFAULT_PROFILE,
        choices=sorted(PROFILES),
        help=f"server configuration (default: {DEFAULT_PROFILE})",
    )
    parser.add_argument(
        "--runtime",
        default="process",
        choices=RUNTIMES,
        help="how servers are started (default: process)",
    )
    parser.add_argument(
        "--ready-timeout",
        type=float,
        default=240.0,
        metavar="SECONDS",
        help="how long a server may take to become ready (default: 240)",
    )
    docker_options(parser)
    isolation_option(parser)
    parser.add_argument(
        "--workdir",
        type=Path,
        metavar="DIR",
        help="where server logs and state go (default: a new folder in the "
        "cache, removed after a successful check)",
    )


def parse_targets(texts: list[str]) -> list[TargetSpec]:
    specs = [parse_target(t) for t in texts]
    for spec in specs:  # unknown versions fail before any server starts
        if not spec.is_remote:
            find_lock(spec)
    return specs


def workdir_for(args: argparse.Namespace) -> tuple[Path, bool]:
    if args.workdir:
        return Path(args.workdir), False
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return cache_dir() / "runs" / f"{stamp}-{os.getpid()}", True


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def catalog_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--catalog",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="your own catalog of changes, added to the shipped one (repeatable)",
    )


def comparison_options(parser: argparse.ArgumentParser, *, recheck_help: str) -> None:
    """--fail-on, --fail-on-known, --accept, --catalog, --scrub, --severity, --no-recheck:
    how traces are judged."""
    parser.add_argument(
        "--fail-on",
        choices=("breaking", "behavioral", "any"),
        default="behavioral",
        help="the least severe difference that makes a scenario incompatible (default: "
        "behavioral; 'any' includes additive and cosmetic)",
    )
    parser.add_argument(
        "--fail-on-known",
        choices=("yes", "no"),
        default="yes",
        help="whether catalogued breaking or behavioral changes that the scenarios reach ask "
        "for action (exit 9) until accepted (default: yes, a migrating team's view; 'no': "
        "only unexplained differences fail, a release gate's view)",
    )
    parser.add_argument(
        "--accept",
        type=Path,
        metavar="FILE",
        help="your acceptances: changes (by id) or differences (by fingerprint) your team "
        "has handled, each with owner, reason and expiry (YAML; see docs/verdicts.md)",
    )
    catalog_option(parser)
    parser.add_argument(
        "--no-shipped-catalog",
        action="store_true",
        help="leave out the shipped catalog of changes: every difference is unexplained",
    )
    parser.add_argument(
        "--scrub",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="extra scrub rules, applied after the shipped ones (repeatable)",
    )
    parser.add_argument(
        "--severity",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="severity rules tried before the shipped ones (repeatable)",
    )
    parser.add_argument("--no-recheck", action="store_true", help=recheck_help)


def docker_options(parser: argparse.ArgumentParser) -> None:
    """--image, --network, --reuse: how the docker runtime runs targets."""
    parser.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="TARGET=IMAGE",
        help="docker runtime: run TARGET from this image instead of one built from its "
        "locked jar; it must have `java` on its PATH and the server jar at "
        "/opt/conductor/server.jar (repeatable)",
    )
    parser.add_argument(
        "--network",
        choices=NETWORKS,
        default="none",
        help="docker runtime: 'none' (default) gives each container a loopback and nothing "
        "else, isolated as under the process runtime (needs root); 'bridge' puts servers on "
        "an internal network of the run's own, with no route out but the host's services "
        "reachable at its gateway; 'host' runs them on the host's network. Only 'none' "
        "isolates: the report says which",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="docker runtime: keep a warm container per target between runs and reset it "
        "(every definition, handler and running workflow deleted) before each run, instead "
        "of a start of 8 to 15 s; `targets prune` removes warm containers",
    )


def docker_settings(args: argparse.Namespace) -> DockerSettings:
    """The docker options of a command line; refused when the runtime is not docker."""
    if args.runtime != "docker":
        given = [
            f
            for f, on in (
                (f"--network {args.network}", args.network != "none"),
                ("--reuse", args.reuse),
                ("--image", bool(args.image)),
            )
            if on
        ]
        if given:
            raise BadInputError(f"{', '.join(given)} goes with --runtime docker.")
    return DockerSettings(images=parse_images(args.image), network=args.network, reuse=args.reuse)


def isolation_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-isolation",
        action="store_true",
        help="process runtime: run servers without a network namespace of their own, where "
        "isolation cannot be had (not root); a workflow can then reach any host, and the "
        "report says isolation was not enforced. By default each server reaches the "
        "harness's stub and the hosts --allow-outbound lets through, nothing else, or the "
        "run refuses to start",
    )


def isolation_for(args: argparse.Namespace, allowed: tuple[str, ...] = ()) -> Isolation:
    """How a command's servers are kept off the network; ``allowed``: declared HOST:PORT,
    let through only with --allow-outbound."""
    outbound = allowed if getattr(args, "allow_outbound", False) else ()
    return Isolation(enforce=not args.no_isolation, allowed=outbound)


def parse_images(texts: list[str]) -> dict[str, str]:
    """``oss:3.32.1=registry/conductor:3.32.1`` -> {target: image}."""
    images = {}
    for text in texts:
        target, sep, image = text.partition("=")
        if not sep or not image:
            raise BadInputError(f"--image takes TARGET=IMAGE, not '{text}'")
        images[str(parse_target(target))] = image
    return images


def judgement(args: argparse.Namespace) -> dict[str, Any]:
    """The comparison options of a command line, as ``load_settings`` takes them."""
    return {
        "scrub": [p.resolve() for p in args.scrub],
        "severity": [p.resolve() for p in args.severity],
        "catalogs": [p.resolve() for p in args.catalog],
        "shipped_catalog": not args.no_shipped_catalog,
        "accept": args.accept.resolve() if args.accept else None,
        "fail_on": args.fail_on,
        "fail_on_known": args.fail_on_known == "yes",
        "recheck": not args.no_recheck,
    }

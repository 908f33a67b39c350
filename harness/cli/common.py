"""Helpers several commands share: targets, work folders, docker and isolation settings."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from harness.errors import BadInputError
from harness.targets.locks import find_lock
from harness.targets.maven import cache_dir
from harness.targets.model import DockerSettings, Isolation
from harness.targets.spec import TargetSpec, parse_target


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

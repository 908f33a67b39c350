"""Every command-line option, defined once.

``OPTIONS`` is the one table: each command registers its arguments from it
(``add_options``); the options with a ``key`` are the config file's settings
(``harness/cli/config.py``: their schema, their origins); the options with a ``plan``
field fill the ``Plan`` of a compare or gate run. The table itself lives in
``option_table.py``; this module is what commands use.

Arguments are registered with no argparse default: after parsing, ``config.apply``
fills each option no flag gave from the config file, else from the table's default, and
records where each value came from (``args.option_origins``).

The helpers commands share (``parse_targets``, ``docker_settings``, ...) live in
``common.py`` and are importable from here too.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from harness.cli.common import (
    docker_settings,
    isolation_for,
    parse_images,
    parse_targets,
    say,
    workdir_for,
)
from harness.cli.option import Option
from harness.cli.option_table import COMPARISON, GROUPS, OPTIONS, SERVER
from harness.errors import BadInputError
from harness.resources import library_dir

__all__ = [
    "COMPARISON",
    "OPTION",
    "OPTIONS",
    "REGISTERED",
    "REQUIRED",
    "SERVER",
    "Option",
    "add_options",
    "configurable",
    "docker_settings",
    "isolation_for",
    "judgement",
    "parse_images",
    "parse_targets",
    "plan_values",
    "registered",
    "say",
    "workdir_for",
]

OPTION: dict[str, Option] = {o.name: o for o in OPTIONS}
REGISTERED = "registered_options"  # the namespace attribute listing a command's options
REQUIRED = "required_options"  # those it needs a value of, from a flag or the config file


def configurable() -> list[Option]:
    """The options a config file may set, in table order."""
    return [o for o in OPTIONS if o.key]


def add_options(parser: argparse.ArgumentParser, *names: str, required: Iterable[str] = ()) -> None:
    """Register the options ``names`` on ``parser``, in that order.

    ``required``: positional options taking several values that this command needs at
    least one of, from the command line or the config file (other commands fall back to
    the default).
    """
    needed = set(required)
    groups: dict[str, Any] = {}
    for name in names:
        option = OPTION[name]
        target: Any = parser
        if option.group:
            if option.group not in groups:
                groups[option.group] = parser.add_argument_group(
                    option.group, GROUPS.get(option.group)
                )
            target = groups[option.group]
        if option.exclusive:
            key = "exclusive:" + option.exclusive
            if key not in groups:
                groups[key] = target.add_mutually_exclusive_group()
            target = groups[key]
        flags, kwargs = option.argument(required=name in needed)
        target.add_argument(*flags, **kwargs)
    known = tuple(parser.get_default(REGISTERED) or ())
    needs = tuple(parser.get_default(REQUIRED) or ())
    parser.set_defaults(
        **{
            REGISTERED: known + tuple(n for n in names if n not in known),
            REQUIRED: needs + tuple(n for n in needed if n not in needs),
        }
    )


def registered(args: argparse.Namespace) -> list[Option]:
    """The options of the command ``args`` were parsed for."""
    return [OPTION[n] for n in getattr(args, REGISTERED, ())]


def plan_values(
    args: argparse.Namespace, names: Iterable[str], *, text: bool = True
) -> dict[str, Any]:
    """The options ``names`` of a command line, keyed by their ``Plan`` field, in the plan's
    terms: paths absolute (as text when ``text``, so that run.json is JSON), lists as
    tuples, ``--no-X`` flags as X."""
    values = {}
    for name in names:
        option = OPTION[name]
        if option.plan is not None:
            values[option.plan] = option.for_plan(getattr(args, option.dest), text=text)
    return values


def judgement(args: argparse.Namespace) -> dict[str, Any]:
    """The comparison options of a command line, as ``load_settings`` takes them."""
    return plan_values(args, COMPARISON, text=False)


def scenario_paths(given: Sequence[Path]) -> list[Path]:
    """The scenario files and folders given, each checked to exist; none given: the
    library (scenarios/ here, else the shipped one)."""
    if not given:
        for root in (Path("scenarios"), library_dir()):
            if root.is_dir():
                return [root]
        raise BadInputError(
            "no scenario library found (scenarios/); give scenario files or folders"
        )
    for path in given:
        if not path.exists():
            raise BadInputError(f"{path} does not exist (give scenario files or folders)")
    return list(given)

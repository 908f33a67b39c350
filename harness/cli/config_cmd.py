"""``conductor-compat config``: the settings in effect here, and where each came from."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness.cli.config import DEFAULT, FLAG, settings_of
from harness.cli.options import REGISTERED, Option, add_options, configurable
from harness.errors import ExitCode


def register(commands: Any) -> None:
    config = commands.add_parser(
        "config",
        help="show the settings in effect and where each came from",
        description="Print every setting a config file may hold (docs/configuration.md) "
        "with its value here and its origin: a flag given to this command, the config "
        "file's line (conductor-compat.toml, or pyproject.toml's [tool.conductor-compat], "
        "in this folder or the nearest parent that has one, or --config FILE), or the "
        "default. Flags beat the file; the file beats the defaults. Any setting's flag may "
        "be given, to see it win. Exit 0, or 2 for an invalid config file (each problem as "
        "FILE:LINE:COLUMN).",
    )
    sub = config.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    show = sub.add_parser("show", help="the settings in effect (the default subcommand)")
    for parser in (config, show):  # bare `config` takes no PATH: it could be a subcommand
        names = [o.name for o in configurable() if o.flags or parser is show]
        add_options(parser, "config", *names)
        parser.set_defaults(handler=cmd_show)


async def cmd_show(args: argparse.Namespace) -> int:
    print(f"config file: {args.config_file or 'none found'}")
    settings = settings_of(args)
    width = max(len(s.key) for s in settings)
    for setting in settings:
        value = _toml(setting.value)
        origin = {FLAG: "flag " + setting.option.label, DEFAULT: "default"}.get(
            setting.origin, setting.origin
        )
        print(f"{setting.key:<{width}} = {value:<32} # {origin}")
    return int(ExitCode.OK)


def _toml(value: Any) -> str:
    """A value as it would be written in the config file (``-`` for none)."""
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, Path):
        return json.dumps(str(value))
    return json.dumps(value)


def reference_table(parser: argparse.ArgumentParser) -> str:
    """docs/configuration.md's table of settings, from the option table and the commands
    of ``parser`` (the whole command line's) that register each."""
    users = _commands(parser)
    rows = [
        "| key | flag | default | read by | what it sets |",
        "|---|---|---|---|---|",
    ]
    for option in configurable():
        commands = ", ".join(f"`{c}`" for c in users.get(option.name, []))
        meaning = option.help.replace("|", "/")
        rows.append(
            f"| `{option.key}` | {_flag(option)} | {_default(option)} | {commands} | {meaning} |"
        )
    return "\n".join(rows) + "\n"


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, list[str]]:
    """Option name -> the commands (``targets check``) that take it; ``config`` left out."""
    users: dict[str, list[str]] = {}
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for name, sub in action.choices.items():
            command = f"{prefix}{name}"
            if command.startswith("config"):
                continue
            for option in sub.get_default(REGISTERED) or ():
                users.setdefault(option, []).append(command)
            for option, commands in _commands(sub, command + " ").items():
                users.setdefault(option, []).extend(commands)
    return users


def _flag(option: Option) -> str:
    if not option.flags:
        return f"`{option.label}` (arguments)"
    if option.negated:
        return f"`{option.flags[0]}` (sets it false)"
    return f"`{option.flags[0]}`" + (" (repeatable)" if option.many else "")


def _default(option: Option) -> str:
    value = option.to_config(option.fresh_default())
    return "none" if value is None or value == [] else f"`{_toml(value)}`"

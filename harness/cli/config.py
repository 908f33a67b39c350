"""The config file: settings a team gives once instead of on every command line.

Either ``conductor-compat.toml`` (its top-level keys) or the ``[tool.conductor-compat]``
table of ``pyproject.toml``, found in the current folder or the nearest parent that has
one (``conductor-compat.toml`` first in a folder), or named with ``--config FILE``. Its
keys are the options of the table (``option_table.py``) that have one; it is checked
against ``harness/schemas/config.schema.json``, generated from that table (see
``render_schema``), and every problem names its file and line. Relative paths in it are
relative to the file's folder. A flag beats the file, the file beats the default.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.cli.options import OPTION, REQUIRED, Option, configurable, registered
from harness.documents import DocumentError, Problem, Source, schema_problems
from harness.documents.source import FieldPath
from harness.errors import BadInputError

__all__ = [
    "CONFIG_NAME",
    "Config",
    "Setting",
    "apply",
    "config_schema",
    "find_config",
    "key_positions",
    "load_config",
    "render_schema",
    "settings_of",
]

CONFIG_NAME = "conductor-compat.toml"
PYPROJECT = "pyproject.toml"
TABLE = ("tool", "conductor-compat")
DEFAULT = "default"
FLAG = "flag"
SCHEMA_ID = "https://conductor-compat.dev/schemas/config.schema.json"


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting's value, in the config file's terms, and where it came from: ``default``,
    ``FILE:LINE``, or ``flag`` (a command line's)."""

    key: str
    value: Any
    origin: str
    option: Option


@dataclass(frozen=True, slots=True)
class Config:
    """Every configurable setting (``settings``, by key, in table order) and the file read.

    Values are as the file gives them, checked: paths absolute ``Path``s (relative ones
    taken from the file's folder), lists as lists, ``isolation``, ``recheck`` and
    ``shipped_catalog`` true for on, ``fail_on_known`` true or false.
    """

    file: Path | None
    settings: dict[str, Setting]

    def __getitem__(self, key: str) -> Any:
        return self.settings[key].value

    def origin(self, key: str) -> str:
        return self.settings[key].origin

    def given(self) -> dict[str, Any]:
        """The settings the file gives, by key."""
        return {k: s.value for k, s in self.settings.items() if s.origin != DEFAULT}


def load_config(start: Path | None = None, explicit: Path | None = None) -> Config:
    """The settings of ``explicit``, else of the config file found from ``start`` (default:
    the current folder) upwards, each with its origin; the defaults when there is none.

    Raises ``BadInputError`` (exit 2) for a missing explicit file, and ``DocumentError``
    (a ``BadInputError`` whose details are FILE:LINE:COLUMN lines) for an invalid one.
    """
    if explicit is not None:
        if not explicit.is_file():
            raise BadInputError(f"--config {explicit}: no such file")
        path: Path | None = explicit.resolve()
    else:
        path = find_config(start)
    source = _read(path) if path is not None else None
    settings = {}
    for option in configurable():
        key = str(option.key)
        if source is not None and key in source.data:
            value = _resolved(option, source.data[key], source.path.parent)
            line = source.position((key,), key=True)[0]
            settings[key] = Setting(key, value, f"{source.path}:{line}", option)
        else:
            settings[key] = Setting(key, option.to_config(option.fresh_default()), DEFAULT, option)
    return Config(path, settings)


def find_config(start: Path | None = None) -> Path | None:
    """The config file that applies in ``start`` (default: the current folder)."""
    folder = (start or Path.cwd()).resolve()
    if not folder.is_dir():
        folder = folder.parent
    for place in (folder, *folder.parents):
        if (place / CONFIG_NAME).is_file():
            return place / CONFIG_NAME
        if (place / PYPROJECT).is_file() and _has_table(place / PYPROJECT):
            return place / PYPROJECT
    return None


def _has_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if "conductor-compat" not in text:
        return False
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError:  # ours if it says so: the error is then reported
        return re.search(r"^\s*\[\s*tool\s*\.\s*[\"']?conductor-compat", text, re.M) is not None
    return _holds_table(document)


def _holds_table(document: dict[str, Any]) -> bool:
    tool = document.get(TABLE[0])
    return isinstance(tool, dict) and TABLE[1] in tool


def _read(path: Path) -> Source:
    """The config file's settings, checked against the schema, with their positions."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read the config file {path}: {exc}") from exc
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, column = (int(found[1]), int(found[2])) if found else (1, 1)
        message = re.sub(r"\s*\(at .*\)$", "", str(exc))
        raise DocumentError("config file", [Problem(str(path), line, column, message)]) from exc
    prefix: FieldPath = TABLE if path.name == PYPROJECT or _holds_table(document) else ()
    positions = key_positions(text)
    section: Any = document
    for part in prefix:
        section = section.get(part) if isinstance(section, dict) else None
    if not isinstance(section, dict):
        where = "[tool.conductor-compat] table"
        raise DocumentError(
            "config file", [Problem(str(path), 1, 1, f"{path.name} has no {where}")]
        )
    marks = {p[len(prefix) :]: at for p, at in positions.items() if p[: len(prefix)] == prefix}
    marks.setdefault((), (1, 1))
    source = Source(path=path, data=section, marks=dict(marks), key_marks=dict(marks))
    problems = [_in_config_terms(p) for p in schema_problems(source, "config")]
    if problems:
        raise DocumentError("config file", problems)
    return source


def _in_config_terms(problem: Problem) -> Problem:
    message = problem.message.replace("unknown field", "unknown setting")
    message = message.replace("missing required field", "missing setting")
    return dataclasses.replace(problem, message=message)


_KEY = r"(?:[A-Za-z0-9_-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*')"
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?")
_ASSIGN = re.compile(rf"^(\s*)({_DOTTED})\s*=")


def key_positions(text: str) -> dict[FieldPath, tuple[int, int]]:
    """Where each key and table header of a TOML text is (line, column; 1-based).

    tomllib keeps no positions; this scan of the text finds them well enough to point at
    a setting: the line of its key, or of the header of the table it is in.
    """
    positions: dict[FieldPath, tuple[int, int]] = {}
    table: FieldPath = ()
    in_string: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string is not None:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        header = _HEADER.match(line)
        assign = None if header else _ASSIGN.match(line)
        found: FieldPath
        if header:
            table = found = _parts(header[1])
            column = line.index("[") + 1
        elif assign:
            found, column = (*table, *_parts(assign[2])), len(assign[1]) + 1
            rest = line[assign.end() :]
            for quotes in ('"""', "'''"):
                if rest.count(quotes) % 2 == 1:
                    in_string = quotes
        else:
            continue
        for end in range(1, len(found) + 1):  # [a.b] also says where a is
            positions.setdefault(found[:end], (number, column))
    return positions


def _parts(dotted: str) -> FieldPath:
    parts = re.findall(_KEY, dotted)
    return tuple(p[1:-1] if p[:1] in ("'", '"') else p for p in parts)


def _resolved(option: Option, value: Any, folder: Path) -> Any:
    """A file's value in the terms of ``Config``: paths absolute from the file's folder."""
    if option.kind == "path":
        paths = [(folder / Path(v).expanduser()).resolve() for v in value] if option.many else []
        return paths if option.many else (folder / Path(value).expanduser()).resolve()
    if option.kind == "yesno":
        return value in (True, "yes")
    if option.kind == "float":
        return float(value)
    return list(value) if option.many else value


def apply(args: argparse.Namespace) -> None:
    """Give every option of the command ``args`` were parsed for its value: the flag's, else
    the config file's, else the default; ``args.option_origins`` says which, by option."""
    options = registered(args)
    config = None
    if any(o.key for o in options):
        explicit = getattr(args, "config", None)
        config = load_config(explicit=Path(explicit) if explicit else None)
    origins: dict[str, str] = {}
    for option in options:
        if hasattr(args, option.dest):
            origins[option.name] = FLAG
        elif config is not None and option.key and config.origin(option.key) != DEFAULT:
            setattr(args, option.dest, option.from_config(config[option.key]))
            origins[option.name] = config.origin(option.key)
        else:
            setattr(args, option.dest, option.fresh_default())
            origins[option.name] = DEFAULT
    args.option_origins = origins
    args.config_file = config.file if config else None
    for name in getattr(args, REQUIRED, ()):
        option = OPTION[name]
        if not getattr(args, option.dest):
            raise BadInputError(
                f"{option.label} is needed: give it on the command line, or set "
                f"{option.key} in the config file"
            )


def settings_of(args: argparse.Namespace) -> list[Setting]:
    """The configurable settings of a settled command line, each with its origin."""
    out = []
    for name, origin in args.option_origins.items():
        option = OPTION[name]
        if option.key:
            value = option.to_config(getattr(args, option.dest))
            out.append(Setting(option.key, value, origin, option))
    return out


def config_schema() -> dict[str, Any]:
    """The JSON Schema of the config file, from the option table."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "conductor-compat configuration",
        "description": "The settings of conductor-compat.toml, or of the "
        "[tool.conductor-compat] table of pyproject.toml: each is the option of that name "
        "given on every command line that takes it; a flag given wins. Relative paths are "
        "relative to the file's folder. Generated from harness/cli/option_table.py.",
        "type": "object",
        "additionalProperties": False,
        "properties": {str(o.key): o.schema() for o in configurable()},
    }


def render_schema() -> str:
    """harness/schemas/config.schema.json's text."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"

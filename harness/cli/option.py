"""One command-line option: its flags, type, default, help, config key and plan field,
and how it turns a value from a flag or the config file into the command's (the table of
every option is ``option_table``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from harness.documents.limits import (
    parse_count,
    parse_size,
)
from harness.errors import BadInputError

Kind = Literal["text", "int", "float", "path", "flag", "choice", "yesno", "size", "count"]


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except BadInputError as exc:
        raise argparse.ArgumentTypeError(exc.message) from exc


def _count(text: str) -> int:
    try:
        return parse_count(text, "--max-tasks")
    except BadInputError as exc:
        raise argparse.ArgumentTypeError(exc.message) from exc


_TYPES: dict[str, Any] = {
    "int": int,
    "float": float,
    "path": Path,
    "size": _size,
    "count": _count,
}
_SCHEMA_TYPES = {"text": "string", "path": "string", "int": "integer", "float": "number"}


@dataclass(frozen=True, slots=True)
class Option:
    """One option: how argparse reads it, whether the config file may set it, where it goes.

    ``default`` is the value a command sees (``args.<dest>``) when neither a flag nor the
    config file gives one. ``many``: a repeatable flag, or a positional of several values.
    ``negated``: a ``--no-X`` flag whose config key says X (``isolation = false``).
    """

    name: str  # unique in the table
    flags: tuple[str, ...]  # () for a positional
    help: str
    kind: Kind = "text"
    default: Any = None
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    many: bool = False
    required: bool = False
    dest: str = ""  # the namespace attribute; the name unless several options share one
    key: str | None = None  # the config file's key: set, the option is configurable
    negated: bool = False
    minimum: float | None = None
    plan: str | None = None  # the Plan field it fills
    resumed: bool = False  # --resume refuses it (the run.json has it) though not a Plan field
    group: str | None = None  # an argparse group of that title (GROUPS: its description)
    exclusive: str | None = None  # options of the same name here exclude each other

    def __post_init__(self) -> None:
        if not self.dest:
            object.__setattr__(self, "dest", self.name)

    @property
    def label(self) -> str:
        """How a person names it: its first flag, or a positional's metavar."""
        return self.flags[0] if self.flags else (self.metavar or self.dest.upper())

    @property
    def kept_by_resume(self) -> bool:
        return self.plan is not None or self.resumed

    def argument(self, *, required: bool = False) -> tuple[list[str], dict[str, Any]]:
        """``add_argument``'s arguments: no default (``argparse.SUPPRESS``), so that an
        option left out is absent from the namespace and its value found later.

        ``required``: this command needs a value; for a configurable option the config
        file may give it, so argparse does not insist (``config.apply`` does)."""
        kwargs: dict[str, Any] = {"help": self.help, "default": argparse.SUPPRESS}
        if self.kind == "flag":
            kwargs["action"] = "store_true"
        else:
            if self.metavar:
                kwargs["metavar"] = self.metavar
            if self.kind in _TYPES:
                kwargs["type"] = _TYPES[self.kind]
            if self.kind == "choice":
                kwargs["choices"] = self.choices
            elif self.kind == "yesno":
                kwargs["choices"] = ("yes", "no")
        if not self.flags:
            if self.many:
                needed = (required and not self.key) or self.required
                kwargs["nargs"] = "+" if needed else "*"
            return [self.dest], kwargs
        if self.many:
            kwargs["action"] = "append"
        if self.required:
            kwargs["required"] = True
        if self.dest != self.flags[0].lstrip("-").replace("-", "_"):
            kwargs["dest"] = self.dest
        return list(self.flags), kwargs

    def fresh_default(self) -> Any:
        return list(self.default) if isinstance(self.default, list | tuple) else self.default

    def from_config(self, value: Any) -> Any:
        """A config file's value (checked by the schema) as a flag would have given it."""
        if self.negated:
            return not value
        if self.kind == "yesno":
            return "yes" if value in (True, "yes") else "no"
        if self.kind == "float":
            return float(value)
        return list(value) if self.many else value

    def to_config(self, value: Any) -> Any:
        """A command's value in the config file's terms (the inverse of ``from_config``)."""
        if self.negated:
            return not value
        if self.kind == "yesno":
            return value == "yes"
        return list(value) if isinstance(value, list | tuple) else value

    def for_plan(self, value: Any, *, text: bool = True) -> Any:
        """A command's value as the ``Plan`` (``text``) or ``load_settings`` holds it."""
        if self.kind == "path" and value is not None:
            paths = [Path(v).resolve() for v in (value if self.many else [value])]
            converted = [str(p) if text else p for p in paths]
            return tuple(converted) if self.many else converted[0]
        if self.many:
            return tuple(value or ())
        if self.kind == "yesno":
            return value == "yes"
        if self.negated and self.plan != self.dest:  # --no-recheck fills recheck
            return not value
        return value

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of its config key."""
        item: dict[str, Any]
        if self.kind == "flag":
            item = {"type": "boolean"}
        elif self.kind == "choice":
            item = {"enum": list(self.choices)}
        elif self.kind == "yesno":
            item = {"enum": [True, False, "yes", "no"]}
        else:
            item = {"type": _SCHEMA_TYPES[self.kind]}
            if self.kind == "path":
                item["minLength"] = 1
        if self.minimum is not None:
            item["minimum"] = self.minimum
        body: dict[str, Any] = {"type": "array", "items": item} if self.many else item
        default = self.to_config(self.default)
        if isinstance(default, list):
            body["default"] = [_plain(v) for v in default]
        elif default is not None:
            body["default"] = _plain(default)
        return {"description": self.help, **body}


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value

"""Read a YAML or JSON file into plain data, keeping where every value came from.

PyYAML's composer gives each node its start mark; walking the node tree once yields
both the data and a map from field path (a tuple of keys and indexes) to
``(line, column)``, 1-based, so that any problem found later, by the JSON Schema or
by a semantic check, can be reported as ``file:line:column``. Duplicate keys, which
YAML loaders silently collapse, are reported instead.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a scenario file, at a place in it."""

    file: str
    line: int
    column: int
    message: str
    field: str = ""  # the failing field path, e.g. steps[2].wait.status

    def render(self) -> str:
        where = f" (at {self.field})" if self.field else ""
        return f"{self.file}:{self.line}:{self.column}: {self.message}{where}"


@dataclass(slots=True)
class Source:
    """A parsed file: its data and the position of every field in it."""

    path: Path
    data: Any
    marks: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: FieldPath, *, key: bool = False) -> tuple[int, int]:
        """The position of ``path``, or of its closest ancestor that has one."""
        table = self.key_marks if key else self.marks
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if key and probe in self.marks:
                return self.marks[probe]
            probe = probe[:-1]
        return self.marks.get((), (1, 1))

    def problem(self, path: FieldPath, message: str, *, key: bool = False) -> Problem:
        line, column = self.position(path, key=key)
        return Problem(str(self.path), line, column, message, format_path(path))


class SourceError(Exception):
    """The file could not be read or parsed at all; ``problems`` say where."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.render() for p in problems))
        self.problems = problems


def format_path(path: FieldPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_source(path: Path) -> Source:
    """Parse ``path`` (YAML, of which JSON is a subset)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError([Problem(str(path), 1, 1, f"cannot read the file: {exc}")]) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(str(s) for s in (exc.context, exc.problem) if s)
        raise SourceError([Problem(str(path), line, column, f"malformed YAML: {what}")]) from exc
    except yaml.YAMLError as exc:
        raise SourceError([Problem(str(path), 1, 1, f"malformed YAML: {exc}")]) from exc
    source = Source(path=path, data=None)
    if node is None:
        raise SourceError([Problem(str(path), 1, 1, "the file is empty")])
    duplicates: list[Problem] = []
    source.data = _build(node, (), source, duplicates)
    if duplicates:
        raise SourceError(duplicates)
    return source


def _scalar(node: yaml.ScalarNode) -> Any:
    value = _CONSTRUCTOR.construct_object(node, deep=True)
    # Dates and timestamps stay text: scenario data must be JSON.
    return node.value if isinstance(value, datetime.date) else value


_CONSTRUCTOR = yaml.SafeLoader("")


def _build(node: yaml.Node, path: FieldPath, source: Source, dups: list[Problem]) -> Any:
    source.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int | float | bool) or key is None:
                mark = key_node.start_mark
                dups.append(
                    Problem(str(source.path), mark.line + 1, mark.column + 1, "keys must be text")
                )
                continue
            name = str(key)
            child = (*path, name)
            source.key_marks[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if name in result:
                mark = key_node.start_mark
                dups.append(
                    Problem(
                        str(source.path),
                        mark.line + 1,
                        mark.column + 1,
                        f"duplicate key '{name}' (YAML would silently keep only the last one)",
                        format_path(child),
                    )
                )
            result[name] = _build(value_node, child, source, dups)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), source, dups) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    return None  # pragma: no cover - composer yields only the three node kinds

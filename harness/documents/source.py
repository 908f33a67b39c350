"""Read a YAML or JSON file into plain data, keeping where every value came from.

PyYAML's composer gives each node its start mark; walking the node tree once yields
both the data and a map from field path (a tuple of keys and indexes) to
``(line, column)``, 1-based, so that any problem found later, by the JSON Schema or
by a semantic check, can be reported as ``file:line:column``. Duplicate keys, which
YAML loaders silently collapse, are reported instead.

Nothing in a file can exhaust the machine: a file larger than ``Limits.max_file_bytes``
is not read, and the composer (``compose.py``) refuses alias bombs and deep nesting
before any Python object is built. Merge keys (``<<: *defaults``) are supported; tags
other than YAML's plain scalar types are refused, since scenario data must be JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from harness.documents.compose import ComposeLimitError, compose
from harness.documents.limits import FILE_BYTES_VARIABLE, Limits, describe_size

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


def read_source(path: Path, limits: Limits | None = None) -> Source:
    """Parse ``path`` (YAML, of which JSON is a subset) within ``limits``.

    ``limits`` defaults to ``Limits.from_environment()``.
    """
    limits = Limits.from_environment() if limits is None else limits
    text = _read_text(path, limits.max_file_bytes)
    try:
        node = compose(text, limits)
    except ComposeLimitError as exc:
        raise SourceError([Problem(str(path), exc.line, exc.column, exc.message)]) from exc
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
    problems: list[Problem] = []
    source.data = _Builder(source, problems).build(node, ())
    if problems:  # a problem inside an anchored node is met once per alias: say it once
        unique: dict[tuple[int, int, str], Problem] = {}
        for problem in problems:
            unique.setdefault((problem.line, problem.column, problem.message), problem)
        raise SourceError(list(unique.values()))
    return source


def _read_text(path: Path, max_bytes: int) -> str:
    """The file's text; at most ``max_bytes`` are read, so a device or a huge file is refused."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(max_bytes + 1)
    except OSError as exc:
        raise SourceError([Problem(str(path), 1, 1, f"cannot read the file: {exc}")]) from exc
    if len(raw) > max_bytes:
        message = (
            f"the file is larger than the limit of {describe_size(max_bytes)}; raise it with "
            f"--max-file-size or {FILE_BYTES_VARIABLE} if the file is meant to be this large"
        )
        raise SourceError([Problem(str(path), 1, 1, message)])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError([Problem(str(path), 1, 1, f"cannot read the file: {exc}")]) from exc


_MERGE = "tag:yaml.org,2002:merge"
_AS_TEXT = {"tag:yaml.org,2002:timestamp"}  # dates and timestamps stay text: data is JSON
_SCALARS = {
    tag: SafeConstructor.yaml_constructors[tag]
    for tag in (
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:str",
    )
}
_CONSTRUCTOR = SafeConstructor()


@dataclass(slots=True)
class _Builder:
    """Turns a composed node graph into plain data, recording positions and problems."""

    source: Source
    problems: list[Problem]

    def problem(self, node: Node, message: str, path: FieldPath = ()) -> None:
        mark = node.start_mark
        self.problems.append(
            Problem(
                str(self.source.path), mark.line + 1, mark.column + 1, message, format_path(path)
            )
        )

    def build(self, node: Node, path: FieldPath) -> Any:
        self.source.marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, MappingNode):
            return self.mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        return None  # pragma: no cover - the composer yields only the three node kinds

    def scalar(self, node: ScalarNode, path: FieldPath) -> Any:
        if node.tag in _AS_TEXT:
            return node.value
        construct = _SCALARS.get(node.tag)
        if construct is None:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.problem(node, f"the YAML tag {tag} is not supported (data must be JSON)", path)
            return None
        try:
            return construct(_CONSTRUCTOR, node)
        except ValueError as exc:  # an integer of more digits than Python converts
            self.problem(node, f"cannot read the value: {exc}", path)
            return None

    def mapping(self, node: MappingNode, path: FieldPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in [(k, v) for k, v in node.value if k.tag == _MERGE]:
            for merged in self.merged(key_node, value_node, path):
                for name, value in merged.items():
                    result.setdefault(name, value)  # the first mapping merged wins
        explicit: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.scalar(key_node, path) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str | int | float | bool):
                self.problem(key_node, "keys must be text", path)
                continue
            name = str(key)
            child = (*path, name)
            self.source.key_marks[child] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            if name in explicit:
                self.problem(
                    key_node,
                    f"duplicate key '{name}' (YAML would silently keep only the last one)",
                    child,
                )
            explicit.add(name)
            result[name] = self.build(value_node, child)  # written keys override merged ones
        return result

    def merged(self, key: Node, node: Node, path: FieldPath) -> list[dict[str, Any]]:
        """The mappings a merge key (``<<``) names: one, or a list of them."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        wrong = [item for item in sources if not isinstance(item, MappingNode)]
        if not sources or wrong:
            # Where it is written: an alias's node is its anchor's, elsewhere in the file.
            culprit = (wrong or [node])[0]
            at = culprit if _after(culprit, key) else node if _after(node, key) else key
            self.problem(at, "a merge key (<<) takes a mapping or a list of mappings", path)
            return []
        return [self.mapping(item, path) for item in sources if isinstance(item, MappingNode)]


def _after(node: Node, key: Node) -> bool:
    """Whether ``node`` is written after ``key`` (so not an alias to an earlier anchor)."""
    here, there = node.start_mark, key.start_mark
    return (here.line, here.column) > (there.line, there.column)

"""Fold differences as they are found: those with the same level, generalized path
(``shape``: task keys and list indices written ``*``), kind and values (as canonical
JSON) are one ``Difference``, listing every step and path where it occurs.

The walk of objects hands each difference over with its ``Shape``: a node of a tree of
generalized paths, made once per level and path rather than once per difference, which
knows how its last key is written and the group its last difference went to. A
difference with the same kind and values as the last one at its place (most of them,
when a 10,000-task list differs alike in every task) joins that group without its
values being written as JSON. Elsewhere the shape is made from the path.
"""

from __future__ import annotations

from _json import make_encoder
from collections.abc import Sequence
from dataclasses import dataclass, replace
from json.encoder import encode_basestring_ascii
from typing import Any

from harness.compare.views import LEVELS, Step
from harness.normalize.paths import render, written

Path = tuple[str | int, ...]
_TASK_LEVELS = ("tasks", "attempts")  # keyed by task at their second level
Kind = tuple[str, str]  # a difference's kind, and which side has no value
REMOVED: Kind = ("removed", "candidate")
ADDED: Kind = ("added", "baseline")
_IS_TEXT = str.__instancecheck__


@dataclass(frozen=True, slots=True)
class Difference:
    """One divergence, before classification. ``baseline``/``candidate`` hold the values;
    ``missing`` says which side has none (``"baseline"``, ``"candidate"`` or ``""``)."""

    level: str
    kind: str
    path: str  # the first place it occurs, e.g. wf1.second#1.outputData.result
    shape: str  # generalized: wf1.*.outputData.result
    baseline: Any
    candidate: Any
    missing: str
    steps: tuple[Step, ...]
    paths: tuple[str, ...]
    shape_parts: tuple[str, ...] = ()
    all_parts: tuple[Path, ...] = ()
    # a part of a folded difference whose places different changes explain: the change
    # (or "unexplained") its places went to; "" for a difference as folded
    part: str = ""

    @property
    def step(self) -> Step:
        return self.steps[0] if self.steps else None

    def key(self) -> tuple[str, str]:
        return (self.level, self.shape)

    def places(self) -> list[Difference]:
        """Each place where it occurs, as a difference of its own (itself, with one)."""
        if len(self.all_parts) < 2:
            return [self]
        return [
            replace(self, path=text, paths=(text,), all_parts=(parts,))
            for parts, text in zip(self.all_parts, self.paths, strict=True)
        ]

    def only(self, places: list[Difference], part: str) -> Difference:
        """The part of it at ``places`` (some of its ``places()``), labelled ``part``."""
        return replace(
            self,
            path=places[0].path,
            paths=tuple(p.path for p in places),
            all_parts=tuple(q for p in places for q in p.all_parts),
            part=part,
        )


class _Group:
    """Differences that fold into one: where each occurs, the values of the first."""

    __slots__ = ("baseline", "candidate", "kind", "missing", "parts", "paths", "steps", "texts")

    def __init__(
        self, parts: tuple[str, ...], kind: str, missing: str, baseline: Any, candidate: Any
    ) -> None:
        self.parts, self.kind, self.missing = parts, kind, missing
        self.baseline, self.candidate = baseline, candidate
        self.steps: list[Step] = []
        self.paths: list[Path] = []
        self.texts: list[str] = []  # each path rendered


class Shape:
    """A generalized path of one level, and the group of the last difference found there."""

    __slots__ = ("after", "kids", "last", "parts")

    def __init__(self, parts: tuple[str, ...], after: str = "") -> None:
        self.parts = parts
        self.after = after  # its last key as written after another part
        self.kids: dict[str, Shape] = {}
        self.last: tuple[Kind, Any, Any, _Group] | None = None  # the last one's values

    def kid(self, key: str) -> Shape:
        found = self.kids.get(key)
        if found is None:
            found = self.kids[key] = Shape((*self.parts, key), written(key))
        return found


# where a difference is: its path, its shape and the path rendered (None, None: made from
# the path)
At = tuple[Path, Shape | None, str | None]
Taped = list[tuple[_Group, Path, str]]  # differences as found: group, path, text


class Fold:
    """The groups of one diff, level by level (``enter``), in the order they were found."""

    def __init__(self) -> None:
        self.level = ""
        self.step: Step = None
        self.groups: dict[tuple[Any, ...], _Group] = {}
        self.roots: dict[tuple[str, ...], Shape] = {}
        self.done: list[tuple[str, list[_Group]]] = []
        self.tape: Taped | None = None  # when recording (pairs.py): each difference noted

    def enter(self, level: str) -> None:
        if self.groups:
            self.done.append((self.level, list(self.groups.values())))
        self.level, self.groups, self.roots = level, {}, {}

    def root(self, parts: tuple[str, ...]) -> Shape:
        found = self.roots.get(parts)
        if found is None:
            found = self.roots[parts] = Shape(parts)
        return found

    def add(self, at: At, kind: str, baseline: Any, candidate: Any, missing: str) -> None:
        path, shape, text = at
        if shape is None or text is None:
            group = self._group(
                generalize_path(self.level, path), (kind, missing), baseline, candidate
            )
            self._note(group, path, render(path))
        else:
            self._note(self._at(shape, (kind, missing), baseline, candidate), path, text)

    def add_key(self, at: At, key: Any, how: Kind, baseline: Any, candidate: Any) -> None:
        """``add`` for the value at ``key`` under ``at``; ``how``: its kind and missing side."""
        path, shape, text = at
        if shape is None or text is None or type(key) is not str:
            self.add(((*path, key), None, None), how[0], baseline, candidate, how[1])
            return
        kid = shape.kids.get(key) or shape.kid(key)
        last = kid.last  # what _at and _note do, written out: most differences come here
        if (
            last is not None
            and last[0] is how
            and (last[1] is baseline or _same(last[1], baseline))
            and (last[2] is candidate or _same(last[2], candidate))
        ):
            group = last[3]
        else:
            group = self._at(kid, how, baseline, candidate)
        steps = group.steps
        if not steps or steps[-1] != self.step:
            steps.append(self.step)
        where, rendered = (*path, key), text + kid.after
        group.paths.append(where)
        group.texts.append(rendered)
        if self.tape is not None:
            self.tape.append((group, where, rendered))

    def _at(self, shape: Shape, how: Kind, baseline: Any, candidate: Any) -> _Group:
        """The group of a difference at ``shape``: the last one's there, when alike."""
        last = shape.last
        if (
            last is not None
            and last[0] == how
            and (last[1] is baseline or _same(last[1], baseline))
            and (last[2] is candidate or _same(last[2], candidate))
        ):
            return last[3]
        group = self._group(shape.parts, how, baseline, candidate)
        shape.last = (how, baseline, candidate, group)
        return group

    def _note(self, group: _Group, path: Path, text: str) -> None:
        steps = group.steps
        if not steps or steps[-1] != self.step:  # steps come in order, each one whole
            steps.append(self.step)
        group.paths.append(path)
        group.texts.append(text)
        if self.tape is not None:
            self.tape.append((group, path, text))

    def _group(self, parts: tuple[str, ...], how: Kind, baseline: Any, candidate: Any) -> _Group:
        key = (parts, *how, canonical(baseline), canonical(candidate))
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _Group(parts, *how, baseline, candidate)
        return group

    def differences(self) -> list[Difference]:
        self.enter("")
        out: list[Difference] = []
        for level, groups in self.done:
            for g in groups:
                if len(set(g.texts)) == len(g.texts):  # each path once already
                    paths, parts = tuple(g.texts), tuple(g.paths)
                else:
                    where = dict(zip(g.paths, g.texts, strict=True))  # each path once, in order
                    paths, parts = tuple(where.values()), tuple(where)
                out.append(
                    Difference(
                        level,
                        g.kind,
                        paths[0],
                        render(g.parts),
                        g.baseline,
                        g.candidate,
                        g.missing,
                        tuple(g.steps),
                        paths,
                        g.parts,
                        parts,
                    )
                )
        order = {lv: i for i, lv in enumerate(LEVELS)}
        out.sort(key=lambda d: (order[d.level], d.step if d.step is not None else 1 << 30, d.path))
        return out


def _same(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are plainly written alike as canonical JSON (False when
    it would take writing them out to tell)."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is str or kind is int or kind is bool:
        return bool(a == b)
    return (kind is dict or kind is list) and not a and not b


def generalize_path(level: str, path: Sequence[str | int]) -> tuple[str, ...]:
    """The path with task keys (second level of tasks/attempts) and list indices as ``*``."""
    if all(map(_IS_TEXT, path)):  # no index: the most frequent case, made without a list
        if level in _TASK_LEVELS and len(path) > 1:
            return (path[0], "*", *path[2:])  # type: ignore[arg-type]
        return tuple(path)  # type: ignore[arg-type]
    parts = ["*" if isinstance(p, int) else p for p in path]
    if level in _TASK_LEVELS and len(parts) > 1:
        parts[1] = "*"
    return tuple(parts)


# json.dumps(value, sort_keys=True, default=str), with one encoder for every call (what
# json.dumps makes anew each time; no cycle check: views hold no cycles) and the JSON of
# the most frequent values written out
_ENCODE = make_encoder(None, str, encode_basestring_ascii, None, ": ", ", ", True, False, True)


def canonical(value: Any) -> str:
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    if not value and (kind is dict or kind is list):
        return "{}" if kind is dict else "[]"
    return "".join(_ENCODE(value, 0))

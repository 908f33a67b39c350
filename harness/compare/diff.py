"""Diff two views level by level; fold what repeats into one difference.

Equal subtrees are skipped with a plain ``==`` (fast, in C); objects, and lists of
objects (item by item, by index), are walked here; deepdiff matches lists of scalars. A
fact reported at one level is not repeated at the next: a task present on one side only
is a ``tasks`` difference, so ``attempts`` compares only tasks both sides have; likewise
``data`` and ``order`` only workflows both have.

Differences with the same level, generalized path (task keys written ``*``), kind and
values are one difference, listing every step and path where it occurs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from json.encoder import encode_basestring_ascii
from operator import itemgetter
from typing import Any, NamedTuple

from deepdiff import DeepDiff
from deepdiff.helper import NotPresent

from harness.compare.views import LEVELS, Step, View
from harness.normalize import render
from harness.normalize.collect import collection_paused

KINDS = ("added", "removed", "changed", "type", "status_code", "order")
_KIND = {
    "dictionary_item_added": "added",
    "iterable_item_added": "added",
    "dictionary_item_removed": "removed",
    "iterable_item_removed": "removed",
    "values_changed": "changed",
    "type_changes": "type",
}
ABSENT = "absent"
_TASK_LEVELS = ("tasks", "attempts")  # keyed by task at their second level
_STEP, _PATH = itemgetter(1), itemgetter(2)  # of a _Raw
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
    all_parts: tuple[tuple[str | int, ...], ...] = ()

    @property
    def step(self) -> Step:
        return self.steps[0] if self.steps else None

    def key(self) -> tuple[str, str]:
        return (self.level, self.shape)


class _Raw(NamedTuple):  # a tuple: made once per difference found, 100,000s of times
    level: str
    step: Step
    path: tuple[str | int, ...]
    kind: str
    baseline: Any
    candidate: Any
    missing: str


def diff_views(baseline: View, candidate: View, levels: Sequence[str] = LEVELS) -> list[Difference]:
    raws: list[_Raw] = []
    with collection_paused():
        for level in LEVELS:
            if level not in levels:
                continue
            left, right = baseline.levels[level], candidate.levels[level]
            for step in _steps(left, right):
                _level(raws, level, step, left.get(step, {}), right.get(step, {}))
        return fold(raws)


def _steps(left: Mapping[Step, Any], right: Mapping[Step, Any]) -> list[Step]:
    keys = set(left) | set(right)
    return sorted(keys, key=lambda s: (s is None, s if s is not None else 0))


def _level(
    out: list[_Raw], level: str, step: Step, left: Mapping[str, Any], right: Mapping[str, Any]
) -> None:
    """Append to ``out`` what differs at ``level`` in ``step``."""
    if level == "order":
        out.extend(_order(step, left, right))
        return
    nested = level in ("tasks", "attempts")
    for top in _keys(left, right):
        if top not in right or top not in left:
            if level in ("attempts", "data"):
                continue  # reported at the status level
            out.append(_presence(level, step, (top,), left, right))
            continue
        a, b = left[top], right[top]
        if a == b:
            continue
        if not nested or not (isinstance(a, Mapping) and isinstance(b, Mapping)):
            _walk(level, step, (top,), a, b, out=out)
            continue
        for key in _keys(a, b):
            if key not in a or key not in b:
                if level == "attempts":
                    continue  # reported at the tasks level
                out.append(_presence(level, step, (top, key), a, b))
            elif a[key] != b[key]:
                _walk(level, step, (top, key), a[key], b[key], out=out)


def _keys(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys([*a, *b]))


def _presence(
    level: str, step: Step, path: tuple[str | int, ...], a: Mapping[Any, Any], b: Mapping[Any, Any]
) -> _Raw:
    key = path[-1]
    if key in b:
        return _Raw(level, step, path, "added", None, b[key], "baseline")
    return _Raw(level, step, path, "removed", a[key], None, "candidate")


def _deep(level: str, step: Step, prefix: tuple[str | int, ...], a: Any, b: Any) -> list[_Raw]:
    """What differs between ``a`` and ``b``, found at ``prefix``."""
    out: list[_Raw] = []
    _walk(level, step, prefix, a, b, out=out)
    return out


def _walk(
    level: str, step: Step, prefix: tuple[str | int, ...], a: Any, b: Any, *, out: list[_Raw]
) -> None:
    """Objects are walked here (cheap, and most of a trace); lists by deepdiff's rules.
    What differs is appended to ``out``."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        shared = 0  # keys in the order of _keys(a, b): a's, then b's own
        for key, x in a.items():
            if key not in b:
                out.append(_Raw(level, step, (*prefix, key), "removed", x, None, "candidate"))
                continue
            shared += 1
            y = b[key]
            if x != y or type(x) is not type(y):
                _walk(level, step, (*prefix, key), x, y, out=out)
        if shared < len(b):
            for key, y in b.items():
                if key not in a:
                    out.append(_Raw(level, step, (*prefix, key), "added", None, y, "baseline"))
        return
    if not (isinstance(a, list) and isinstance(b, list)):
        leaf = "changed" if type(a) is type(b) else "type"  # deepdiff's type_changes
        out.append(_Raw(level, step, prefix, _status_code(level, prefix, leaf), a, b, ""))
        return
    out.extend(_under_list(level, step, prefix, a, b))


# Under a list, values compare as deepdiff compares them (they did go to deepdiff): every
# value with its type, even where ``==`` holds (1 and 1.0, True and 1); an object that
# shares under a third of its keys with the other is changed whole (deepdiff's
# threshold_to_diff_deeper); the items of a list of objects pair by index. Only lists of
# scalars still go to deepdiff, for its sequence matching. Same results, a fraction of the
# cost (tests/unit/test_compare.py).
_DEEPER = 0.33
_NONE = object()  # the missing side of a pair of items
_SCALARS = (str, int, float, bool, type(None))


def _under_list(
    level: str, step: Step, path: tuple[str | int, ...], x: Any, y: Any
) -> Iterator[_Raw]:
    if x is y:
        return
    if type(x) is not type(y):
        yield _Raw(level, step, path, "type", x, y, "")
    elif isinstance(x, dict):
        yield from _objects(level, step, path, x, y)
    elif isinstance(x, list):
        yield from _lists(level, step, path, x, y)
    elif x != y:
        yield _Raw(level, step, path, _status_code(level, path, "changed"), x, y, "")


def _objects(
    level: str, step: Step, path: tuple[str | int, ...], x: dict[str, Any], y: dict[str, Any]
) -> Iterator[_Raw]:
    shared = [k for k in y if k in x]
    union = len(x) + len(y) - len(shared)
    if union > 1 and len(shared) / union < _DEEPER:
        yield _Raw(level, step, path, _status_code(level, path, "changed"), x, y, "")
        return
    for key, value in y.items():
        if key not in x:
            yield _Raw(level, step, (*path, key), "added", None, value, "baseline")
    for key, value in x.items():
        if key not in y:
            yield _Raw(level, step, (*path, key), "removed", value, None, "candidate")
    for key in shared:
        yield from _under_list(level, step, (*path, key), x[key], y[key])


def _lists(
    level: str, step: Step, path: tuple[str | int, ...], x: list[Any], y: list[Any]
) -> Iterator[_Raw]:
    if _scalars(x) and _scalars(y):
        yield from _deepdiff(level, step, path, x, y)
        return
    for i, (a, b) in enumerate(zip_longest(x, y, fillvalue=_NONE)):
        if b is _NONE:
            yield _Raw(level, step, (*path, i), "removed", a, None, "candidate")
        elif a is _NONE:
            yield _Raw(level, step, (*path, i), "added", None, b, "baseline")
        elif not (a == b and _canonical(a) == _canonical(b)):
            yield from _under_list(level, step, (*path, i), a, b)


def _scalars(items: list[Any]) -> bool:
    return all(isinstance(x, _SCALARS) for x in items)


def _deepdiff(
    level: str, step: Step, prefix: tuple[str | int, ...], a: list[Any], b: list[Any]
) -> Iterator[_Raw]:
    """Lists of scalars: deepdiff's sequence matching (an item inserted is one addition,
    not a shift of every later item)."""
    tree = DeepDiff(a, b, view="tree", verbose_level=2, ignore_numeric_type_changes=False)
    for report_type, items in tree.items():
        kind = _KIND.get(report_type)
        if kind is None:
            continue
        for item in items:
            path = (*prefix, *item.path(output_format="list"))
            left = None if isinstance(item.t1, NotPresent) else item.t1
            right = None if isinstance(item.t2, NotPresent) else item.t2
            missing = (
                "baseline"
                if isinstance(item.t1, NotPresent)
                else ("candidate" if isinstance(item.t2, NotPresent) else "")
            )
            yield _Raw(level, step, path, _status_code(level, path, kind), left, right, missing)


def _status_code(level: str, path: tuple[str | int, ...], kind: str) -> str:
    """A changed ``status`` of an API answer is its own kind."""
    if level == "api" and kind == "changed" and path and path[-1] == "status":
        return "status_code"
    return kind


def _order(step: Step, left: Mapping[str, Any], right: Mapping[str, Any]) -> Iterator[_Raw]:
    for workflow in _keys(left, right):
        a, b = left.get(workflow), right.get(workflow)
        if not isinstance(a, list) or not isinstance(b, list) or a == b:
            continue
        common_a = [x for x in a if x in b]
        common_b = [x for x in b if x in a]
        if common_a != common_b:
            yield _Raw("order", step, (workflow,), "order", a, b, "")


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
# json.dumps makes anew each time) and the JSON of the most frequent values written out
_ENCODE = json.JSONEncoder(sort_keys=True, default=str).encode


def _canonical(value: Any) -> str:
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
    return _ENCODE(value)


def fold(raws: Iterable[_Raw]) -> list[Difference]:
    groups: dict[tuple[str, tuple[str, ...], str, str, str, str], list[_Raw]] = {}
    for raw in raws:
        level, _, path, kind, baseline, candidate, missing = raw
        key = (
            level,
            generalize_path(level, path),
            kind,
            missing,
            _canonical(baseline),
            _canonical(candidate),
        )
        members = groups.get(key)
        if members is None:
            groups[key] = [raw]
        else:
            members.append(raw)
    out: list[Difference] = []
    for (level, shape, kind, missing, _, _), members in groups.items():
        first = members[0]
        steps = tuple(dict.fromkeys(map(_STEP, members)))
        every = tuple(dict.fromkeys(map(_PATH, members)))
        paths = tuple(map(render, every))
        out.append(
            Difference(
                level,
                kind,
                paths[0],
                render(shape),
                first.baseline,
                first.candidate,
                missing,
                steps,
                paths,
                shape,
                every,
            )
        )
    order = {lv: i for i, lv in enumerate(LEVELS)}
    out.sort(key=lambda d: (order[d.level], d.step if d.step is not None else 1 << 30, d.path))
    return out

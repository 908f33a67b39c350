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

from collections.abc import Mapping, Sequence
from itertools import zip_longest
from typing import Any

from deepdiff import DeepDiff
from deepdiff.helper import NotPresent

from harness.compare.fold import (
    ADDED,
    REMOVED,
    At,
    Difference,
    Fold,
    Path,
    canonical,
    generalize_path,
)
from harness.compare.pairs import Walked
from harness.compare.views import LEVELS, Step, View
from harness.normalize.collect import collection_paused
from harness.normalize.paths import extend

__all__ = ["KINDS", "Difference", "diff_views", "generalize_path"]

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


def diff_views(baseline: View, candidate: View, levels: Sequence[str] = LEVELS) -> list[Difference]:
    fold = Walked()
    with collection_paused():
        for level in LEVELS:
            if level not in levels:
                continue
            fold.enter(level)
            left, right = baseline.levels[level], candidate.levels[level]
            for step in _steps(left, right):
                fold.step = step
                _level(fold, level, left.get(step, {}), right.get(step, {}))
        return fold.differences()


def _steps(left: Mapping[Step, Any], right: Mapping[Step, Any]) -> list[Step]:
    keys = set(left) | set(right)
    return sorted(keys, key=lambda s: (s is None, s if s is not None else 0))


def _level(fold: Fold, level: str, left: Mapping[str, Any], right: Mapping[str, Any]) -> None:
    """Fold into ``fold`` what differs at ``level`` in its step."""
    if level == "order":
        _order(fold, left, right)
        return
    nested = level in _TASK_LEVELS
    for top in _keys(left, right):
        if top not in right or top not in left:
            if level in ("attempts", "data"):
                continue  # reported at the status level
            _presence(fold, (top,), left, right)
            continue
        a, b = left[top], right[top]
        if a == b:
            continue
        if type(top) is not str or (
            nested and not (isinstance(a, Mapping) and isinstance(b, Mapping))
        ):
            _walk(fold, ((top,), None, None), a, b)
            continue
        if not nested:
            _walk(fold, ((top,), fold.root((top,)), extend("", top)), a, b)
            continue
        shape, text = fold.root((top, "*")), extend("", top)
        for key in _keys(a, b):
            if key not in a or key not in b:
                if level == "attempts":
                    continue  # reported at the tasks level
                _presence(fold, (top, key), a, b)
            elif a[key] != b[key]:
                _walk(fold, ((top, key), shape, extend(text, key)), a[key], b[key])


def _keys(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys([*a, *b]))


def _presence(fold: Fold, path: Path, a: Mapping[Any, Any], b: Mapping[Any, Any]) -> None:
    key = path[-1]
    if key in b:
        fold.add((path, None, None), "added", None, b[key], "baseline")
    else:
        fold.add((path, None, None), "removed", a[key], None, "candidate")


def _deep(prefix: Path, a: Any, b: Any, level: str = "data") -> list[Any]:
    """What differs between ``a`` and ``b``, found at ``prefix``: each path with its kind
    and values (as canonical JSON)."""
    fold = Fold()
    fold.enter(level)
    _walk(fold, (prefix, None, None), a, b)
    return [
        (g.kind, path, g.missing, canonical(g.baseline), canonical(g.candidate))
        for g in fold.groups.values()
        for path in g.paths
    ]


def _walk(fold: Fold, at: At, a: Any, b: Any) -> None:
    """Objects are walked here (cheap, and most of a trace); lists by deepdiff's rules. A
    pair of objects met again at the same place is not walked again (pairs.py)."""
    if (type(a) is dict and type(b) is dict) or (isinstance(a, Mapping) and isinstance(b, Mapping)):
        shape = at[1]
        if type(fold) is Walked and shape is not None and at[2] is not None and fold.wanted(shape):
            if fold.replay(at, a, b):
                return
            outer = fold.start()
            _pair(fold, at, a, b)
            fold.keep(at, a, b, outer)
            return
        _pair(fold, at, a, b)
        return
    path = at[0]
    if not (isinstance(a, list) and isinstance(b, list)):
        leaf = "changed" if type(a) is type(b) else "type"  # deepdiff's type_changes
        fold.add(at, _status_code(fold, path, leaf), a, b, "")
        return
    _under_list(fold, path, a, b)


def _pair(fold: Fold, at: At, a: Mapping[str, Any], b: Mapping[str, Any]) -> None:
    """What differs between two objects: keys removed, added, and values walked."""
    add = fold.add_key
    shared = 0  # keys in the order of _keys(a, b): a's, then b's own
    for key, x in a.items():
        if key not in b:
            add(at, key, REMOVED, x, None)
            continue
        shared += 1
        y = b[key]
        if x != y or type(x) is not type(y):
            _walk(fold, _child(at, key), x, y)
    if shared < len(b):
        for key in [k for k in b if k not in a]:
            add(at, key, ADDED, None, b[key])


def _child(at: At, key: Any) -> At:
    """Where ``key`` is, under ``at``."""
    path, shape, text = at
    if shape is None or text is None or type(key) is not str:
        return (*path, key), None, None
    kid = shape.kids.get(key) or shape.kid(key)
    return (*path, key), kid, text + kid.after


# Under a list, values compare as deepdiff compares them (they did go to deepdiff): every
# value with its type, even where ``==`` holds (1 and 1.0, True and 1); an object that
# shares under a third of its keys with the other is changed whole (deepdiff's
# threshold_to_diff_deeper); the items of a list of objects pair by index. Only lists of
# scalars still go to deepdiff, for its sequence matching. Same results, a fraction of the
# cost (tests/unit/test_compare.py).
_DEEPER = 0.33
_NONE = object()  # the missing side of a pair of items
_SCALARS = (str, int, float, bool, type(None))


def _under_list(fold: Fold, path: Path, x: Any, y: Any) -> None:
    if x is y:
        return
    if type(x) is not type(y):
        fold.add((path, None, None), "type", x, y, "")
    elif isinstance(x, dict):
        _objects(fold, path, x, y)
    elif isinstance(x, list):
        _lists(fold, path, x, y)
    elif x != y:
        fold.add((path, None, None), _status_code(fold, path, "changed"), x, y, "")


def _objects(fold: Fold, path: Path, x: dict[str, Any], y: dict[str, Any]) -> None:
    shared = [k for k in y if k in x]
    union = len(x) + len(y) - len(shared)
    if union > 1 and len(shared) / union < _DEEPER:
        fold.add((path, None, None), _status_code(fold, path, "changed"), x, y, "")
        return
    for key, value in y.items():
        if key not in x:
            fold.add(((*path, key), None, None), "added", None, value, "baseline")
    for key, value in x.items():
        if key not in y:
            fold.add(((*path, key), None, None), "removed", value, None, "candidate")
    for key in shared:
        _under_list(fold, (*path, key), x[key], y[key])


def _lists(fold: Fold, path: Path, x: list[Any], y: list[Any]) -> None:
    if _scalars(x) and _scalars(y):
        _deepdiff(fold, path, x, y)
        return
    for i, (a, b) in enumerate(zip_longest(x, y, fillvalue=_NONE)):
        if b is _NONE:
            fold.add(((*path, i), None, None), "removed", a, None, "candidate")
        elif a is _NONE:
            fold.add(((*path, i), None, None), "added", None, b, "baseline")
        elif not (a == b and canonical(a) == canonical(b)):
            _under_list(fold, (*path, i), a, b)


def _scalars(items: list[Any]) -> bool:
    return all(isinstance(x, _SCALARS) for x in items)


def _deepdiff(fold: Fold, prefix: Path, a: list[Any], b: list[Any]) -> None:
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
            fold.add((path, None, None), _status_code(fold, path, kind), left, right, missing)


def _status_code(fold: Fold, path: Path, kind: str) -> str:
    """A changed ``status`` of an API answer is its own kind."""
    if fold.level == "api" and kind == "changed" and path and path[-1] == "status":
        return "status_code"
    return kind


def _order(fold: Fold, left: Mapping[str, Any], right: Mapping[str, Any]) -> None:
    for workflow in _keys(left, right):
        a, b = left.get(workflow), right.get(workflow)
        if not isinstance(a, list) or not isinstance(b, list) or a == b:
            continue
        common_a = [x for x in a if x in b]
        common_b = [x for x in b if x in a]
        if common_a != common_b:
            fold.add(((workflow,), None, None), "order", a, b, "")

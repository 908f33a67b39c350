"""The catalog of changes: what the project knows of how the server changed.

Each change says which versions have it (one version line: Netflix up to 3.15.0, then
conductor-oss from 3.16), on which stores, how bad it is, who it affects, what to do and
which upstream change made it; its matchers say precisely which differences it causes.
A change is *reached* by a comparison when one side has it and the other does not; seen
from the side without it (an upgrade) its matchers apply as written, seen the other way
(a rollback, an older candidate) with the two values swapped and added/removed turned
round. Knowledge does not expire and is never scoped to scenario names.

>>> catalog = load_catalog()
>>> catalog.explaining(difference, reach, definitions)   # the changes that explain it
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from harness.classify.severity import path_matches
from harness.compare import Difference
from harness.documents import DocumentError, Problem, load_document
from harness.normalize import Pattern

SHIPPED = "changes.yaml"
FORWARD, BACKWARD = "forward", "backward"
_TURNED = {"added": "removed", "removed": "added"}
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}
_ABSENT = object()


def shipped_catalog_path() -> Path:
    return Path(str(resources.files("harness").joinpath("classify", SHIPPED)))


@dataclass(frozen=True, slots=True)
class Predicate:
    """A test on one value; ``_ABSENT`` stands for "no value on that side"."""

    spec: Mapping[str, Any]

    def holds(self, value: Any) -> bool:
        spec = self.spec
        absent = value is _ABSENT
        if "absent" in spec and spec["absent"] != absent:
            return False
        if absent:
            return set(spec) <= {"absent"}
        if "equals" in spec and not _same(value, spec["equals"]):
            return False
        if "one_of" in spec and not any(_same(value, v) for v in spec["one_of"]):
            return False
        if "type" in spec:
            kinds = _TYPES[spec["type"]]
            if not isinstance(value, kinds) or (
                isinstance(value, bool) and spec["type"] in ("number", "integer")
            ):
                return False
        if "empty" in spec and spec["empty"] != (value in ([], {}, "")):
            return False
        if "matches" in spec:
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            if not re.search(spec["matches"], text):
                return False
        return True


def _same(value: Any, wanted: Any) -> bool:
    if isinstance(value, bool) or isinstance(wanted, bool):
        return value is wanted
    return bool(value == wanted)


@dataclass(frozen=True, slots=True)
class Condition:
    """Holds when some value at ``path`` in the definitions passes ``test`` (with ``absent``:
    when no value is there)."""

    path: Pattern
    test: Predicate

    def holds(self, definitions: Any) -> bool:
        memo = _memo(definitions)
        if id(self) not in memo:
            found = [v for p, v in _nodes(definitions) if self.path.matches(p)]
            if self.test.spec.get("absent"):
                memo[id(self)] = not found
            else:
                memo[id(self)] = any(self.test.holds(v) for v in found)
        return memo[id(self)]


Nodes = list[tuple[tuple[str | int, ...], Any]]
# The last definitions document seen: its nodes and the conditions decided on it (one
# scenario's differences are explained one after the other).
_LAST: list[tuple[Any, Nodes, dict[int, bool]]] = []


def _nodes(definitions: Any) -> Nodes:
    """Every (path, value) of a definitions document."""
    return _remember(definitions)[1]


def _memo(definitions: Any) -> dict[int, bool]:
    return _remember(definitions)[2]


def _remember(definitions: Any) -> tuple[Any, Nodes, dict[int, bool]]:
    if not _LAST or _LAST[0][0] is not definitions:
        _LAST[:] = [(definitions, list(_walk(definitions, ())), {})]
    return _LAST[0]


def _walk(node: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


@dataclass(frozen=True, slots=True)
class Matcher:
    level: str
    kind: str
    path: Pattern
    old: Predicate | None = None
    new: Predicate | None = None
    uses: tuple[Condition, ...] = ()

    def kind_seen(self, direction: str) -> str:
        """The difference's kind when seen in ``direction``."""
        return self.kind if direction == FORWARD else _TURNED.get(self.kind, self.kind)

    def explains(self, difference: Difference, direction: str, definitions: Any) -> bool:
        if difference.level != self.level or difference.kind != self.kind_seen(direction):
            return False
        if not path_matches(self.path, difference):
            return False
        base, cand = _values(difference)
        old, new = (base, cand) if direction == FORWARD else (cand, base)
        if self.old is not None and not self.old.holds(old):
            return False
        if self.new is not None and not self.new.holds(new):
            return False
        return all(c.holds(definitions) for c in self.uses)


def _values(difference: Difference) -> tuple[Any, Any]:
    base = _ABSENT if difference.missing == "baseline" else difference.baseline
    cand = _ABSENT if difference.missing == "candidate" else difference.candidate
    return base, cand


@dataclass(frozen=True, slots=True)
class Change:
    id: str
    title: str
    what: str
    versions: str
    severity: str
    affects: tuple[str, ...]
    action: str
    link: str
    matchers: tuple[Matcher, ...]
    backends: tuple[str, ...] = ()
    uses: tuple[Condition, ...] = ()
    unrecorded: str = ""
    source: str = ""

    def present(self, target: Mapping[str, Any]) -> bool | None:
        """Whether ``target`` has this change; None when its version is unknown."""
        try:
            version = Version(str(target.get("version")))
        except InvalidVersion:
            return None
        if version not in SpecifierSet(self.versions):
            return False
        backend = target.get("backend")
        return not self.backends or backend is None or backend in self.backends

    def reach(self, baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> str | None:
        """FORWARD when only the candidate has the change, BACKWARD when only the baseline
        has it, None when both or neither do (or a version is unknown)."""
        had, has = self.present(baseline), self.present(candidate)
        if had is None or has is None or had == has:
            return None
        return FORWARD if has else BACKWARD

    def explains(self, difference: Difference, direction: str, definitions: Any) -> bool:
        key = (difference.level, difference.kind)
        matchers = [m for m in self.matchers if (m.level, m.kind_seen(direction)) == key]
        if not matchers or not all(c.holds(definitions) for c in self.uses):
            return False
        return any(m.explains(difference, direction, definitions) for m in matchers)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "what": self.what,
            "versions": self.versions,
            "backends": list(self.backends),
            "severity": self.severity,
            "affects": list(self.affects),
            "action": self.action,
            "link": self.link,
        }


@dataclass(frozen=True, slots=True)
class Catalog:
    files: tuple[str, ...]
    changes: tuple[Change, ...]

    def reached(
        self, baseline: Mapping[str, Any], candidate: Mapping[str, Any]
    ) -> list[tuple[Change, str]]:
        """The changes between two targets, each with its direction."""
        out = []
        for change in self.changes:
            direction = change.reach(baseline, candidate)
            if direction is not None:
                out.append((change, direction))
        return out

    def by_id(self) -> dict[str, Change]:
        return {c.id: c for c in self.changes}


EMPTY = Catalog((), ())


def is_catch_all(pattern: Pattern) -> bool:
    """A pattern that names no key: it would match any difference at its level."""
    return all(part in ("*", "**") for part in pattern.parts)


def load_catalog(extra: Sequence[Path] = (), *, shipped: bool = True) -> Catalog:
    """The shipped catalog (unless ``shipped`` is false) and the user's own files; ids are
    unique across all of them."""
    files = [*([shipped_catalog_path()] if shipped else []), *extra]
    changes: list[Change] = []
    seen: dict[str, str] = {}
    for path in files:
        source = load_document(path, "catalog", "catalog of changes")
        problems: list[Problem] = []
        for index, raw in enumerate(source.data["changes"]):
            where = ("changes", index)
            if raw["id"] in seen:
                problems.append(
                    source.problem(
                        (*where, "id"), f"change id '{raw['id']}' is already in {seen[raw['id']]}"
                    )
                )
            seen[raw["id"]] = path.name
            try:
                SpecifierSet(raw["versions"])
            except InvalidSpecifier:
                problems.append(
                    source.problem(
                        (*where, "versions"),
                        f"'{raw['versions']}' is not a version specifier (try '>=3.16')",
                    )
                )
                continue
            for m, matcher in enumerate(raw["match"]):
                if is_catch_all(Pattern.parse(matcher["path"])):
                    problems.append(
                        source.problem(
                            (*where, "match", m, "path"),
                            f"'{matcher['path']}' names no key: it would explain any "
                            "difference at its level; name the field that changed",
                        )
                    )
                for key in ("old", "new"):
                    pattern = (matcher.get(key) or {}).get("matches")
                    if pattern is not None and not _compiles(pattern):
                        problems.append(
                            source.problem(
                                (*where, "match", m, key, "matches"), "not a regular expression"
                            )
                        )
            changes.append(_change(raw, path.name))
        if problems:
            raise DocumentError("catalog of changes", problems)
    return Catalog(tuple(str(f) for f in files), tuple(changes))


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _predicate(raw: Mapping[str, Any] | None) -> Predicate | None:
    return Predicate(dict(raw)) if raw is not None else None


def _conditions(raw: Sequence[Mapping[str, Any]] | None) -> tuple[Condition, ...]:
    return tuple(
        Condition(Pattern.parse(c["path"]), Predicate({k: v for k, v in c.items() if k != "path"}))
        for c in raw or ()
    )


def _change(raw: Mapping[str, Any], source: str) -> Change:
    return Change(
        id=raw["id"],
        title=" ".join(raw["title"].split()),
        what=" ".join(raw["what"].split()),
        versions=raw["versions"],
        severity=raw["severity"],
        affects=tuple(raw["affects"]),
        action=" ".join(raw["action"].split()),
        link=raw["link"],
        backends=tuple(raw.get("backends") or ()),
        uses=_conditions(raw.get("uses")),
        unrecorded=" ".join(str(raw.get("unrecorded") or "").split()),
        source=source,
        matchers=tuple(
            Matcher(
                level=m["level"],
                kind=m["kind"],
                path=Pattern.parse(m["path"]),
                old=_predicate(m.get("old")),
                new=_predicate(m.get("new")),
                uses=_conditions(m.get("uses")),
            )
            for m in raw["match"]
        ),
    )

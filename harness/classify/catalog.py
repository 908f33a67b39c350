"""The catalog of changes: what the project knows of how the server changed.

Each change says which versions have it (one version line: Netflix up to 3.15.0, then
conductor-oss from 3.16), on which stores, how bad it is, who it affects, what to do and
which upstream change made it; its matchers say precisely which differences it causes.
A change is *reached* by a comparison when one side has it and the other does not; seen
from the side without it (an upgrade) its matchers apply as written, seen the other way
(a rollback, an older candidate) with the two values swapped and added/removed turned
round. A change that shows only across a rollback (``across``) is reached only by a run
carried across one, from a version that has it to one that does not, compared with a run
played wholly: the matchers' old side is the run played wholly, the new side the run
carried across. Knowledge does not expire and is never scoped to scenario names.

>>> catalog = load_catalog()
>>> change.explains(difference, direction, scene)   # does it explain this difference?
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from harness.classify.predicates import ABSENT, Clause, Condition, Predicate, Scene, predicate
from harness.classify.severity import path_matches
from harness.compare import Difference
from harness.documents import DocumentError, Problem, load_document
from harness.normalize import Pattern

SHIPPED = "changes.yaml"
FORWARD, BACKWARD = "forward", "backward"
ROLLBACK = "rollback"
_TURNED = {"added": "removed", "removed": "added"}


def shipped_catalog_path() -> Path:
    return Path(str(resources.files("harness").joinpath("classify", SHIPPED)))


@dataclass(frozen=True, slots=True)
class Matcher:
    level: str
    kind: str
    path: Pattern
    old: Predicate | None = None
    new: Predicate | None = None
    uses: tuple[Condition, ...] = ()
    where: tuple[Clause, ...] = ()
    after: bool = False  # an effect: see Change.explains
    # the two values are the same text once this pattern is taken out of each: the change
    # is only that part of it (a prefix dropped, say)
    same_without: re.Pattern[str] | None = None

    def kind_seen(self, direction: str) -> str:
        """The difference's kind when seen in ``direction``."""
        return self.kind if direction == FORWARD else _TURNED.get(self.kind, self.kind)

    def explains(self, difference: Difference, direction: str, scene: Scene) -> bool:
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
        if self.same_without is not None and not _same_without(self.same_without, old, new):
            return False
        forward = direction == FORWARD
        if not all(c.holds(scene) for c in self.uses):
            return False
        if not self.where:
            return True
        # every clause in one and the same place (a task, a workflow, an exchange)
        return any(
            path_matches(self.path, p) and all(w.holds(p, forward, scene) for w in self.where)
            for p in difference.places()
        )


def _same_without(pattern: re.Pattern[str], old: Any, new: Any) -> bool:
    if not isinstance(old, str) or not isinstance(new, str):
        return False
    return pattern.sub("", old) == pattern.sub("", new)


def _values(difference: Difference) -> tuple[Any, Any]:
    base = ABSENT if difference.missing == "baseline" else difference.baseline
    cand = ABSENT if difference.missing == "candidate" else difference.candidate
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
    settings: tuple[tuple[str, str], ...] = ()  # server properties the side with it runs with
    uses: tuple[Condition, ...] = ()
    unrecorded: str = ""
    intermittent: bool = False  # shows in some runs of a version that has it, not in all
    source: str = ""
    introduced: Mapping[str, str] | None = None  # measured by bisect: first, after, measured, by
    across: str = ""  # "rollback": shows only in runs carried from a version with it to one without

    def present(self, target: Mapping[str, Any]) -> bool | None:
        """Whether ``target`` has this change; None when its version is unknown."""
        try:
            version = Version(str(target.get("version")))
        except InvalidVersion:
            return None
        if version not in SpecifierSet(self.versions):
            return False
        backend = target.get("backend")
        if self.backends and backend is not None and backend not in self.backends:
            return False
        return self._configured(target.get("settings"))

    def _configured(self, settings: Any) -> bool | None:
        """Whether a server configured with ``settings`` (a trace's record of its server
        properties) runs as this change needs; None when that is not recorded."""
        if not self.settings:
            return True
        if not isinstance(settings, Mapping):
            return None
        return all(
            str(settings.get(key, "")).strip().lower() == value.lower()
            for key, value in self.settings
        )

    def crossed(self, target: Mapping[str, Any]) -> bool | None:
        """Whether ``target`` is a run carried across a rollback from a version that has
        this change to one that does not; None when a version is unknown."""
        origin = target.get("upgrade_from")
        if not isinstance(origin, Mapping):
            return False
        had, has = self.present(origin), self.present(target)
        if had is None or has is None:
            return None
        return had and not has

    def reach(self, baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> str | None:
        """FORWARD when only the candidate has the change, BACKWARD when only the baseline
        has it, None when both or neither do (or a version is unknown). A change that shows
        only across a rollback: FORWARD when only the candidate was carried across one."""
        test = self.crossed if self.across else self.present
        had, has = test(baseline), test(candidate)
        if had is None or has is None or had == has:
            return None
        return FORWARD if has else BACKWARD

    def explains(
        self, difference: Difference, direction: str, scene: Scene, *, effects: bool = False
    ) -> bool:
        """Whether a cause of this change (with ``effects``: one of its effects, which hold
        only after a cause in the same scenario) explains ``difference``."""
        key = (difference.level, difference.kind)
        matchers = [
            m
            for m in self.matchers
            if m.after == effects and (m.level, m.kind_seen(direction)) == key
        ]
        if not matchers or not all(c.holds(scene) for c in self.uses):
            return False
        return any(m.explains(difference, direction, scene) for m in matchers)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "what": self.what,
            "versions": self.versions,
            "backends": list(self.backends),
            **({"settings": dict(self.settings)} if self.settings else {}),
            "severity": self.severity,
            "affects": list(self.affects),
            "action": self.action,
            "link": self.link,
            **({"introduced": dict(self.introduced)} if self.introduced else {}),
            **({"across": self.across} if self.across else {}),
        }


@dataclass(frozen=True, slots=True)
class Catalog:
    files: tuple[str, ...]
    changes: tuple[Change, ...]

    def varying(self, baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[Change]:
        """The intermittent changes that both targets have: what they explain, either way,
        varies between runs of either version."""
        return [
            c
            for c in self.changes
            if c.intermittent and not c.across and c.present(baseline) and c.present(candidate)
        ]

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
            if all(matcher.get("after") for matcher in raw["match"]):
                problems.append(
                    source.problem(
                        (*where, "match"),
                        "every matcher is an effect ('after'): a change needs one that matches "
                        "its cause",
                    )
                )
            for m, matcher in enumerate(raw["match"]):
                if is_catch_all(Pattern.parse(matcher["path"])):
                    problems.append(
                        source.problem(
                            (*where, "match", m, "path"),
                            f"'{matcher['path']}' names no key: it would explain any "
                            "difference at its level; name the field that changed",
                        )
                    )
                tests: list[tuple[tuple[str | int, ...], Any]] = [
                    ((k,), matcher.get(k) or {}) for k in ("old", "new")
                ]
                tests += [(("where", i), c) for i, c in enumerate(matcher.get("where") or ())]
                patterns = [((*at, "matches"), t.get("matches")) for at, t in tests]
                patterns.append((("same_without",), matcher.get("same_without")))
                for at, pattern in patterns:
                    if pattern is not None and not _compiles(pattern):
                        problems.append(
                            source.problem((*where, "match", m, *at), "not a regular expression")
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
        Condition(Pattern.parse(c["path"]), predicate(c, without=("path",))) for c in raw or ()
    )


def _clauses(raw: Sequence[Mapping[str, Any]] | None) -> tuple[Clause, ...]:
    return tuple(
        Clause(
            c["side"],
            Pattern.parse(c["path"]),
            predicate(c, without=("side", "path", "none", "of")),
            none=bool(c.get("none", False)),
            of=str(c.get("of", "")),
        )
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
        settings=tuple((str(k), str(v)) for k, v in (raw.get("settings") or {}).items()),
        uses=_conditions(raw.get("uses")),
        unrecorded=" ".join(str(raw.get("unrecorded") or "").split()),
        intermittent=bool(raw.get("intermittent", False)),
        source=source,
        introduced=dict(raw["introduced"]) if raw.get("introduced") else None,
        across=str(raw.get("across") or ""),
        matchers=tuple(
            Matcher(
                level=m["level"],
                kind=m["kind"],
                path=Pattern.parse(m["path"]),
                old=_predicate(m.get("old")),
                new=_predicate(m.get("new")),
                uses=_conditions(m.get("uses")),
                where=_clauses(m.get("where")),
                after=bool(m.get("after", False)),
                same_without=re.compile(m["same_without"]) if "same_without" in m else None,
            )
            for m in raw["match"]
        ),
    )

"""Known differences: an allowlist file of accepted differences, each with an owner and an expiry.

Entries match by fingerprint or by path pattern, narrowed by level, kind, scenario
patterns and the versions of the baseline and candidate targets. A match is reported
as *known* (shown, never hidden). An entry past its expiry date matches nothing and
fails the run; an entry in scope that matched nothing is reported *stale*.
"""

from __future__ import annotations

import datetime
import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from harness.classify.severity import path_matches
from harness.compare import Difference
from harness.documents import DocumentError, Problem, load_document
from harness.normalize import Pattern

KNOWN_DIFFERENCES = "known-differences.yaml"


def known_differences_path() -> Path:
    """The shipped allowlist: differences between Netflix 3.15.0 and conductor-oss that were
    triaged as real, intended changes (each with its reason and the change that made it)."""
    return Path(__file__).with_name(KNOWN_DIFFERENCES)


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    reason: str
    link: str
    owner: str
    expires: datetime.date
    fingerprint: str | None = None
    path: Pattern | None = None
    level: str | None = None
    kind: str | None = None
    scenarios: tuple[str, ...] = ()
    candidate: Mapping[str, str] = field(default_factory=dict)
    baseline: Mapping[str, str] = field(default_factory=dict)

    def expired(self, today: datetime.date) -> bool:
        return self.expires < today

    def in_scope(self, baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> bool:
        return _versions_match(self.baseline, baseline) and _versions_match(
            self.candidate, candidate
        )

    def matches(self, scenario: str, fingerprint: str, difference: Difference) -> bool:
        if self.scenarios and not any(fnmatch.fnmatchcase(scenario, p) for p in self.scenarios):
            return False
        if self.level is not None and self.level != difference.level:
            return False
        if self.kind is not None and self.kind != difference.kind:
            return False
        if self.fingerprint is not None and self.fingerprint != fingerprint:
            return False
        return self.path is None or path_matches(self.path, difference)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reason": self.reason,
            "link": self.link,
            "owner": self.owner,
            "expires": self.expires.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Allowlist:
    file: str
    entries: tuple[Entry, ...]


def _versions_match(wanted: Mapping[str, str], target: Mapping[str, Any]) -> bool:
    if not wanted:
        return True
    spec = wanted.get(str(target.get("flavor")))
    if spec is None:
        return False
    if spec.strip() == "*":
        return True
    try:
        return Version(str(target.get("version"))) in SpecifierSet(spec)
    except InvalidVersion:
        return False


def load_allowlist(path: Path) -> Allowlist:
    source = load_document(path, "allowlist", "allowlist")
    entries: list[Entry] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, raw in enumerate(source.data["entries"]):
        where = ("entries", index)
        if raw["id"] in seen:
            problems.append(source.problem((*where, "id"), f"duplicate entry id '{raw['id']}'"))
        seen.add(raw["id"])
        for side in ("candidate", "baseline"):
            for flavor, spec in (raw.get(side) or {}).items():
                if spec.strip() == "*":
                    continue
                try:
                    SpecifierSet(spec)
                except InvalidSpecifier:
                    problems.append(
                        source.problem(
                            (*where, side, flavor),
                            f"'{spec}' is not a version specifier (try '>=3.16' or '*')",
                        )
                    )
        try:
            expires = datetime.date.fromisoformat(raw["expires"])
        except ValueError:
            problems.append(source.problem((*where, "expires"), "expected a date YYYY-MM-DD"))
            continue
        entries.append(
            Entry(
                id=raw["id"],
                reason=" ".join(raw["reason"].split()),
                link=raw["link"],
                owner=raw["owner"],
                expires=expires,
                fingerprint=raw.get("fingerprint"),
                path=Pattern.parse(raw["path"]) if "path" in raw else None,
                level=raw.get("level"),
                kind=raw.get("kind"),
                scenarios=tuple(raw.get("scenarios") or ()),
                candidate=dict(raw.get("candidate") or {}),
                baseline=dict(raw.get("baseline") or {}),
            )
        )
    if problems:
        raise DocumentError("allowlist", problems)
    return Allowlist(str(path), tuple(entries))

"""Acceptances: a team's file saying which changes (or single differences) it has handled.

Each acceptance names a change id or a fingerprint, an owner, a reason and an expiry date.
Only acceptances expire: past its date an acceptance accepts nothing, and the report says
so, so the change asks for action again.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.documents import DocumentError, Problem, load_document


@dataclass(frozen=True, slots=True)
class Acceptance:
    owner: str
    reason: str
    expires: datetime.date
    change: str | None = None
    fingerprint: str | None = None

    def expired(self, today: datetime.date) -> bool:
        return self.expires < today

    @property
    def key(self) -> str:
        return f"change:{self.change}" if self.change else f"fingerprint:{self.fingerprint}"

    def describe(self) -> dict[str, Any]:
        return {
            "change": self.change,
            "fingerprint": self.fingerprint,
            "owner": self.owner,
            "reason": self.reason,
            "expires": self.expires.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Acceptances:
    file: str
    entries: tuple[Acceptance, ...]

    def find(self, change: str | None, fingerprint: str, today: datetime.date) -> Acceptance | None:
        """The valid acceptance of this fingerprint, else of this change."""
        for entry in self.entries:
            if entry.fingerprint == fingerprint and not entry.expired(today):
                return entry
        for entry in self.entries:
            if change is not None and entry.change == change and not entry.expired(today):
                return entry
        return None


def load_acceptances(path: Path, known_changes: set[str] | None = None) -> Acceptances:
    source = load_document(path, "accept", "acceptances")
    entries: list[Acceptance] = []
    problems: list[Problem] = []
    for index, raw in enumerate(source.data["accepted"]):
        where = ("accepted", index)
        try:
            expires = datetime.date.fromisoformat(raw["expires"])
        except ValueError:
            problems.append(source.problem((*where, "expires"), "expected a date YYYY-MM-DD"))
            continue
        change = raw.get("change")
        if known_changes is not None and change is not None and change not in known_changes:
            problems.append(
                source.problem((*where, "change"), f"no change '{change}' in the catalog")
            )
        entries.append(
            Acceptance(
                owner=raw["owner"],
                reason=" ".join(raw["reason"].split()),
                expires=expires,
                change=change,
                fingerprint=raw.get("fingerprint"),
            )
        )
    if problems:
        raise DocumentError("acceptances", problems)
    return Acceptances(str(path), tuple(entries))

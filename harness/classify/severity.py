"""Severity rules (data: ``default.severity.yaml``) and fingerprints.

A fingerprint names a difference by what it is, not by when it was seen: the scenario,
the level, the generalized path and the kind. Symbols are canonical and values are left
out, so the same change on another machine, another run or a later version has the same
fingerprint, and a decision about it (an allowlist entry) carries over.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from harness.compare import Difference
from harness.documents import load_document
from harness.normalize import Pattern

SEVERITIES = ("breaking", "behavioral", "additive", "cosmetic")
DEFAULT_RULES = "default.severity.yaml"


def fingerprint(scenario: str, difference: Difference) -> str:
    text = "\0".join((scenario, difference.level, difference.shape, difference.kind))
    if difference.part:
        text += "\0" + difference.part
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def path_matches(pattern: Pattern, difference: Difference) -> bool:
    """A pattern matches the generalized path or any place the difference occurs, with or
    without the level in front (``attempts.wf1.*.outputData`` or ``wf1.*.outputData``)."""
    for parts in (difference.shape_parts, *difference.all_parts):
        if not pattern.may_match(parts[-1] if parts else difference.level):
            continue
        if pattern.matches(parts) or pattern.matches((difference.level, *parts)):
            return True
    return False


@dataclass(frozen=True, slots=True)
class SeverityRule:
    name: str
    severity: str
    why: str
    level: str | None = None
    kind: str | None = None
    path: Pattern | None = None
    scenario: str | None = None
    source: str = ""

    def matches(self, scenario: str, difference: Difference) -> bool:
        return (
            (self.level is None or self.level == difference.level)
            and (self.kind is None or self.kind == difference.kind)
            and (self.scenario is None or fnmatch.fnmatchcase(scenario, self.scenario))
            and (self.path is None or path_matches(self.path, difference))
        )

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "severity": self.severity,
            "why": self.why,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class SeverityRules:
    rules: tuple[SeverityRule, ...]
    files: tuple[str, ...]

    def classify(self, scenario: str, difference: Difference) -> SeverityRule:
        for rule in self.rules:
            if rule.matches(scenario, difference):
                return rule
        return FALLBACK


FALLBACK = SeverityRule("fallback", "behavioral", "No rule matched.")


def default_rules_path() -> Path:
    return Path(str(resources.files("harness").joinpath("classify", DEFAULT_RULES)))


def load_severity_rules(extra: Sequence[Path] = ()) -> SeverityRules:
    """The user's files first (their rules win), then the shipped rules."""
    rules: list[SeverityRule] = []
    files = [*extra, default_rules_path()]
    for path in files:
        data = load_document(path, "severity", "severity rules").data
        for raw in data["rules"]:
            rules.append(
                SeverityRule(
                    name=raw["name"],
                    severity=raw["severity"],
                    why=" ".join(str(raw["why"]).split()),
                    level=raw.get("level"),
                    kind=raw.get("kind"),
                    path=Pattern.parse(raw["path"]) if "path" in raw else None,
                    scenario=raw.get("scenario"),
                    source=path.name,
                )
            )
    return SeverityRules(tuple(rules), tuple(str(f) for f in files))


def at_least(severity: str, threshold: str) -> bool:
    """``fail_on`` threshold: breaking, behavioral or any."""
    if threshold == "any":
        return True
    return SEVERITIES.index(severity) <= SEVERITIES.index(threshold)

"""A validated scenario, as the runner reads it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

LOOP_SUFFIX = re.compile(r"__\d+$")

DEFAULT_SETTLE_S = 15.0
DEFAULT_SCENARIO_S = 90.0


def parse_versions(text: str) -> SpecifierSet | bool:
    """``'any'`` -> True, ``'none'`` -> False, else a specifier set (ValueError if bad)."""
    word = text.strip().lower()
    if word in ("any", "*", ""):
        return True
    if word == "none":
        return False
    try:
        return SpecifierSet(text)
    except InvalidSpecifier as exc:
        raise ValueError(f"'{text}' is not a version specifier such as '>=3.21' or 'any'") from exc


@dataclass(frozen=True, slots=True)
class Applicability:
    versions: str
    reason: str | None = None

    def applies(self, version: str | None) -> bool:
        rule = parse_versions(self.versions)
        if isinstance(rule, bool):
            return rule
        if version is None:
            return True  # a remote server of unknown version: try it
        try:
            return Version(version) in rule
        except InvalidVersion:
            return True


@dataclass(frozen=True, slots=True)
class WorkerRule:
    """One line of a worker script: when it applies, and what the worker does."""

    actions: tuple[str, ...] = ("complete",)
    ref: str | None = None
    attempt: frozenset[int] | None = None
    iteration: frozenset[int] | None = None
    delivery: frozenset[int] | None = None
    output: Any = None
    reason: str | None = None
    callback_after_seconds: int | None = None
    logs: tuple[str, ...] = ()
    delay_ms: int = 0

    def matches(self, ref: str, attempt: int, iteration: int, delivery: int) -> bool:
        return (
            (self.ref is None or self.ref == LOOP_SUFFIX.sub("", ref))
            and (self.attempt is None or attempt in self.attempt)
            and (self.iteration is None or iteration in self.iteration)
            and (self.delivery is None or delivery in self.delivery)
        )


DEFAULT_RULE = WorkerRule()


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    task: str
    poll: bool = True
    domain: str | None = None
    script: tuple[WorkerRule, ...] = ()
    poll_from: int | None = None  # the index of the step from which it polls

    def polls_at(self, step: int | None) -> bool:
        """Does the worker poll while step ``step`` (an index; None: setup) runs?"""
        if not self.poll:
            return False
        return self.poll_from is None or (step is not None and step >= self.poll_from)

    def rule_for(self, ref: str, attempt: int, iteration: int, delivery: int) -> WorkerRule:
        for rule in self.script:
            if rule.matches(ref, attempt, iteration, delivery):
                return rule
        return DEFAULT_RULE


@dataclass(frozen=True, slots=True)
class Step:
    """One step: ``action`` is the step's key (start, wait, call, ...), ``args`` its value."""

    index: int
    action: str
    args: Any
    line: int
    name: str | None = None
    settle: bool = True
    expect_status: int | None = None

    @property
    def label(self) -> str:
        return self.name or f"{self.action} (line {self.line})"


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    file: Path
    digest: str  # sha256 of the resolved document: file references inlined
    document: dict[str, Any]  # the resolved document, as JSON
    description: str = ""
    tags: tuple[str, ...] = ()
    applies_to: dict[str, Applicability] = field(default_factory=dict)
    settle_s: float = DEFAULT_SETTLE_S
    scenario_s: float = DEFAULT_SCENARIO_S
    allow_outbound: bool = False
    outbound_hosts: tuple[str, ...] = ()  # HOST:PORT the servers may reach (allow_outbound)
    task_defs: tuple[dict[str, Any], ...] = ()
    workflows: tuple[dict[str, Any], ...] = ()
    workers: dict[str, WorkerSpec] = field(default_factory=dict)
    routes: tuple[dict[str, Any], ...] = ()
    steps: tuple[Step, ...] = ()
    capture: dict[str, bool] = field(default_factory=dict)
    compare: dict[str, Any] = field(default_factory=dict)
    # upgrade: the indices of the steps to switch after, in step order (none: by default)
    switch_after: tuple[int, ...] = ()

    def applicability(self, flavor: str, version: str | None) -> tuple[bool, str | None]:
        """Whether the scenario applies to ``flavor:version``, and why not."""
        rule = self.applies_to.get(flavor)
        if rule is None or rule.applies(version):
            return True, None
        return False, rule.reason or f"applies to {flavor} {rule.versions} only"

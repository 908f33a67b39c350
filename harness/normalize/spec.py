"""The scrub spec: load the shipped rules and a user's own, check them, compile them.

The rules are data (``default.scrub.yaml``, described by ``scrub.schema.json``), so what
the comparison treats as legitimate variation is reviewable in one place and versioned.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from harness.documents import Problem, load_document
from harness.documents.load import DocumentError
from harness.normalize.paths import Pattern

DEFAULT_SPEC = "default.scrub.yaml"
EVERYWHERE = (Pattern.parse("**"),)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    kind: str
    why: str
    fields: tuple[Pattern, ...] = EVERYWHERE
    pattern: re.Pattern[str] | None = None
    replacement: str = ""
    order: tuple[tuple[str, ...], ...] = ()
    defaults: tuple[Any, ...] = ()
    # counters, flags: only in objects whose sibling field holds one of the values (taskType: JOIN)
    when: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    # not in traces of a server on one of these backends (where what it checks is noise)
    unless_backends: tuple[str, ...] = ()
    source: str = ""  # the file that defined it
    # ``fields`` sorted for speed: everywhere, by last key, under a key, or a general pattern
    anywhere: bool = field(init=False)
    leaves: frozenset[str | int] = field(init=False)
    under: frozenset[str | int] = field(init=False)
    general: tuple[Pattern, ...] = field(init=False)

    def __post_init__(self) -> None:
        fast = {p for p in self.fields if p.parts == ("**",) or p.leaf or p.inside}
        object.__setattr__(self, "anywhere", any(p.parts == ("**",) for p in self.fields))
        object.__setattr__(self, "leaves", frozenset(p.leaf for p in self.fields if p.leaf))
        object.__setattr__(self, "under", frozenset(p.inside for p in self.fields if p.inside))
        object.__setattr__(self, "general", tuple(p for p in self.fields if p not in fast))

    def applies(self, path: Sequence[str | int]) -> bool:
        if self.anywhere:
            return True
        if path and path[-1] in self.leaves:
            return True
        if self.under and not self.under.isdisjoint(path[:-1]):
            return True
        return any(p.matches(path) for p in self.general)

    def holds_in(self, siblings: Mapping[str, Any]) -> bool:
        return all(siblings.get(key) in values for key, values in self.when)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "why": self.why, "source": self.source}


@dataclass(frozen=True, slots=True)
class ScrubSpec:
    """The compiled rules, in the order they apply, and where they came from."""

    name: str
    version: int
    scope: tuple[Pattern, ...]
    rules: tuple[Rule, ...]
    files: tuple[str, ...] = ()
    digest: str = ""
    by_kind: dict[str, tuple[Rule, ...]] = field(init=False)

    def __post_init__(self) -> None:
        by_kind: dict[str, tuple[Rule, ...]] = {}
        for rule in self.rules:
            by_kind[rule.kind] = (*by_kind.get(rule.kind, ()), rule)
        object.__setattr__(self, "by_kind", by_kind)

    def of_kind(self, kind: str) -> tuple[Rule, ...]:
        return self.by_kind.get(kind, ())

    def on_backend(self, backend: str | None) -> ScrubSpec:
        """The rules that hold in traces of a server on ``backend``."""
        if backend is None or not any(backend in r.unless_backends for r in self.rules):
            return self
        kept = tuple(r for r in self.rules if backend not in r.unless_backends)
        return dataclasses.replace(self, rules=kept)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "files": list(self.files),
            "digest": self.digest,
            "rules": [r.describe() for r in self.rules],
        }


def default_spec_path() -> Path:
    return Path(str(resources.files("harness").joinpath("normalize", DEFAULT_SPEC)))


def load_spec(extra: Sequence[Path] = ()) -> ScrubSpec:
    """The default spec followed by each file in ``extra`` (later rules of the same name win)."""
    documents: list[tuple[str, dict[str, Any]]] = []
    for path in (default_spec_path(), *extra):
        source = load_document(path, "scrub", "scrub spec")
        documents.append((str(path), source.data))
    return compile_spec(documents)


def compile_spec(documents: Sequence[tuple[str, dict[str, Any]]]) -> ScrubSpec:
    first = documents[0][1]
    rules: dict[str, Rule] = {}
    for origin, data in documents:
        for index, raw in enumerate(data.get("rules", [])):
            if raw.get("enabled", True) is False:
                rules.pop(raw["name"], None)
                continue
            rules.pop(raw["name"], None)
            rules[raw["name"]] = _rule(origin, index, raw)
    blob = json.dumps([d for _, d in documents], sort_keys=True, default=str)
    return ScrubSpec(
        name=str(first.get("name", "scrub spec")),
        version=int(first.get("version", 1)),
        scope=tuple(Pattern.parse(p) for p in first.get("scope", ["**"])),
        rules=tuple(rules.values()),
        files=tuple(origin for origin, _ in documents),
        digest=hashlib.sha256(blob.encode()).hexdigest()[:16],
    )


def _rule(origin: str, index: int, raw: dict[str, Any]) -> Rule:
    pattern = None
    if "pattern" in raw:
        try:
            pattern = re.compile(raw["pattern"])
        except re.error as exc:
            raise DocumentError(
                "scrub spec",
                [
                    Problem(
                        origin, 1, 1, f"bad regular expression: {exc}", f"rules[{index}].pattern"
                    )
                ],
            ) from exc
    fields = tuple(Pattern.parse(p) for p in raw.get("fields", ())) or EVERYWHERE
    return Rule(
        name=raw["name"],
        kind=raw["kind"],
        why=" ".join(str(raw["why"]).split()),
        fields=fields,
        pattern=pattern,
        replacement=str(raw.get("replacement", "")),
        order=tuple(tuple(chain) for chain in raw.get("order", ())),
        defaults=tuple(raw.get("defaults", ())),
        when=tuple((k, tuple(v)) for k, v in (raw.get("when") or {}).items()),
        unless_backends=tuple(raw.get("unless_backends", ())),
        source=Path(origin).name,
    )


def with_sorted_lists(spec: ScrubSpec, name: str, patterns: Sequence[str], why: str) -> ScrubSpec:
    """``spec`` plus one ``sort`` rule (a scenario's ``compare.unordered`` lists)."""
    if not patterns:
        return spec
    fields = tuple(Pattern.parse(p) for p in patterns)
    rule = Rule(name=name, kind="sort", why=why, fields=fields, source="scenario")
    mark = hashlib.sha256(f"{spec.digest}{list(patterns)}".encode()).hexdigest()[:16]
    return dataclasses.replace(spec, rules=(*spec.rules, rule), digest=mark)

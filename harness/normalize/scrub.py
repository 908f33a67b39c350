"""Apply a scrub spec to a trace: the same document, with what legitimately varies made equal.

Pure: the input trace is not changed. Idempotent: scrubbing a scrubbed trace changes
nothing, because every rule's output is a fixed point of every rule (symbols are not
UUIDs, ``<time>`` is not a number, sorted lists stay sorted). Each change is counted per
rule, with the (generalized) paths it touched, so reports can show what was equated.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from harness.normalize.paths import Path, generalize
from harness.normalize.spec import Rule, ScrubSpec
from harness.normalize.symbols import SymbolTable, assign

MAX_PATHS = 12
TIME = "<time>"
UNSET = "<unset>"
COUNT = "<count>"
FLAG = "<timing>"  # a true/false the server sets on its own schedule


@dataclass(slots=True)
class RuleCount:
    """What one rule changed in one trace."""

    count: int = 0
    paths: list[str] = field(default_factory=list)

    def add(self, path: Path, n: int = 1) -> None:
        self.count += n
        if len(self.paths) < MAX_PATHS:
            shape = generalize(path)
            if shape not in self.paths:
                self.paths.append(shape)


@dataclass(frozen=True, slots=True)
class Scrubbed:
    trace: dict[str, Any]
    counts: dict[str, RuleCount]
    symbols: dict[str, str]

    def summary(self) -> dict[str, dict[str, Any]]:
        return {
            name: {"count": c.count, "paths": list(c.paths)}
            for name, c in self.counts.items()
            if c.count
        }


def scrub_trace(trace: Mapping[str, Any], spec: ScrubSpec) -> Scrubbed:
    """``trace`` normalized by ``spec`` (the rules that hold on the trace's backend)."""
    target = trace.get("target")
    spec = spec.on_backend(target.get("backend") if isinstance(target, Mapping) else None)
    ids = spec.of_kind("ids")
    tables = [assign(trace, rule.pattern) for rule in ids if rule.pattern is not None]
    walker = _Walker(spec, list(zip(ids, tables, strict=False)))
    result = walker.top(trace, ())
    symbols = {k: v for table in tables for k, v in table.symbols.items()}
    return Scrubbed(result, walker.counts, symbols)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_flag(value: Any) -> TypeGuard[bool]:
    return isinstance(value, bool)


class _Walker:
    def __init__(self, spec: ScrubSpec, ids: list[tuple[Rule, SymbolTable]]) -> None:
        self.spec = spec
        self.ids = ids
        self.decided: dict[Path, str] = {}
        self.exact_indices = any(part.isdigit() for pattern in spec.scope for part in pattern.parts)
        self.counts: dict[str, RuleCount] = {r.name: RuleCount() for r in spec.rules}
        self.stamps = spec.of_kind("timestamps")
        counters = spec.of_kind("counters")
        self.counters = [r for r in counters if not r.when]
        # rules that look at a value's siblings (taskType): what they take, what they give
        self.conditional: list[tuple[Rule, Callable[[Any], bool], str]] = [
            *((r, _is_number, COUNT) for r in counters if r.when),
            *((r, _is_flag, FLAG) for r in spec.of_kind("flags")),
        ]
        self.integral = spec.of_kind("integral-numbers")
        self.rewrites = spec.of_kind("rewrite")
        self.sorts = spec.of_kind("sort")
        self.drops = spec.of_kind("drop")
        self.empties = spec.of_kind("drop-empty")
        self.defaults = [
            (rule, {(type(d), d) for d in rule.defaults if not isinstance(d, dict | list)})
            for rule in spec.of_kind("drop-default")
        ]

    def top(self, value: Any, path: Path) -> Any:
        """Copy down to the scope's roots; scrub below them."""
        where = self._where(path)
        if where == "in":
            return self.scrub(value, path)
        if where == "out":
            return value
        if isinstance(value, Mapping):
            return {k: self.top(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.top(v, (*path, i)) for i, v in enumerate(value)]
        return value

    def _where(self, path: Path) -> str:
        """ "in" the scope, "out" of it, or "above" it; the same for every list index when
        no scope pattern names one (so each shape is decided once)."""
        key = path if self.exact_indices else tuple(p if isinstance(p, str) else 0 for p in path)
        known = self.decided.get(key)
        if known is None:
            if any(p.matches(path) for p in self.spec.scope):
                known = "in"
            elif any(p.matches_prefix(path) for p in self.spec.scope):
                known = "above"
            else:
                known = "out"
            self.decided[key] = known
        return known

    def scrub(self, value: Any, path: Path) -> Any:
        if isinstance(value, Mapping):
            return self._mapping(value, path)
        if isinstance(value, list):
            return self._list(value, path)
        if isinstance(value, str):
            return self._text(value, path)
        if _is_number(value):
            return self._number(value, path)
        return value

    def _mapping(self, value: Mapping[str, Any], path: Path) -> dict[str, Any]:
        late = self._order_violations(value, path)
        for rule, takes, gives in self.conditional:
            if rule.holds_in(value):
                for key, item in value.items():
                    if takes(item) and key not in late and rule.applies((*path, key)):
                        late[key] = gives
                        self.counts[rule.name].add((*path, key))
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = self._text(key, path) if self.ids else key
            child = (*path, name)
            if key in late:
                out[name] = late[key]
                continue
            if self._default(item, child):
                continue
            scrubbed = self.scrub(item, child)
            if self._dropped(scrubbed, child):
                continue
            out[name] = scrubbed
        return out

    def _dropped(self, value: Any, path: Path) -> bool:
        for rule in self.drops:
            if rule.applies(path):
                self.counts[rule.name].add(path)
                return True
        if value is None or (isinstance(value, dict | list) and not value):
            for rule in self.empties:
                if rule.applies(path):
                    self.counts[rule.name].add(path)
                    return True
        return self._default(value, path)

    def _default(self, value: Any, path: Path) -> bool:
        if isinstance(value, dict | list):
            return False
        for rule, values in self.defaults:
            if (type(value), value) in values and rule.applies(path):
                self.counts[rule.name].add(path)
                return True
        return False

    def _order_violations(self, value: Mapping[str, Any], path: Path) -> dict[str, Any]:
        late: dict[str, Any] = {}
        for rule in self.stamps:
            for chain in rule.order:
                previous: tuple[str, float] | None = None
                for key in chain:
                    current = value.get(key)
                    if not (_is_number(current) and current > 0):
                        continue
                    early = previous is not None and current < previous[1]
                    if early and previous is not None and rule.applies((*path, key)):
                        late[key] = f"<time:before {previous[0]}>"
                        self.counts[rule.name].add((*path, key))
                    previous = (key, float(current))
        return late

    def _list(self, value: list[Any], path: Path) -> list[Any]:
        items = [self.scrub(v, (*path, i)) for i, v in enumerate(value)]
        for rule in self.sorts:
            if rule.applies(path):
                ordered = sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
                if ordered != items:
                    self.counts[rule.name].add(path)
                items = ordered
        return items

    def _text(self, value: str, path: Path) -> str:
        for rule, table in self.ids:
            if rule.applies(path):
                value, n = table.replace(value)
                if n:
                    self.counts[rule.name].add(path, n)
        for rule in self.rewrites:
            if rule.pattern is not None and rule.applies(path):
                new = rule.pattern.sub(rule.replacement, value)
                if new != value:
                    self.counts[rule.name].add(path)
                    value = new
        return value

    def _number(self, value: float, path: Path) -> Any:
        for rule in self.stamps:
            if value >= 0 and rule.applies(path):
                self.counts[rule.name].add(path)
                return TIME if value > 0 else UNSET
        for rule in self.counters:
            if rule.applies(path):
                self.counts[rule.name].add(path)
                return COUNT
        for rule in self.integral:
            if isinstance(value, float) and value.is_integer() and rule.applies(path):
                self.counts[rule.name].add(path)
                return int(value)
        return value


def scrub_value(value: Any, spec: ScrubSpec, path: Sequence[str | int] = ()) -> Any:
    """Scrub a lone value (no ids: they need a whole trace to get symbols)."""
    walker = _Walker(spec, [])
    return walker.scrub(value, tuple(path))

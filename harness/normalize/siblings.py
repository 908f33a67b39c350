"""Values decided by their siblings: timestamps out of order, and conditional rules.

A timestamp that comes before the one its chain says it follows (an ``order`` of a
``timestamps`` rule) is written ``<time:before X>``; a number or flag whose rule holds
only in objects with a given sibling value (``when: {taskType: [JOIN]}``) becomes
``<count>`` or ``<timing>`` there. Both look at a whole object, not at one value: an
object with none of the keys they read is not looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

from harness.normalize.plan import Node, RuleCount
from harness.normalize.spec import Rule, ScrubSpec

COUNT = "<count>"
FLAG = "<timing>"  # a true/false the server sets on its own schedule
NOTHING: dict[str, Any] = {}  # no field decided by its siblings (never written)


def is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_flag(value: Any) -> TypeGuard[bool]:
    return isinstance(value, bool)


class Siblings:
    """The spec's rules that read siblings, and what each object's siblings decide."""

    def __init__(self, spec: ScrubSpec, counts: Mapping[str, RuleCount]) -> None:
        self.counts = counts
        stamps = spec.of_kind("timestamps")
        self.chains = [(rule, chain) for rule in stamps for chain in rule.order]
        self.chain_keys = frozenset(key for _, chain in self.chains for key in chain)
        self.chain_order = tuple(dict.fromkeys(key for _, chain in self.chains for key in chain))
        # the chains with two keys or more among an object's chain keys (else none is broken)
        self.chains_for: dict[tuple[str, ...], list[tuple[Rule, tuple[str, ...]]]] = {}
        # rules that look at a value's siblings (taskType): what they take, what they give
        self.conditional: list[tuple[Rule, Callable[[Any], bool], str]] = [
            *((r, is_number, COUNT) for r in spec.of_kind("counters") if r.when),
            *((r, _is_flag, FLAG) for r in spec.of_kind("flags")),
        ]
        self.when_keys = _when_keys([rule for rule, _, _ in self.conditional])
        # an object with none of these keys has no field decided by its siblings
        self.keys = self.chain_keys | (self.when_keys or frozenset())
        self.always = self.when_keys is None  # every object is looked at
        # the keys whose values decide (when an object has them)
        whens = frozenset(key for rule, _, _ in self.conditional for key, _ in rule.when)
        self.deciders = self.chain_keys | whens

    def late(self, value: Mapping[str, Any], node: Node) -> dict[str, Any]:
        """Fields whose value is decided by their siblings: order violations, conditions."""
        keys = value.keys()
        late = NOTHING
        if not keys.isdisjoint(self.chain_keys):
            late = self._order_violations(value, node)
        if self.when_keys is None or not keys.isdisjoint(self.when_keys):
            late = self._conditions(value, node, late or {})
        return late

    def _conditions(
        self, value: Mapping[str, Any], node: Node, late: dict[str, Any]
    ) -> dict[str, Any]:
        get = value.get
        for rule, takes, gives in self.conditional:
            for key, values in rule.when:  # rule.holds_in, without a generator
                if get(key) not in values:
                    break
            else:
                for key, item in value.items():
                    if takes(item) and key not in late:
                        child = node.child(key)
                        if rule.applies(child.path):
                            late[key] = gives
                            self.counts[rule.name].note(child)
        return late

    def _order_violations(self, value: Mapping[str, Any], node: Node) -> dict[str, Any]:
        present = tuple([key for key in self.chain_order if key in value])
        chains = self.chains_for.get(present)
        if chains is None:
            chains = self.chains_for[present] = [
                (rule, chain) for rule, chain in self.chains if len(set(chain) & set(present)) > 1
            ]
        late: dict[str, Any] = {}
        if not chains:
            return late
        get = value.get
        for rule, chain in chains:
            previous: str | None = None  # the chain's last timestamp so far: its key, value
            since = 0.0
            for key in chain:
                current: Any = get(key)
                if current is None:
                    continue
                kind = type(current)
                if not (kind is int or kind is float or is_number(current)) or not current > 0:
                    continue
                if previous is not None and current < since:
                    child = node.child(key)
                    if rule.applies(child.path):
                        late[key] = f"<time:before {previous}>"
                        self.counts[rule.name].note(child)
                previous, since = key, float(current)
        return late


def _when_keys(rules: list[Rule]) -> frozenset[str] | None:
    """The sibling keys the conditional rules look at, when an object with none of them
    holds no rule's condition (so it needs no check); None when it may."""
    for rule in rules:
        if not any(None not in values for _, values in rule.when):
            return None
    return frozenset(key for rule in rules for key, _ in rule.when)

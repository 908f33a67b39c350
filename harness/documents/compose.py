"""YAML text to a node graph, refusing alias bombs and deep nesting before any data exists.

An alias (``*name``) is one node in the graph however large the node it names: a
billion-laughs file of a few hundred bytes composes to a few dozen nodes and only
explodes when the graph is turned into Python objects. So the composer measures as it
goes: every finished node records its expanded size and height, every node counts one
value and every alias the size of the node it names, and composing stops, at that node
or alias, as soon as the total passes ``Limits.max_values`` or the expanded nesting
passes ``Limits.max_depth``. An alias to a node that contains it (``&a [*a]``) is
refused too.

libyaml's parser is used when PyYAML has it (seven times faster); the composer, where
the limits live, is always this Python one.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.resolver import Resolver

from harness.documents.limits import BYTES_PER_VALUE, FILE_BYTES_VARIABLE, Limits

RAISE_HINT = f"raise the limit with --max-file-size or {FILE_BYTES_VARIABLE} if it is meant"


class ComposeLimitError(yaml.YAMLError):
    """The document is too large once expanded, or nested too deeply; ``mark`` says where."""

    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.line = int(mark.line) + 1 if mark is not None else 1
        self.column = int(mark.column) + 1 if mark is not None else 1
        self.message = message


class _BoundedComposer(Composer):
    # Provided by the parser this composer is mixed with (annotations only: no shadowing).
    check_event: Any
    peek_event: Any

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self._limits = limits
        self._measures: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, height)
        self._values = 0  # in the document so far, aliases expanded
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            self._count_alias(self.peek_event())
            return super().compose_node(parent, index)
        self._depth += 1
        self._values += 1
        if self._depth > self._limits.max_depth:
            raise ComposeLimitError(
                self.peek_event().start_mark,
                f"nested more than {self._limits.max_depth} levels deep",
            )
        if self._values > self._limits.max_values:
            raise ComposeLimitError(
                self.peek_event().start_mark,
                f"the document holds more than {self._limits.max_values:,} values (one per "
                f"{BYTES_PER_VALUE} bytes of the file-size limit); {RAISE_HINT}",
            )
        node = super().compose_node(parent, index)
        self._depth -= 1
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = node.value
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        measures = [self._measures[id(child)] for child in children]
        self._measures[id(node)] = (
            1 + sum(size for size, _ in measures),
            1 + max((height for _, height in measures), default=0),
        )
        return node

    def _count_alias(self, event: Any) -> None:
        target = self.anchors.get(event.anchor)
        if target is None:
            return  # PyYAML reports the undefined alias
        measure = self._measures.get(id(target))
        if measure is None:
            raise ComposeLimitError(
                event.start_mark,
                f"the alias '*{event.anchor}' is inside the node it names (a recursive "
                "alias), which cannot be turned into data",
            )
        size, height = measure
        self._values += size
        if self._values > self._limits.max_values:
            raise ComposeLimitError(
                event.start_mark,
                f"with its aliases expanded, the document holds more than "
                f"{self._limits.max_values:,} values (passed at '*{event.anchor}', which "
                f"stands for {size:,}); anchors are for sharing small parts, so this looks "
                f"like an alias bomb; {RAISE_HINT}",
            )
        if self._depth + height > self._limits.max_depth:
            raise ComposeLimitError(
                event.start_mark,
                f"the alias '*{event.anchor}' nests the document more than "
                f"{self._limits.max_depth} levels deep",
            )


try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Loader(Reader, Scanner, Parser, _BoundedComposer, Resolver):
        def __init__(self, text: str, limits: Limits) -> None:
            Reader.__init__(self, text)
            Scanner.__init__(self)
            Parser.__init__(self)
            _BoundedComposer.__init__(self, limits)
            Resolver.__init__(self)

else:

    class _Loader(_BoundedComposer, _CParser, Resolver):  # type: ignore[no-redef]
        def __init__(self, text: str, limits: Limits) -> None:
            _CParser.__init__(self, text)
            _BoundedComposer.__init__(self, limits)
            Resolver.__init__(self)


def compose(text: str, limits: Limits) -> Node | None:
    """The node graph of ``text``'s single document (``None`` if it has none).

    Raises ``ComposeLimitError`` past a limit, PyYAML's errors for malformed YAML.
    """
    loader = _Loader(text, limits)
    try:
        node: Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()

"""Paths into JSON documents, and the glob patterns that select them.

A path is a tuple of keys and list indices. Written out it reads
``steps[2].snapshots[0].tasks[1].pollCount``; a pattern is written the same way
with ``*`` for any one key or index (``tasks[*]`` or ``tasks.*``), ``**`` for any
number of them, and shell wildcards inside a key (``*Time``). A key with dots, spaces or
brackets is written quoted: ``["step GET /api/workflow/{id} #1"].status``.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

Path = tuple[str | int, ...]

_SEGMENT = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[(\*|\d+)\]|\.?([^.\[\]]+)')


def render(path: Sequence[str | int]) -> str:
    """``('a', 0, 'b')`` -> ``a[0].b``; keys that need it are quoted."""
    out: list[str] = []
    for part in path:
        if type(part) is str:
            written = _KEYS.get(part) or _key(part)
            out.append(written[1] if out else written[0])
        elif isinstance(part, int):
            out.append(f"[{part}]")
        else:
            written = _key(part)
            out.append(written[1] if out else written[0])
    return "".join(out)


_KEYS: dict[str, tuple[str, str]] = {}  # key -> how it is written first, and after a part


def written(part: str | int, first: bool = False) -> str:
    """How ``part`` is written in a rendered path: first, or after another part."""
    if type(part) is str:
        forms = _KEYS.get(part) or _key(part)
    elif isinstance(part, int):
        return f"[{part}]"
    else:
        forms = _key(part)
    return forms[0] if first else forms[1]


def extend(rendered: str, part: str | int) -> str:
    """``render((*path, part))``, given ``rendered``, the ``render`` of ``path``."""
    return rendered + written(part) if rendered else written(part, first=True)


def _key(part: str) -> tuple[str, str]:
    if re.fullmatch(r"[^.\[\]\"\s]+", part):
        written = part, f".{part}"
    else:
        quoted = f"[{json.dumps(part)}]"
        written = quoted, quoted
    if type(part) is str:
        if len(_KEYS) >= 1 << 16:
            _KEYS.clear()
        _KEYS[part] = written
    return written


def generalize(path: Sequence[str | int]) -> str:
    """The path with every list index written ``[*]``: one name for a family of paths."""
    return (
        render(["\0" if isinstance(p, int) else p for p in path])
        .replace(".\0", "[*]")
        .replace("\0", "[*]")
    )


def split_pattern(pattern: str) -> tuple[str, ...]:
    """``a.b[*].**`` -> ``('a', 'b', '*', '**')``."""
    parts: list[str] = []
    for quoted, index, key in _SEGMENT.findall(pattern):
        parts.append(json.loads(f'"{quoted}"') if quoted else (index or key))
    if not parts:
        raise ValueError(f"empty path pattern {pattern!r}")
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class Pattern:
    """A compiled path pattern; ``matches(path)`` is the whole test."""

    text: str
    parts: tuple[str, ...]
    tail: str | None = None  # the last key when it is literal: a path must end with it

    @classmethod
    def parse(cls, text: str) -> Pattern:
        parts = split_pattern(text)
        last = parts[-1]
        return cls(text, parts, None if last == "**" or _wild(last) else last)

    def may_match(self, last: str | int | None) -> bool:
        """False when a path ending in ``last`` (None: the empty path) cannot match: a
        check of one key that spares the whole walk for most paths."""
        return self.tail is None or (last is not None and str(last) == self.tail)

    @property
    def leaf(self) -> str | None:
        """The last key when the pattern is ``**.key`` (fast lookup by key), else None."""
        if len(self.parts) == 2 and self.parts[0] == "**" and not _wild(self.parts[1]):
            return self.parts[1]
        return None

    @property
    def inside(self) -> str | None:
        """The key when the pattern is ``**.key.**`` (anything under that key), else None."""
        if (
            len(self.parts) == 3
            and self.parts[0] == self.parts[2] == "**"
            and not _wild(self.parts[1])
        ):
            return self.parts[1]
        return None

    def matches(self, path: Sequence[str | int]) -> bool:
        if not self.may_match(path[-1] if path else None):
            return False
        return _match(self.parts, tuple(str(p) for p in path))

    def matches_prefix(self, path: Sequence[str | int]) -> bool:
        """True when some extension of ``path`` could match (used to prune walks)."""
        return _prefix(self.parts, tuple(str(p) for p in path))


def _wild(part: str) -> bool:
    return any(c in part for c in "*?[")


@functools.lru_cache(maxsize=65536)
def _match(parts: tuple[str, ...], path: tuple[str, ...]) -> bool:
    if not parts:
        return not path
    head, rest = parts[0], parts[1:]
    if head == "**":
        return any(_match(rest, path[i:]) for i in range(len(path) + 1))
    if not path:
        return False
    return fnmatch.fnmatchcase(path[0], head) and _match(rest, path[1:])


@functools.lru_cache(maxsize=65536)
def _prefix(parts: tuple[str, ...], path: tuple[str, ...]) -> bool:
    if not path:
        return True
    if not parts:
        return False
    head, rest = parts[0], parts[1:]
    if head == "**":
        return True
    return fnmatch.fnmatchcase(path[0], head) and _prefix(rest, path[1:])

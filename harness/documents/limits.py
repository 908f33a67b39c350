"""How much input conductor-compat accepts, so that no file can exhaust the machine.

The defaults sit far above every real document seen (the largest shipped document is
71 KB and holds 5,588 values, the largest real workflow, in ``../shared/corpus``, has 29
tasks, the deepest document nests 17 levels) and far below what would hurt. ``validate`` and ``run``
raise them with ``--max-file-size`` and ``--max-tasks``; every command reads
``CONDUCTOR_COMPAT_MAX_FILE_BYTES`` and ``CONDUCTOR_COMPAT_MAX_TASKS``, here only.

>>> Limits.from_environment({"CONDUCTOR_COMPAT_MAX_TASKS": "50"}).max_tasks
50
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from harness.errors import BadInputError

FILE_BYTES_VARIABLE = "CONDUCTOR_COMPAT_MAX_FILE_BYTES"
TASKS_VARIABLE = "CONDUCTOR_COMPAT_MAX_TASKS"

DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_TASKS = 1000
# Values (every mapping, list, key and scalar) a document may hold once its aliases are
# expanded, per byte of the file-size limit: each costs some hundreds of bytes of memory
# while it is read, and a billion-laughs file of a few hundred bytes expands to 10**9.
# The largest real document (71 KB) holds 5,588; the default limit allows 209,715.
BYTES_PER_VALUE = 20
# Nesting of mappings and lists; each level costs a few stack frames to read and check.
DEFAULT_MAX_DEPTH = 100

_SIZE = re.compile(r"\s*([0-9]+)\s*([kmg]i?b?|b)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


@dataclass(frozen=True, slots=True)
class Limits:
    """The largest input accepted; every field is a count, bytes for the file size."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_tasks: int = DEFAULT_MAX_TASKS
    max_depth: int = DEFAULT_MAX_DEPTH

    @property
    def max_values(self) -> int:
        """Values a document may expand to, aliases included: it grows with the file size."""
        return self.max_file_bytes // BYTES_PER_VALUE

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, raised or lowered by the two environment variables."""
        env = os.environ if environ is None else environ
        limits = cls()
        if env.get(FILE_BYTES_VARIABLE, "").strip():
            limits = limits.replace(max_file_bytes=parse_size(env[FILE_BYTES_VARIABLE]))
        if env.get(TASKS_VARIABLE, "").strip():
            limits = limits.replace(max_tasks=parse_count(env[TASKS_VARIABLE], TASKS_VARIABLE))
        return limits

    def replace(self, *, max_file_bytes: int | None = None, max_tasks: int | None = None) -> Limits:
        """A copy with the given limits changed (``None`` keeps the current one)."""
        changes = {"max_file_bytes": max_file_bytes, "max_tasks": max_tasks}
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def parse_size(text: str) -> int:
    """``'4194304'``, ``'512K'``, ``'64M'``, ``'1G'`` (binary units) to a byte count."""
    match = _SIZE.fullmatch(text)
    if match is None or int(match.group(1)) < 1:
        raise BadInputError(
            f"'{text}' is not a file size; write a number of bytes, or one with K, M or G "
            "(such as 64M)"
        )
    unit = (match.group(2) or "").lower()[:1]
    return int(match.group(1)) * _UNITS[unit]


def parse_count(text: str, what: str = "the limit") -> int:
    """A positive whole number, or ``BadInputError`` naming ``what``."""
    stripped = text.strip()
    if re.fullmatch("[0-9]+", stripped) is None or int(stripped) < 1:
        raise BadInputError(f"{what} must be a whole number of at least 1, not '{text}'")
    return int(stripped)


def describe_size(count: int) -> str:
    """``4194304`` -> ``'4 MiB'``; byte counts that are not whole units stay in bytes."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= factor and count % factor == 0:
            return f"{count // factor} {unit}"
    return f"{count} bytes"

"""Versions compare as numbers, not strings: 3.5.2 < 3.10.0 < 3.15.0, in a scenario's
``applies_to`` and in the order of the known locks."""

from __future__ import annotations

import pytest

from harness.scenarios.model import Applicability
from harness.targets.locks import known_locks


@pytest.mark.parametrize(
    ("versions", "version", "applies"),
    [
        ("<3.15", "3.5.2", True),  # as strings, "3.5.2" > "3.15"
        (">=3.10", "3.9.2", False),  # as strings, "3.9.2" > "3.10"
        (">=3.10", "3.10.0", True),
        (">=3.10", "3.13.8", True),
        ("<3.10", "3.8.3", True),
        ("<3.10", "3.10.7", False),
        (">=3.13.5,<3.14", "3.13.8", True),
        (">=3.13.5,<3.14", "3.13.3", False),
        ("==3.13.*", "3.13.2", True),
        ("==3.13.*", "3.1.3", False),
        (">=3.21", "3.5.2", False),
        (">=3.30", "3.32.3", True),
        ("none", "3.5.2", False),
        ("any", "3.5.2", True),
    ],
)
def test_applies_to_compares_versions_numerically(
    versions: str, version: str, applies: bool
) -> None:
    assert Applicability(versions).applies(version) is applies


def test_known_locks_are_in_numeric_version_order() -> None:
    for flavor in ("netflix", "oss"):
        versions = [
            lk.target.version or "" for lk in known_locks() if lk.target.flavor.value == flavor
        ]
        numeric = sorted(versions, key=lambda v: tuple(int(p) for p in v.split(".")))
        assert versions == numeric, flavor

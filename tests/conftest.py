"""Shared test helpers.

A test that needs something the machine lacks (Maven, a JRE, redis-server) is skipped
with the reason on a developer's machine, and fails in CI (CI=true), where the
repository's own set-up must have installed it.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI is missing a prerequisite: {reason}")
    pytest.skip(reason)


def require_tool(name: str, why: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"'{name}' is not on PATH ({why})")
    assert path is not None
    return path

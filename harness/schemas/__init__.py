"""The JSON Schemas shipped with the package, loaded once and cached.

A base layer like ``harness.errors``: every other layer may use it, it uses none.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

__all__ = ["load_schema", "schema_errors", "validator"]


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``harness/schemas/<name>.schema.json``."""
    text = resources.files("harness").joinpath("schemas", f"{name}.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))


def schema_errors(name: str, document: Any, *, width: int = 200) -> list[str]:
    """Violations of schema ``name`` by ``document``, as 'path: message' lines, by path."""
    errors = sorted(validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message[:width]}"
        for e in errors
    ]

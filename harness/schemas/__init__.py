"""The JSON Schemas shipped with the package, loaded once and cached.

A base layer like ``harness.errors``: every other layer may use it, it uses none.

``schema_errors`` checks the documents the harness writes and reads by the thousand
(traces, report.json) with a validator compiled from the schema first (fastjsonschema):
a document it passes is valid. Only one it fails is walked again by jsonschema, whose
violations, with their paths and messages, decide. The schemas use only keywords that
both implement alike (no ``$ref`` beside other constraints, ``items`` as one schema), and
tests/unit/test_schema_fast_path.py checks on mutated real documents that the compiled
validator passes nothing jsonschema fails.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator

__all__ = ["compiled", "load_schema", "schema_errors", "validator"]


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``harness/schemas/<name>.schema.json``."""
    text = resources.files("harness").joinpath("schemas", f"{name}.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))


@functools.cache
def compiled(name: str) -> Callable[[Any], Any]:
    """Schema ``name`` compiled to a function that raises on the first violation."""
    check: Callable[[Any], Any] = fastjsonschema.compile(load_schema(name))
    return check


def schema_errors(name: str, document: Any, *, width: int = 200) -> list[str]:
    """Violations of schema ``name`` by ``document``, as 'path: message' lines, by path."""
    try:
        compiled(name)(document)
        return []
    except fastjsonschema.JsonSchemaException:
        pass  # jsonschema decides, and says where and why
    errors = sorted(validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message[:width]}"
        for e in errors
    ]

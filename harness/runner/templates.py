"""``{{path.to.value}}`` templates in worker outputs, start inputs and call paths.

A string that is exactly one template takes the value's own type (``"{{input}}"``
gives the whole input mapping); templates inside longer text are replaced by the
value's text. The harness's templates use ``{{ }}`` so that they never mix with
Conductor's own ``${...}`` expressions, which the server evaluates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

TOKEN = re.compile(r"\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}\}")


class TemplateError(ValueError):
    """A template names a value the context does not have."""


def lookup(path: str, context: Mapping[str, Any]) -> Any:
    value: Any = context
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise TemplateError(f"'{{{{{path}}}}}' names nothing ('{part}' is missing)")
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """``value`` with every template replaced, recursively through lists and mappings."""
    if isinstance(value, str):
        whole = TOKEN.fullmatch(value.strip())
        if whole and value.strip() == value:
            return lookup(whole.group(1), context)
        return TOKEN.sub(lambda m: _text(lookup(m.group(1), context)), value)
    if isinstance(value, list):
        return [render(v, context) for v in value]
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    return value

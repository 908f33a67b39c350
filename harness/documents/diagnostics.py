"""Turn JSON Schema errors into problems a person can act on.

jsonschema reports *what* failed in schema terms; a scenario author needs *where* (file,
line, column, field path) and *what to do* ("unknown field 'staus', did you mean
'status'?"). Errors under ``oneOf`` are narrowed to the branch that came closest.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from jsonschema.exceptions import ValidationError, best_match

from harness.documents.source import FieldPath, Problem, Source
from harness.schemas import validator

_TYPE_NAMES = {
    dict: "a mapping",
    list: "a list",
    str: "text",
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    type(None): "nothing (null)",
}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to ``word``, else ``''``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def schema_problems(source: Source, schema: str = "scenario") -> list[Problem]:
    """Every schema violation in ``source``, located, sorted by position."""
    problems: list[Problem] = []
    for error in validator(schema).iter_errors(source.data):
        problems.extend(_describe(_narrow(error), source))
    unique: dict[tuple[int, int, str], Problem] = {}
    for problem in problems:  # met again through an alias or merge key: named where first met
        unique.setdefault((problem.line, problem.column, problem.message), problem)
    return sorted(unique.values(), key=lambda p: (p.line, p.column))


def _narrow(error: ValidationError) -> ValidationError:
    """For oneOf/anyOf, the sub-error of the branch that matched best."""
    while error.validator in ("oneOf", "anyOf") and error.context:
        typed = [e for e in error.context if e.validator != "type"]
        candidate = best_match(typed or error.context)
        if candidate is None:
            break
        error = candidate
    return error


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error: ValidationError, source: Source) -> Iterator[Problem]:
    path: FieldPath = tuple(error.absolute_path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance: Any = error.instance
    expected: Any = error.validator_value
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = list(schema.get("properties", {}))
        for key in instance:
            if key not in known:
                hint = did_you_mean(key, known)
                allowed = "" if hint else f"; expected one of: {', '.join(known)}"
                yield source.problem(
                    (*path, key), f"unknown field '{key}'{hint or allowed}", key=True
                )
        return
    if kind == "required":
        missing = [k for k in expected if k not in (instance or {})]
        for key in missing:
            yield source.problem(path, f"missing required field '{key}'")
        return
    if kind == "enum":
        choices = [str(c) for c in expected]
        hint = did_you_mean(str(instance), choices)
        yield source.problem(
            path,
            f"{_short(instance)} is not allowed"
            + (hint or "; expected one of: " + ", ".join(choices)),
        )
        return
    if kind == "type":
        wanted = expected
        wanted_text = " or ".join(wanted) if isinstance(wanted, list) else str(wanted)
        got = _TYPE_NAMES.get(type(instance), type(instance).__name__)
        yield source.problem(path, f"expected {wanted_text}, got {got} {_short(instance)}")
        return
    if kind in ("minProperties", "maxProperties") and isinstance(instance, dict):
        yield source.problem(path, f"{error.message.split(' - ')[0][:100]}")
        return
    if kind == "oneOf":
        yield source.problem(path, f"{_short(instance)} does not match any allowed form")
        return
    message = error.message
    if len(message) > 160:
        message = message[:157] + "..."
    yield source.problem(path, message)

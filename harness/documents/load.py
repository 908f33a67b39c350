"""Read a configuration document (YAML), check it against its schema, say where it is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.documents.diagnostics import schema_problems
from harness.documents.source import Problem, Source, SourceError, read_source
from harness.errors import BadInputError


class DocumentError(BadInputError):
    """A configuration file is invalid; ``problems`` locate each mistake (file:line:column)."""

    def __init__(self, what: str, problems: Sequence[Problem]) -> None:
        count = len(problems)
        super().__init__(
            f"{count} problem{'s' * (count != 1)} in {what} {problems[0].file}",
            details=[p.render() for p in problems],
        )
        self.problems = list(problems)


def load_document(path: Path, schema: str, what: str) -> Source:
    """``path`` parsed and valid against ``harness/schemas/<schema>.schema.json``."""
    try:
        source = read_source(path)
    except SourceError as exc:
        raise DocumentError(what, exc.problems) from exc
    problems = schema_problems(source, schema)
    if problems:
        raise DocumentError(what, problems)
    return source

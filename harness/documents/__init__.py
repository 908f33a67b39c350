"""Input documents (scenario files, scrub specs, allowlists, severity rules): YAML or JSON
read with the position of every field, and JSON Schema errors turned into located,
readable problems. A base layer: it imports only ``harness.schemas`` and
``harness.errors``.
"""

from __future__ import annotations

from harness.documents.diagnostics import did_you_mean, schema_problems
from harness.documents.load import DocumentError, load_document
from harness.documents.source import FieldPath, Problem, Source, SourceError, read_source

__all__ = [
    "DocumentError",
    "FieldPath",
    "Problem",
    "Source",
    "SourceError",
    "did_you_mean",
    "load_document",
    "read_source",
    "schema_problems",
]

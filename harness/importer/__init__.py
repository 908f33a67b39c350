"""Turn real workflow definitions into ready-to-run scenario files (``conductor-compat import``).

Definitions come from JSON files (one definition, a list, or an export of a server's
metadata: ``sources``) or from a running server (``remote``). Each workflow becomes
one scenario (``build``, ``assemble``): the workflow, the children it names that the
input holds, task definitions for its worker tasks, workers that complete every task
with its input as output, HTTP tasks pointed at the local stub (``network``), steps
that start it and give the signals only a step can give (``drive``, ``inputs``), and
the versions it applies to, from the features it uses (``features``). ``output``
writes the files.
"""

from harness.importer.assemble import Imported
from harness.importer.build import build, scenario_names, slug
from harness.importer.output import render, summary, write_all
from harness.importer.remote import fetch_definitions
from harness.importer.sources import (
    Definition,
    DefinitionError,
    DefinitionSet,
    read_files,
    read_inputs,
)

__all__ = [
    "Definition",
    "DefinitionError",
    "DefinitionSet",
    "Imported",
    "build",
    "fetch_definitions",
    "read_files",
    "read_inputs",
    "render",
    "scenario_names",
    "slug",
    "summary",
    "write_all",
]

"""Pull workflow and task definitions from a running server (``--from remote:URL``).

Two reads, the same on every version: ``GET /api/metadata/workflow`` (every workflow
definition) and ``GET /api/metadata/taskdefs``. Credentials come from the environment,
as for remote targets; they are sent to that server only and never written anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.conductor.client import ConductorClient
from harness.errors import HarnessError
from harness.importer.sources import DefinitionError, DefinitionSet, classify

ENDPOINTS = (
    ("workflows", "/api/metadata/workflow"),
    ("task definitions", "/api/metadata/taskdefs"),
)


async def fetch_definitions(
    url: str, headers: Mapping[str, str], *, timeout_s: float = 60.0
) -> DefinitionSet:
    """Every workflow and task definition of the server at ``url``."""
    origin = f"remote:{url}"
    found = DefinitionSet()
    problems: list[str] = []
    async with ConductorClient(url, headers=headers, timeout_s=timeout_s) as client:
        for what, path in ENDPOINTS:
            response = await client.request("GET", path)
            if response.status_code in (401, 403):
                raise HarnessError(
                    f"{origin} refused to list its {what} (GET {path} answered "
                    f"{response.status_code}). Credentials come from the environment: "
                    "CONDUCTOR_COMPAT_TOKEN, CONDUCTOR_COMPAT_BEARER or CONDUCTOR_COMPAT_HEADERS."
                )
            if response.status_code != 200:
                raise HarnessError(
                    f"{origin}: GET {path} answered {response.status_code}: {response.text[:300]}"
                )
            try:
                document = response.json()
            except ValueError:
                raise HarnessError(
                    f"{origin}: GET {path} did not answer JSON (is this a Conductor server?)"
                ) from None
            if not isinstance(document, list):
                raise HarnessError(f"{origin}: GET {path} answered {type(document).__name__}, "
                                   "not a list")  # fmt: skip
            if not document:
                continue
            definitions, bad = classify(document, origin, indexed=False)
            found.extend(definitions)
            problems += bad
    if problems:
        raise DefinitionError(problems)
    return found

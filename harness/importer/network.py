"""Point every HTTP task of an imported workflow at the harness's local stub.

``https://api.example.com/v1/orders?x=1`` becomes ``http://stub/v1/orders?x=1``, and
the stub gets an echo route for ``/v1/orders``: the task gets an answer, and the
trace shows what it sent. A URI built at run time (``${...}``) cannot be checked, so
its expressions are replaced by ``_`` (``https://x/${workflow.input.id}`` becomes
``http://stub/_``). Every replacement is kept, for the scenario file's header.

A task that sets no timeouts gets explicit ones (``TIMEOUTS_MS``) that the stub meets on
every version: netflix:3.15.0's defaults (100 ms to connect, 150 ms to read) are short
enough that the stub's answer sometimes comes too late on a loaded machine, which would
make a difference of timing, not of the version.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from harness.scenarios.checks import STUB_HOST
from harness.scenarios.definitions import iter_tasks

_EXPRESSION = re.compile(r"\$\{[^}]*\}")
TIMEOUTS_MS = {"connectionTimeOut": 5000, "readTimeOut": 5000}


@dataclass(frozen=True, slots=True)
class Replacement:
    """One URI an imported HTTP task called, and what it calls now."""

    workflow: str
    ref: str
    field: str  # 'http_request.uri' or 'uri'
    original: str
    stub: str


class MissingUri(ValueError):
    """An HTTP task with no literal or computed uri at all."""


def stub_uri(uri: str) -> tuple[str, str]:
    """``uri`` pointed at the stub, and the stub route path that answers it."""
    literal = _EXPRESSION.sub("_", uri.strip())
    parts = urlsplit(literal)
    if parts.scheme in ("http", "https") and parts.netloc:
        path, query = parts.path or "/", parts.query
    else:  # no scheme: a computed base (``${workflow.input.base}/orders``) or a bare path
        rest = literal.partition("/")[2] if uri.strip().startswith("${") else literal
        path, _, query = rest.partition("?")
        path = path or "/dynamic"
    path = "/" + path.lstrip("/").replace(" ", "_")
    stub = f"http://{STUB_HOST}{path}" + (f"?{query}" if query else "")
    return stub, path


def rewrite_http(workflow: dict[str, Any]) -> tuple[dict[str, Any], list[Replacement]]:
    """A copy of ``workflow`` whose HTTP tasks call the stub; raises ``MissingUri``."""
    result = copy.deepcopy(workflow)
    replacements: list[Replacement] = []
    for task in iter_tasks(result.get("tasks")):
        if task.get("type") != "HTTP":
            continue
        params = task.get("inputParameters")
        ref = str(task.get("taskReferenceName"))
        holders: list[tuple[dict[str, Any], str]] = []
        if isinstance(params, dict):
            request = params.get("http_request")
            if isinstance(request, dict) and "uri" in request:
                holders.append((request, "http_request.uri"))
            if "uri" in params:
                holders.append((params, "uri"))
        if not holders:
            raise MissingUri(
                f"HTTP task '{ref}' of workflow '{workflow.get('name')}' has no "
                "inputParameters.http_request.uri (nor inputParameters.uri)"
            )
        for holder, field in holders:
            original = holder["uri"]
            if not isinstance(original, str):
                raise MissingUri(
                    f"HTTP task '{ref}' of workflow '{workflow.get('name')}': its uri is "
                    f"not a string ({type(original).__name__})"
                )
            if urlsplit(original).hostname == STUB_HOST and "${" not in original:
                continue  # already a scenario's stub call
            stub, _ = stub_uri(original)
            holder["uri"] = stub
            for key, value in TIMEOUTS_MS.items():
                holder.setdefault(key, value)
            replacements.append(Replacement(str(workflow.get("name")), ref, field, original, stub))
    return result, replacements


def stub_routes(replacements: list[Replacement]) -> list[dict[str, Any]]:
    """One echo route per path the rewritten tasks call."""
    paths = sorted({urlsplit(r.stub).path or "/" for r in replacements})
    return [{"path": path, "echo": True} for path in paths]

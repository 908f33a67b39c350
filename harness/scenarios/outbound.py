"""The check that HTTP tasks call only the local stub, wherever a scenario can name a URI.

A URI reaches an HTTP task from a workflow definition (in ``definitions:``, or registered
by a ``register`` or ``update`` step), and also from data the server reads at run time:
a start input, a ``call`` step's body, a worker's output or a stub route's response can
hold a dynamic fork's task list, or a URL that a task reads with ``${...}``. Definitions
are checked task by task; run-time data is walked whole: an HTTP task in it must call
the stub, and so must every text in it that is an http(s) URL.

``http://stub`` is matched without regard to case, as URLs' scheme and host are, here and
in the runner's rewrite (``runner/namespace.py``), so that what passes the check is what
reaches the stub.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from harness.documents.source import FieldPath, Problem, Source
from harness.scenarios.model import Scenario

STUB_HOST = "stub"  # HTTP tasks write http://stub/...; the runner points them at the stub
STUB_URI = re.compile(r"http://stub(:[0-9]+)?(?=[/?#]|$)", re.IGNORECASE)
_URL = re.compile(r"\s*https?://", re.IGNORECASE)

ALLOW_HINT = (
    "outbound calls are refused unless the scenario sets allow_outbound and the run passes "
    "--allow-outbound"
)


def calls_stub(uri: str) -> bool:
    """Whether ``uri`` is ``http://stub[:PORT]`` followed by a path, query or nothing."""
    return STUB_URI.match(uri) is not None


def http_uris(task: dict[str, Any]) -> list[tuple[FieldPath, Any]]:
    """The URIs an HTTP task calls, with their paths in the task (``None``: none given)."""
    if task.get("type") != "HTTP":
        return []
    params = task.get("inputParameters")
    if not isinstance(params, dict):
        return [(("inputParameters",), None)]
    found: list[tuple[FieldPath, Any]] = []
    request = params.get("http_request")
    if isinstance(request, dict) and "uri" in request:
        found.append((("inputParameters", "http_request", "uri"), request["uri"]))
    if "uri" in params:
        found.append((("inputParameters", "uri"), params["uri"]))
    return found or [(("inputParameters",), None)]


def uri_problems(source: Source, path: FieldPath, uri: Any) -> list[Problem]:
    """Why ``uri``, at ``path``, is not a call to the stub (nothing if it is)."""
    if not isinstance(uri, str):
        return [source.problem(path, "an HTTP task needs inputParameters.http_request.uri")]
    if "${" in uri:
        return [
            source.problem(
                path,
                f"the HTTP task's uri '{_short(uri)}' is computed at run time, so the harness "
                f"cannot check that it calls only the stub; write http://{STUB_HOST}/... or "
                "allow outbound calls",
            )
        ]
    if calls_stub(uri):
        return []
    try:
        host = urlsplit(uri.strip()).hostname
    except ValueError:  # such as an unclosed IPv6 bracket
        host = None
    if host == STUB_HOST:
        message = f"'{_short(uri)}' does not reach the stub, which answers http://{STUB_HOST}/PATH"
    else:
        message = (
            f"the HTTP task calls '{host or _short(uri)}', not the local stub; write "
            f"http://{STUB_HOST}/PATH ({ALLOW_HINT})"
        )
    return [source.problem(path, message)]


def run_time_problems(source: Source, path: FieldPath, value: Any) -> list[Problem]:
    """HTTP tasks and URLs in ``value``, data the server reads at run time, that leave the stub."""
    problems: list[Problem] = []
    checked: set[FieldPath] = set()
    pending: list[tuple[FieldPath, Any]] = [(path, value)]
    while pending:  # a loop, not recursion: the data may nest as deep as the limit allows
        where, item = pending.pop()
        if isinstance(item, dict):
            for sub, uri in http_uris(item):
                if uri is not None:  # a dynamic fork's tasks take their input elsewhere
                    checked.add((*where, *sub))
                    problems += uri_problems(source, (*where, *sub), uri)
            pending.extend(((*where, str(key)), child) for key, child in item.items())
        elif isinstance(item, list):
            pending.extend(((*where, index), child) for index, child in enumerate(item))
        elif (
            isinstance(item, str)
            and where not in checked
            and _URL.match(item)
            and not calls_stub(item)
        ):
            problems.append(
                source.problem(
                    where,
                    f"'{_short(item)}' is a URL of a host other than the local stub, in "
                    "data the server reads at run time (where an HTTP task can take its "
                    f"uri from); write http://{STUB_HOST}/PATH ({ALLOW_HINT})",
                )
            )
    return sorted(problems, key=lambda p: (p.line, p.column))


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def declared_hosts(scenarios: Iterable[Scenario]) -> tuple[str, ...]:
    """Every HOST:PORT the scenarios' ``allow_outbound`` lists declare, once each."""
    return tuple(dict.fromkeys(h for s in scenarios if s.allow_outbound for h in s.outbound_hosts))

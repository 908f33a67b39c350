"""The matrix of clients and servers of a ``clients`` run: ``clients.json`` for machines (and for
MIGRATION.md's client section), and ``clients.md`` rendered from it alone.

Each cell: the calls the client's script made on the server, those the SDK failed on
(each with its exception and the server's answer behind it), a driver that hung or
crashed, and for a candidate the comparison's verdict against the same client on the
baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.classify import RunResult
from harness.clients.drive import DriverRun
from harness.clients.known import ClientSpec
from harness.clients.trace import NOT_CALLED, breakages, worker_errors

MATRIX_JSON = "clients.json"
MATRIX_MD = "clients.md"
FORMAT = 1


def matrix(
    baseline: str,
    candidates: Sequence[str],
    specs: Sequence[ClientSpec],
    runs: Mapping[tuple[str, str], DriverRun],
    results: Sequence[RunResult],
) -> dict[str, Any]:
    """clients.json: every client on every target (the first run on each)."""
    targets = [baseline, *candidates]
    verdicts = {
        (r.candidate.get("target"), s.name): s.verdict for r in results for s in r.scenarios
    }
    return {
        "clients_format": FORMAT,
        "baseline": baseline,
        "targets": targets,
        "clients": [
            {
                "client": spec.name,
                "sdk": spec.sdk,
                "version": spec.version,
                "package": spec.package,
                "cells": [
                    _cell(target, runs.get((target, spec.name)), verdicts.get((target, spec.name)))
                    for target in targets
                ],
            }
            for spec in specs
        ],
    }


def _cell(target: str, run: DriverRun | None, verdict: str | None) -> dict[str, Any]:
    if run is None:
        return {"target": target, "ran": False}
    made = [r for r in run.records if not _not_called(r)]
    return {
        "target": target,
        "ran": True,
        "problem": run.problem,
        "log_tail": list(run.log_tail[-3:]) if run.problem is not None else [],
        "made": len(made),
        "failed": [
            {
                "call": b.call,
                "raised": b.raised,
                "message": b.message,
                "status": b.status,
                "response": b.response,
            }
            for b in breakages(run)
        ],
        "worker_errors": worker_errors(run),
        "verdict": verdict,
    }


def _not_called(record: Mapping[str, Any]) -> bool:
    error = record.get("error")
    return isinstance(error, Mapping) and error.get("type") in NOT_CALLED


def render_matrix(doc: Mapping[str, Any]) -> str:
    """clients.md from clients.json."""
    targets = list(doc["targets"])
    lines = [
        "# Client SDKs on each server",
        "",
        f"Baseline: {doc['baseline']}. Each cell: the calls of the client's script that failed "
        "(of all it made), and for a candidate the comparison with the same client on the "
        "baseline (report.md has every difference).",
        "",
        "| client | " + " | ".join(targets) + " |",
        "|---" * (len(targets) + 1) + "|",
    ]
    details: list[str] = []
    for client in doc["clients"]:
        name = client["client"]
        lines.append(f"| {name} | " + " | ".join(_text(c) for c in client["cells"]) + " |")
        for cell in client["cells"]:
            details.extend(_details(name, cell))
    lines += ["", "## What failed, call by call", ""]
    lines += details or ["Every call of every client succeeded on every server."]
    return "\n".join(lines) + "\n"


def _text(cell: Mapping[str, Any]) -> str:
    if not cell.get("ran"):
        return "not run"
    if cell.get("problem") is not None:
        return f"**broken**: {cell['problem']}"
    failed, made = len(cell["failed"]), cell["made"]
    text = f"{made - failed}/{made} calls ok"
    if failed:
        text = f"**{failed} failed**, " + text
    if cell.get("worker_errors"):
        text += f"; **workers refused** ({len(cell['worker_errors'])} kinds)"
    if cell.get("verdict") is not None:
        text += f"; {str(cell['verdict']).replace('_', ' ')}"
    return text


def _details(client: str, cell: Mapping[str, Any]) -> list[str]:
    target = cell["target"]
    lines = []
    if cell.get("problem") is not None:
        tail = " / ".join(cell.get("log_tail") or [])
        lines.append(f"- {client} on {target}: {cell['problem']}" + (f" ({tail})" if tail else ""))
    lines += [
        f"- {client} on {target}: `{f['call']}` raised {f['raised']}: {f['message']} "
        f"({f['response']})"
        for f in cell.get("failed") or []
    ]
    lines += [f"- {client} on {target}: its workers' {w}" for w in cell.get("worker_errors") or []]
    return lines

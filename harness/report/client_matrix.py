"""The matrix of clients and servers (``clients.json`` of ``conductor-compat clients run``)
as Markdown: ``clients.md`` whole, and its table alone for report.md. Built from the
document alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MATRIX_MD = "clients.md"


def render_matrix(doc: Mapping[str, Any]) -> str:
    """clients.md from clients.json."""
    lines = [
        "# Client SDKs on each server",
        "",
        f"Baseline: {doc['baseline']}. Each cell: the calls of the client's script that failed "
        "(of all it made), and for a candidate the comparison with the same client on the "
        "baseline (report.md has every difference).",
        "",
        *matrix_table(doc),
    ]
    details = [
        line
        for client in doc["clients"]
        for cell in client["cells"]
        for line in _details(client["client"], cell)
    ]
    lines += ["", "## What failed, call by call", ""]
    lines += details or ["Every call of every client succeeded on every server."]
    return "\n".join(lines) + "\n"


def matrix_table(doc: Mapping[str, Any]) -> list[str]:
    """One row per client, one column per server."""
    lines = table_head([str(t) for t in doc["targets"]])
    for client in doc["clients"]:
        cells = " | ".join(_text(c) for c in client["cells"])
        lines.append(f"| {client['client']} | {cells} |")
    return lines


def table_head(targets: Sequence[str]) -> list[str]:
    return ["| client | " + " | ".join(targets) + " |", "|---" * (len(targets) + 1) + "|"]


def _text(cell: Mapping[str, Any]) -> str:
    if not cell.get("ran"):
        return f"**{cell['problem']}**" if cell.get("problem") else "not run"
    if cell.get("problem") is not None:
        return f"**broken**: {cell['problem']}"
    failed, made = len(cell["failed"]), cell["made"]
    text = f"{made - failed}/{made} calls ok"
    if failed:
        text = f"**{failed} failed**, " + text
    if cell.get("worker_errors"):
        text += f"; **workers refused** ({_kinds(len(cell['worker_errors']))})"
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


def _kinds(n: int) -> str:
    return f"{n} kind" if n == 1 else f"{n} kinds"

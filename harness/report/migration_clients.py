"""MIGRATION.md's section on client SDKs, from a published client matrix (clients.json of
``conductor-compat clients run``): each client on each server, and for each SDK line
which client to move to, and in which order, server first or clients first.

A line's client "from" is the oldest the matrix has (the Netflix Java client before the
conductor-oss one), "to" the newest. Server first: "from" on a candidate, against "from"
on the baseline. Clients first: "to" on the baseline, against "from" there. A call is
named by the script's call (docs/client-drivers.md), with the exception the SDK raised
and the server's answer behind it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from packaging.version import InvalidVersion, Version

from harness.report.client_matrix import table_head

LINES = {"java-netflix": "Java", "java-oss": "Java", "python": "Python", "js": "JavaScript"}
_SDK_ORDER = ("java-netflix", "java-oss", "python", "js")

Cell = Mapping[str, Any]


def render_clients(doc: Mapping[str, Any]) -> str:
    baseline, targets = str(doc["baseline"]), [str(t) for t in doc["targets"]]
    clients = sorted(doc["clients"], key=_age)
    out = [
        "## Client SDKs",
        "",
        "Each client's script (docs/client-drivers.md: definitions, starts, the SDK's own "
        "workers, task calls, workflow actions, search) played through the SDK's public API "
        f"on each server, `conductor-compat clients run` (baseline {baseline}; the published "
        "matrix, `clients.json`, in reports/published/). A cell: the calls the SDK failed on, "
        "of those it made.",
        "",
        *table_head(targets),
    ]
    for client in clients:
        cells = {c["target"]: c for c in client["cells"]}
        row = [_cell(cells.get(t)) for t in targets]
        out.append(f"| {client['client']} | " + " | ".join(row) + " |")
    out.append("")
    out.append("### Which client, and in which order")
    out.append("")
    for line, members in _lines(clients).items():
        out.extend(_advice(line, members, baseline, targets[1:]))
    return "\n".join(out) + "\n"


def _age(client: Mapping[str, Any]) -> tuple[int, Version | str]:
    sdk = str(client["sdk"])
    order = _SDK_ORDER.index(sdk) if sdk in _SDK_ORDER else len(_SDK_ORDER)
    try:
        return order, Version(str(client["version"]))
    except InvalidVersion:
        return order, Version("0")


def _lines(clients: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for client in clients:
        grouped.setdefault(LINES.get(str(client["sdk"]), str(client["sdk"])), []).append(client)
    return grouped


def _cell(cell: Cell | None) -> str:
    if cell is None or not cell.get("ran"):
        return "not run"
    if cell.get("problem") is not None:
        return f"broken: {cell['problem']}"
    failed = cell.get("failed") or []
    text = f"all {cell['made']} calls ok"
    if failed:
        text = f"{len(failed)} of {cell['made']} failed: " + ", ".join(
            f"`{f['call']}`" for f in failed
        )
    workers = [str(w).split(" (", 1)[0] for w in cell.get("worker_errors") or []]
    if workers:
        text += "; its workers refused: " + ", ".join(f"`{w}`" for w in workers)
    return text


def _failed(client: Mapping[str, Any], target: str) -> dict[str, Mapping[str, Any]] | None:
    """The calls ``client`` failed on ``target`` by name; None when it did not run whole."""
    for cell in client["cells"]:
        if cell["target"] == target:
            if not cell.get("ran") or cell.get("problem") is not None:
                return None
            failed = {str(f["call"]): f for f in cell.get("failed") or []}
            for line in cell.get("worker_errors") or []:  # refused, the task times out
                request = str(line).split(" (", 1)[0]
                failed[f"its workers' {request}"] = {"raised": "nothing", "response": line}
            return failed
    return None


def _calls(failures: Mapping[str, Mapping[str, Any]]) -> str:
    return "; ".join(
        f"`{name}` ({f['response']})"
        if f["raised"] == "nothing"
        else f"`{name}` ({f['raised']}; the server: {f['response']})"
        for name, f in failures.items()
    )


def _advice(
    line: str, members: Sequence[Mapping[str, Any]], baseline: str, candidates: Sequence[str]
) -> list[str]:
    old, new = members[0], members[-1]
    head = f"- **{line}**: from {old['client']}" + (
        f" to {new['client']}." if new is not old else " (the one client of its line here)."
    )
    if new is not old and new.get("runs_on") and new.get("runs_on") != old.get("runs_on"):
        head = f"{head[:-1]} (it runs on {new['runs_on']}; {old['client']} on {old['runs_on']})."
    out = [head]
    old_base, new_base = _failed(old, baseline), _failed(new, baseline)
    if old_base:
        out.append(f"  - Already on {baseline}, {old['client']}: {_calls(old_base)}.")
    for candidate in candidates:
        old_cand, new_cand = _failed(old, candidate), _failed(new, candidate)
        if old_base is None or old_cand is None or new_base is None or new_cand is None:
            out.append(f"  - {candidate}: a driver did not run through; see the matrix.")
            continue
        server_first = {k: v for k, v in old_cand.items() if k not in old_base}
        clients_first = {k: v for k, v in new_base.items() if k not in old_base}
        if not server_first:
            order = (
                f"server first: {old['client']} makes every call on {candidate} that it makes "
                f"on {baseline}"
            )
        elif new is not old and not clients_first:
            order = (
                f"clients first: {new['client']} on {baseline} fails nothing that "
                f"{old['client']} does not fail there; upgrading the server first breaks "
                + _calls(server_first)
            )
        elif new is old:
            order = "upgrading the server breaks " + _calls(server_first)
        else:
            order = "either order breaks calls: server first, " + _calls(server_first)
            if new is not old:
                order += "; clients first, " + (_calls(clients_first) or "none")
        out.append(f"  - {candidate}: {order}.")
        if new is not old and new_cand:
            out.append(
                f"    Still failing with {new['client']} on {candidate}: {_calls(new_cand)}."
            )
    return out

"""bisect.json and bisect.md: a bisect's answer in words, and the table of its probes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def summary(document: dict[str, Any]) -> tuple[str, str]:
    probed = len(document["probes"])
    repeats = document.get("repeats", 1)
    runs = f", {repeats} runs each" if repeats > 1 else ""
    of = f"{probed} of {len(document['versions'])} versions probed{runs}"
    undecided = document.get("undecided", [])
    cut = "; ".join(_cannot_tell(p) for p in document["probes"] if p.get("target") in undecided)
    if not document["found"] and undecided:
        return "undecided", (
            f"cannot tell: {cut}; both ends must record the steps where it shows and the "
            f"reference must not vary in it (another range, other scenarios, or the "
            f"servers' settings with --server-property) ({of})"
        )
    if not document["found"]:
        return "not_found", (
            f"{document['to']} does not show {document['sought']} against "
            f"{document['from']} in these scenarios ({of}){_cut_short(document)}"
        )
    how = _how(document)
    if undecided:
        return "found", (
            f"the first version that shows {document['sought']}{how} is after "
            f"{document['last_without']}, up to {document['first']}: {cut} ({of})"
        )
    return "found", (
        f"{document['first']} is the first version that shows {document['sought']}{how}; "
        f"{document['last_without']} does not ({of}){_sometimes(document)}"
        f"{_cut_short(document)}"
    )


def _how(document: dict[str, Any]) -> str:
    if document.get("repeats", 1) < 2:
        return ""
    return " in every run" if document.get("every_run", True) else " in any run"


def _sometimes(document: dict[str, Any]) -> str:
    """The probes that show it in some of their runs only, when the search sought every
    run: where a difference that became steady was intermittent before."""
    some = [
        f"{p['target']} ({p['runs_showing']} of {p['runs']})"
        for p in document["probes"]
        if not p.get("reference") and 0 < p.get("runs_showing", 0) < p.get("runs", 1)
    ]
    return f"; in some runs only: {', '.join(some)}" if some else ""


def _cut_short(document: dict[str, Any]) -> str:
    """The runs that did not finish in probes that could tell: compared up to the step at
    which they stopped, or left out."""
    cut = [
        f"{p['target']} {', '.join(p['unfinished'])}"
        for p in document["probes"]
        if p.get("unfinished") and p.get("shows") is not None
    ]
    return (
        f"; runs that did not finish (compared only where both runs recorded): {'; '.join(cut)}"
        if cut
        else ""
    )


def _cannot_tell(probe: dict[str, Any]) -> str:
    if probe.get("reference") and probe.get("runs_showing"):
        return (
            f"{probe['target']} differs in it from its own first run in "
            f"{probe['runs_showing']} of its {probe['runs']} other runs (it varies "
            "between runs of one version)"
        )
    return f"{probe['target']} did not finish {', '.join(probe.get('unfinished', []))}"


def write(out: Path, document: dict[str, Any]) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {"bisect.json": out / "bisect.json", "bisect.md": out / "bisect.md"}
    files["bisect.json"].write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    files["bisect.md"].write_text(markdown(document), encoding="utf-8")
    return files


def markdown(document: dict[str, Any]) -> str:
    _, reason = summary(document)
    lines = [
        f"# bisect: {document['sought']}",
        "",
        f"{reason}.",
        "",
        f"Versions from {document['from']} to {document['to']} (measured "
        f"{document['measured']}), each compared with {document['from']}"
        + (
            f" run by run ({document['repeats']} runs each; {document['from']}'s later "
            "runs with its first)"
            if document.get("repeats", 1) > 1
            else ""
        )
        + ":",
        "",
        "| version | shows it | differences | scenarios |",
        "|---|---|---|---|",
    ]
    probed = {p["target"]: p for p in document["probes"]}
    for version in document["versions"]:
        p = probed.get(version)
        if p is None:
            lines.append(f"| {version} | not probed | | |")
        elif p.get("shows") is None:
            lines.append(f"| {version} | cannot tell: {_cannot_tell(p).partition(' ')[2]} | | |")
        elif version == document["from"]:
            lines.append(f"| {version} | (the reference) | | |")
        else:
            shows = "yes" if p["shows"] else "no"
            if 0 < p.get("runs_showing", 0) < p.get("runs", 1):
                shows += f" (in {p['runs_showing']} of {p['runs']} runs compared)"
            if p.get("unfinished"):
                shows += f"; did not finish {', '.join(p['unfinished'])}"
            lines.append(
                f"| {version} | {shows} | {p['differences']} | {', '.join(p['scenarios'])} |"
            )
    return "\n".join(lines) + "\n"

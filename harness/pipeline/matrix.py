"""The matrix of clients and servers of a ``clients`` run: ``clients.json`` for machines (and for
MIGRATION.md's client section); ``harness/report/client_matrix.py`` renders it.

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
FORMAT = 1


def matrix(
    baseline: str,
    candidates: Sequence[str],
    specs: Sequence[ClientSpec],
    runs: Mapping[tuple[str, str], DriverRun],
    results: Sequence[RunResult],
    *,
    unbuilt: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """clients.json: every client on every target (the first run on each); a client whose
    driver could not be built (``unbuilt``: client -> why) ran nowhere, and says why."""
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
                "runs_on": spec.language,
                "cells": [
                    _cell(target, runs.get((target, spec.name)), verdicts.get((target, spec.name)))
                    if spec.name not in (unbuilt or {})
                    else _unbuilt(target, (unbuilt or {})[spec.name])
                    for target in targets
                ],
            }
            for spec in specs
        ],
    }


def _unbuilt(target: str, why: str) -> dict[str, Any]:
    return {"target": target, "ran": False, "problem": f"not built: {why}"}


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

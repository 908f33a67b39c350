"""Notices from the logs of the servers a run started: a background job that kept failing
(``targets.serverlog``) is named on the report of the comparison it touched, with the log
it is in, how often, from when, and its cause. A run's servers keep their logs under its
folder (``servers/STAMP/TARGET/server.log``, a restarted one's under ``restart-N/``), so
a resumed run reads those of every earlier part too."""

from __future__ import annotations

from pathlib import Path

from harness.classify import RunResult
from harness.targets.serverlog import troubles
from harness.targets.spec import parse_target


def server_logs(root: Path, target: str) -> list[Path]:
    """The logs of every server of ``target`` that the run in ``root`` started."""
    try:
        name = parse_target(target).slug
    except ValueError:
        return []
    servers = root / "servers"
    found = [*servers.glob(f"*/{name}/server.log"), *servers.glob(f"*/restart-*/{name}/server.log")]
    return sorted(found)


def log_notices(root: Path, target: str, side: str) -> list[str]:
    """One notice per error that a background job of ``target``'s servers kept logging."""
    notices = []
    for log in server_logs(root, target):
        for trouble in troubles(log):
            cause = f" (caused by {trouble.cause})" if trouble.cause else ""
            notices.append(
                f"on {side}, the server logged '{trouble.logger}: {trouble.message}' "
                f"{trouble.count} times, the first {trouble.first_s} s after it started"
                f"{cause}, in {log.relative_to(root)}: a background job (the sweeper, an "
                "event queue, a system task worker) kept failing, and a run played after "
                "that may show the failure rather than the version's behaviour"
            )
    return notices


def add_log_notices(root: Path, results: list[RunResult], baseline: str | None) -> None:
    """Each comparison gets its candidate's notices, and the live baseline's (compare)."""
    first = log_notices(root, baseline, "the baseline") if baseline else []
    for result in results:
        target = str(result.candidate.get("target") or "")
        result.notices += [*first, *log_notices(root, target, target)]

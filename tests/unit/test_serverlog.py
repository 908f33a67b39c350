"""A server's own log, read for a background job that kept failing: the logs of real
servers (fixtures/serverlogs/), and the notices a run's report gets from them."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.classify import RunResult
from harness.pipeline.serverlogs import add_log_notices, log_notices, server_logs
from harness.targets.serverlog import troubles
from tests.unit.traces import FIXTURES

LOGS = FIXTURES / "serverlogs"
SWEEPER = "com.netflix.conductor.core.reconciliation.WorkflowReconciler"


def test_a_sweeper_that_fails_on_every_pass_is_found_with_its_cause() -> None:
    """netflix 3.5.2 in the whole library's gate: from 185.8 s on, every pass of the sweeper
    failed in the in-memory store's queue (the log's start, then 28 passes of it)."""
    (trouble,) = troubles(LOGS / "netflix-3.5.2-sweeper-fails.server.log")
    assert (trouble.logger, trouble.message) == (SWEEPER, "Error when polling for workflows")
    assert (trouble.count, trouble.first_s) == (28, 185.8)
    assert trouble.cause == (
        "java.lang.NullPointerException at "
        "org.rarefiedredis.redis.RedisMock.zrangebyscore(RedisMock.java:1753)"
    )
    assert troubles(LOGS / "netflix-3.5.2-sweeper-fails.server.log", at_least=29) == []


def test_errors_of_requests_and_a_few_of_a_background_job_are_not_troubles() -> None:
    """netflix 3.8.3's gate: dozens of errors the scenarios provoked through the API (the
    request threads), a handful from the queue's unack job."""
    log = LOGS / "netflix-3.8.3-gate.server.log"
    errors = [line for line in log.read_text().splitlines() if "] ERROR " in line]
    requests = [line for line in errors if "http-nio" in line]
    assert len([line for line in requests if "ApplicationExceptionMapper" in line]) >= 20
    assert 0 < len(errors) - len(requests) < 20
    assert troubles(log) == []
    assert troubles(LOGS / "no-such.server.log") == []


def _run_folder(tmp_path: Path) -> Path:
    """A run folder as a gate of netflix:3.5.2 left it: a server, and one restarted."""
    first = tmp_path / "servers" / "20261207T170500-22904" / "netflix_3.5.2"
    again = tmp_path / "servers" / "20261207T170500-22904" / "restart-1" / "netflix_3.5.2"
    for folder, log in ((first, "netflix-3.5.2-sweeper-fails"), (again, "netflix-3.8.3-gate")):
        folder.mkdir(parents=True)
        shutil.copy(LOGS / f"{log}.server.log", folder / "server.log")
    return tmp_path


def test_a_run_s_report_names_the_trouble_its_log_and_its_side(tmp_path: Path) -> None:
    root = _run_folder(tmp_path)
    assert [p.relative_to(root).parts[-3:] for p in server_logs(root, "netflix:3.5.2")] == [
        ("20261207T170500-22904", "netflix_3.5.2", "server.log"),
        ("restart-1", "netflix_3.5.2", "server.log"),
    ]
    (notice,) = log_notices(root, "netflix:3.5.2", "netflix:3.5.2")
    assert notice.startswith(f"on netflix:3.5.2, the server logged '{SWEEPER}: Error when")
    assert "28 times, the first 185.8 s after it started" in notice
    assert "servers/20261207T170500-22904/netflix_3.5.2/server.log" in notice
    assert log_notices(root, "oss:3.32.1", "oss:3.32.1") == []
    assert log_notices(root, "not a target", "x") == []
    result = RunResult("incompatible", "", "behavioral", {}, {"target": "netflix:3.5.2"}, [])
    add_log_notices(root, [result], "netflix:3.5.2")  # as if 3.5.2 were a compare's baseline
    assert [n.split(",")[0] for n in result.notices] == ["on the baseline", "on netflix:3.5.2"]

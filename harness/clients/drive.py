"""One client driver played against one server, through the recording proxy.

The driver runs in a process group of its own (the SDK's worker framework may start
processes of its own) that dies with conductor-compat and is stopped whole when the run
ends, whatever ends it. A driver that does not finish within its time is stopped: the run
is a hang, a finding about the client on that server, not an error of the harness.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.clients.build import BuiltDriver
from harness.clients.proxy import Exchange, RecordingProxy
from harness.targets import procs
from harness.targets.readiness import log_tail

SCRIPT_TIMEOUT_S = 120  # each wait of the client script, in the driver
RUN_TIMEOUT_S = 300  # the whole driver run, before it counts as a hang


@dataclass(frozen=True, slots=True)
class DriverRun:
    """What one driver did on one server: its records (what the SDK returned or raised, call
    by call), what the server answered (``exchanges``), how the driver ended."""

    client: str
    server: str
    prefix: str
    records: list[dict[str, Any]]
    driver: dict[str, Any]
    exchanges: list[Exchange]
    exit_code: int | None  # None: stopped after RUN_TIMEOUT_S
    seconds: float
    log: Path
    log_tail: list[str] = field(default_factory=list)

    @property
    def problem(self) -> str | None:
        """Why the run itself is broken (a hang, a crash, no records), or None."""
        if self.exit_code is None:
            return f"the driver did not finish within {RUN_TIMEOUT_S} s (a hang)"
        if self.exit_code != 0:
            return f"the driver exited with {self.exit_code}"
        if not self.records:
            return "the driver wrote no records"
        return None


def _env() -> dict[str, str]:
    """The driver's environment: nothing that would send it through a proxy elsewhere."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "JAVA_HOME")
    return {k: v for k, v in os.environ.items() if k in keep}


async def drive(
    built: BuiltDriver,
    server: str,
    url: str,
    out: Path,
    *,
    prefix: str,
    script_timeout_s: float = SCRIPT_TIMEOUT_S,
    run_timeout_s: float = RUN_TIMEOUT_S,
) -> DriverRun:
    """Play ``built``'s client script against the server at ``url`` (its API root, ending
    in /api); the records, the exchanges and the driver's log go under ``out``. Each wait
    of the script lasts ``script_timeout_s`` at most, the whole run ``run_timeout_s``."""
    out.mkdir(parents=True, exist_ok=True)
    records_file, log = out / "records.json", out / "driver.log"
    began = time.monotonic()
    async with RecordingProxy(url) as proxy:
        args = ("--server", proxy.url, "--prefix", prefix, "--out", str(records_file))
        argv = [*built.argv, *args, "--timeout", f"{script_timeout_s:g}"]
        proc = procs.spawn(argv, log=log, cwd=built.folder, env=_env())
        try:  # the waiting thread ends when the driver does, stopped below at the latest
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.to_thread(proc.wait), run_timeout_s)
            exit_code = proc.poll()
        finally:
            await asyncio.to_thread(procs.stop, proc, 5.0)
        exchanges = proxy.exchanges
    document = _read(records_file)
    with (out / "exchanges.jsonl").open("w", encoding="utf-8") as sink:
        for exchange in exchanges:
            sink.write(json.dumps(exchange.to_json()) + "\n")
    return DriverRun(
        built.spec.name,
        server,
        prefix,
        list(document.get("records") or []),
        dict(document.get("driver") or {}),
        exchanges,
        exit_code,
        round(time.monotonic() - began, 1),
        log,
        log_tail(log, 20) if exit_code != 0 else [],
    )


def read_run(out: Path, client: str, server: str, prefix: str) -> DriverRun:
    """A finished run as ``drive`` left it in ``out`` (records.json, exchanges.jsonl and
    driver.log), e.g. recorded earlier; the exit code is 0 when it wrote records."""
    document = _read(out / "records.json")
    lines = (out / "exchanges.jsonl").read_text(encoding="utf-8").splitlines()
    exchanges = [Exchange(**json.loads(line)) for line in lines if line.strip()]
    records = list(document.get("records") or [])
    return DriverRun(
        client,
        server,
        prefix,
        records,
        dict(document.get("driver") or {}),
        exchanges,
        0 if records else 1,
        0.0,
        out / "driver.log",
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}

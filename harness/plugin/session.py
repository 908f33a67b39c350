"""One test session's servers and its one comparison.

Servers start on first use and stay up until the session ends (under pytest-xdist, once
per worker). They live on one event loop owned by the session and driven from pytest's
main thread, the thread that starts them, so the kernel still stops them if the test
process dies. The comparison of the collected scenarios runs once per session: under
xdist, the first worker that needs it runs it while the others wait on a file lock, and
every worker reads the same report.json.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from harness.errors import ServerDiedError
from harness.pipeline import Plan, RunFolder, execute, play
from harness.pipeline import events as ev
from harness.pipeline.plan import slug
from harness.plugin.settings import PluginSettings
from harness.scenarios import Scenario, load_scenario
from harness.targets import get_profile
from harness.targets.model import Isolation, RunningTarget
from harness.targets.provision import start_target
from harness.targets.spec import parse_target

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Played:
    """One scenario's run on one target: its trace (trace.schema.json) and where it is."""

    trace: dict[str, Any]
    path: Path

    @property
    def status(self) -> str:
        """completed, failed_expectation, error or not_applicable."""
        return str(self.trace["outcome"]["status"])

    @property
    def reason(self) -> str | None:
        reason = self.trace["outcome"].get("reason")
        return None if reason is None else str(reason)

    @property
    def workflows(self) -> list[dict[str, Any]]:
        """The workflows as the last step's snapshots left them (ids as the server gave)."""
        for step in reversed(self.trace["steps"]):
            if step.get("snapshots"):
                return list(step["snapshots"])
        return list(self.trace["outcome"].get("last_snapshot") or [])


class CompatSession:
    """What the ``conductor_compat`` fixture gives a test, and what scenario items use."""

    def __init__(
        self, settings: PluginSettings, folder: Path, emit: Callable[[ev.Event], None]
    ) -> None:
        self.settings = settings
        self.folder = folder
        self._emit = emit
        self._loop = asyncio.new_event_loop()
        self._stack = AsyncExitStack()
        self._servers: dict[str, RunningTarget] = {}
        self._report: dict[str, Any] | None = None
        self._failure: str | None = None
        self._played = 0
        self.files: list[Path] = []  # the selected scenario items' files

    # -- servers and single runs ---------------------------------------------------------

    def server(self, target: str) -> RunningTarget:
        """The target's server, started on first use and kept until the session ends."""
        if target not in self._servers:
            self._servers[target] = self._run(self._start(target))
        return self._servers[target]

    def play(self, scenario: Scenario | Path | str, target: str) -> Played:
        """Play one scenario file on ``target`` and return its trace."""
        loaded = scenario if isinstance(scenario, Scenario) else load_scenario(Path(scenario))
        server = self.server(target)
        self._played += 1
        out = self.folder / "played" / f"{self._played}-{slug(target)}"
        summary = self._run(play([loaded], server, out, 1, self._emit, name=target))
        if summary.death is not None:
            raise ServerDiedError(summary.death.summary(), details=list(summary.death.log_tail))
        (finished,) = summary.finished
        trace: dict[str, Any] = json.loads(finished.path.read_text(encoding="utf-8"))
        return Played(trace, finished.path)

    async def _start(self, target: str) -> RunningTarget:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")  # xdist workers share folder
        workdir = self.folder / "servers" / worker / slug(target)
        server = await start_target(
            parse_target(target),
            profile=get_profile(self.settings.profile),
            workdir=workdir,
            stack=self._stack,
            runtime=self.settings.runtime,
            isolation=Isolation(),
        )
        return server

    async def _start_all(self, targets: Sequence[str]) -> None:
        """Start the targets not yet running, at once."""
        missing = [t for t in targets if t not in self._servers]
        started = await asyncio.gather(*(self._start(t) for t in missing))
        self._servers.update(zip(missing, started, strict=True))

    # -- the comparison of the collected scenarios ---------------------------------------

    def report(self) -> dict[str, Any]:
        """report.json of the one comparison this test run makes (or, under xdist, that
        another worker made), of the selected scenario items' files, else of the configured
        scenario folders; raises ``ComparisonFailed`` if it could not be made."""
        if self._report is None and self._failure is None:
            with _locked(self.folder / "comparison"):
                done = self.folder / "comparison" / "report.json"
                if not done.is_file():
                    self._compare(self.files or self.settings.scenarios)
                if done.is_file():
                    self._report = json.loads(done.read_text(encoding="utf-8"))
        if self._report is None:
            raise ComparisonFailed(self._failure or "the comparison wrote no report")
        return self._report

    def _compare(self, files: Sequence[Path]) -> None:
        s = self.settings
        plan = Plan(
            "gate" if s.recorded_baseline else "compare",
            s.baseline,
            tuple(c for c in s.candidates if c != s.baseline),
            tuple(str(f) for f in sorted(set(files))),
            command=("pytest",),
            jobs=s.jobs,
            profile=s.profile,
            runtime=s.runtime,
            fail_on=s.fail_on,
            fail_on_known=s.fail_on_known,
            accept=s.accept,
        )
        try:
            self._run(self._start_all(s.targets))
            folder = RunFolder(self.folder / "comparison")
            self._run(execute(plan, folder, self._emit, servers=dict(self._servers)))
        except Exception as exc:  # noqa: BLE001 - every item reports it, with its reason
            self._failure = f"{type(exc).__name__}: {exc}"
            details = getattr(exc, "details", None)
            if details:
                self._failure += "\n" + "\n".join(str(d) for d in details)

    # -- the loop ------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        task = self._loop.create_task(coro)
        try:
            return self._loop.run_until_complete(task)
        except BaseException:
            if not task.done():  # Ctrl-C: let the run stop its servers and save its reports
                task.cancel()
                with contextlib.suppress(BaseException):  # the first error is the one raised
                    self._loop.run_until_complete(task)
            raise

    def close(self) -> None:
        """Stop every server this session started."""
        try:
            self._loop.run_until_complete(self._stack.aclose())
        finally:
            self._servers.clear()
            self._finish_tasks()
            self._loop.close()

    def _finish_tasks(self) -> None:
        """Cancel what is still pending on the loop (a relay's handler of a connection that
        its close cut) and let it end, as ``asyncio.run`` does, so that no task is
        destroyed pending."""
        pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            gathered = asyncio.gather(*pending, return_exceptions=True)
            self._loop.run_until_complete(gathered)
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())


class ComparisonFailed(Exception):
    """The session's comparison ended without a report (a server that did not start)."""


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f".{folder.name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

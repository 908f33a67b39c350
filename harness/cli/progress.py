"""Live progress of a compare or gate run: a consumer of the run's event stream.

On a terminal: one line per target (state, scenario runs done, running, failed),
redrawn in place, and a final table. In CI or with output redirected: plain lines, one
per event worth a log line. ``quiet`` prints nothing (the command prints the verdict);
``verbose`` adds a line per scenario run on a terminal too.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TextIO

from harness.pipeline import events as ev

MODES = ("live", "plain", "quiet")


def choose_mode(stream: TextIO, *, quiet: bool) -> str:
    if quiet:
        return "quiet"
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    dumb = os.environ.get("TERM", "") in ("", "dumb")
    return "live" if stream.isatty() and not ci and not dumb else "plain"


@dataclass(slots=True)
class TargetLine:
    target: str
    role: str
    state: str = "waiting"
    total: int = 0
    done: int = 0
    running: int = 0
    failed: int = 0
    recorded: bool = False
    start_s: float | None = None

    def render(self, width: int) -> str:
        if self.recorded:
            return f"  {self.target:<{width}}  baseline  recorded traces ({self.done} runs)"
        bar = _bar(self.done, self.total)
        text = (
            f"  {self.target:<{width}}  {self.role:<9} {self.state:<10} {bar} "
            f"{self.done}/{self.total} done"
        )
        if self.running:
            text += f", {self.running} running"
        if self.failed:
            text += f", {self.failed} not completed"
        return text


def _bar(done: int, total: int, size: int = 20) -> str:
    filled = size if total == 0 else round(size * done / total)
    return "[" + "#" * filled + "." * (size - filled) + "]"


class Display:
    """Call with each event; ``close`` restores a clean terminal line."""

    def __init__(self, stream: TextIO = sys.stderr, *, mode: str = "plain", verbose: bool = False):
        self.stream = stream
        self.mode = mode
        self.verbose = verbose
        self.lines: dict[str, TargetLine] = {}
        self.drawn = 0

    def __call__(self, event: ev.Event) -> None:
        if self.mode == "quiet":
            return
        message = self._update(event)
        if self.mode == "live":
            self._erase()
            if message and (self.verbose or not isinstance(event, ev.ScenarioFinished)):
                self._print(message)
            if not isinstance(event, ev.RunFinished):
                self._draw()
        elif message:
            self._print(message)
        if isinstance(event, ev.RunFinished):
            self._final(event)

    def _update(self, event: ev.Event) -> str | None:
        if isinstance(event, ev.RunPlanned):
            for t in event.targets:
                self.lines[t.target] = TargetLine(
                    t.target, t.role, total=t.runs + t.done, done=t.done, recorded=t.recorded
                )
            todo = sum(t.runs for t in event.targets)
            verb = "resuming" if event.resumed else "running"
            return (
                f"{verb} {event.scenarios} scenarios: {todo} scenario runs to make; "
                f"run folder {event.folder}"
            )
        if isinstance(event, ev.TargetsStarting):
            for target in event.targets:
                self.lines[target].state = "starting"
            return f"starting {', '.join(event.targets)} ..."
        if isinstance(event, ev.TargetReady):
            line = self.lines[event.target]
            line.state, line.start_s = "running", event.seconds
            return f"{event.target} ready at {event.url} in {event.seconds:.1f} s"
        if isinstance(event, ev.ScenarioStarted):
            self.lines[event.target].running += 1
            return None
        if isinstance(event, ev.ScenarioFinished):
            line = self.lines[event.target]
            line.running = max(0, line.running - 1)
            line.done += 1
            if event.status in ("error", "failed_expectation"):
                line.failed += 1
            text = (
                f"{event.target} [{line.done}/{line.total}] {event.scenario}"
                + (f" (run {event.repeat})" if event.repeat > 1 else "")
                + f": {event.status.replace('_', ' ')} ({event.seconds:.1f} s)"
            )
            if event.reason and event.status != "completed":
                text += f": {event.reason}"
            return text
        if isinstance(event, ev.RecheckPlanned):
            line = self.lines[event.target]
            line.state = "re-check"
            line.total += event.runs
            return (
                f"{event.target}: {event.runs} more runs of {len(event.scenarios)} scenarios "
                "that gate "
                f"({', '.join(event.scenarios)})"
            )
        if isinstance(event, ev.TargetDone | ev.TargetDied):
            return self._ended(event)
        if isinstance(event, ev.Comparing):
            return f"comparing {', '.join(event.candidates)} with the baseline ..."
        return None

    def _ended(self, event: ev.TargetDone | ev.TargetDied) -> str | None:
        if isinstance(event, ev.TargetDone):
            self.lines[event.target].state = "done"
            return None
        self.lines[event.target].state = "died"
        return f"{event.summary}; {event.not_run} scenario runs will not be made there"

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def _draw(self) -> None:
        if not self.lines:
            return
        width = max(len(t) for t in self.lines)
        block = [line.render(width) for line in self.lines.values()]
        self.stream.write("\n".join(block) + "\n")
        self.stream.flush()
        self.drawn = len(block)

    def _erase(self) -> None:
        if self.drawn:
            self.stream.write(f"\x1b[{self.drawn}F\x1b[J")  # up to the block, clear below
            self.drawn = 0

    def _final(self, event: ev.RunFinished) -> None:
        width = max([len(c.candidate) for c in event.candidates] + [9])
        self._print("")
        self._print(
            f"  {'candidate':<{width}}  {'verdict':<15} {'ok':>4} {'act':>4} {'bad':>4} "
            f"{'?':>4} {'n/a':>4}  {'gating':>6} {'other':>6}"
        )
        for c in event.candidates:
            by = c.by_verdict
            self._print(
                f"  {c.candidate:<{width}}  {c.verdict.replace('_', ' '):<15} "
                f"{by.get('compatible', 0):>4} {by.get('action_required', 0):>4} "
                f"{by.get('incompatible', 0):>4} {by.get('inconclusive', 0):>4} "
                f"{by.get('not_applicable', 0):>4}  {c.gating:>6} {c.other:>6}"
            )
        if not event.complete:
            self._print(
                f"INCOMPLETE: {event.pending} scenario runs did not finish; the reports cover "
                "what did"
            )
        self._print(f"reports ({event.seconds:.0f} s):")
        for name, path in event.reports.items():
            self._print(f"  {name:<12} {path}")

    def close(self) -> None:
        if self.mode == "live":
            self._erase()

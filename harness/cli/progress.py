"""Live progress of every job (compare, gate, run, diff, targets check): a consumer of the
pipeline's one event stream.

On a terminal: one line per target (state, scenario runs done, running, failed),
redrawn in place, and for a comparison a final table. In CI or with output redirected:
plain lines, one per event worth a log line. ``quiet`` prints nothing (the command prints
its result); ``verbose`` adds a line per scenario run on a terminal too. The first event
carries the plan, whose kind chooses the wording (``run`` names no target when it has
one, ``targets check`` says how each target starts, ``diff`` and ``merge`` one line per
scenario).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from typing import TextIO

from harness.cli.common import say
from harness.errors import BadInputError
from harness.pipeline import Outcome, Plan, RunFolder, run_plan
from harness.pipeline import events as ev
from harness.scenarios import ScenarioError

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
    bar: bool = True  # targets check: a state, no scenario runs

    def render(self, width: int) -> str:
        if self.recorded:
            return f"  {self.target:<{width}}  {self.role:<9} recorded traces ({self.done} runs)"
        if not self.bar:
            return f"  {self.target:<{width}}  {self.state}"
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
        self.plan: Plan | None = None
        self.scenarios = 0

    @property
    def kind(self) -> str:
        return self.plan.kind if self.plan is not None else "compare"

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

    def _ready(self, event: ev.TargetReady) -> str | None:
        line = self.lines[event.target]
        line.state, line.start_s = "running", event.seconds
        if self.kind == "check":
            return None
        text = f"{event.target} ready at {event.url} in {event.seconds:.1f} s"
        if self.kind == "run" and self.plan is not None:
            text += f"; running {self.scenarios} scenarios, {self.plan.jobs} at a time"
        return text

    def _more(self, event: ev.RecheckPlanned | ev.RoundPlanned | ev.ServerRestarted) -> str:
        """Runs added to a line's total once it is under way."""
        if isinstance(event, ev.ServerRestarted):
            return self._restarted(event)
        line = self.lines[event.target]
        line.total += event.runs
        if isinstance(event, ev.RoundPlanned):
            return (
                f"{event.target}: switch point {event.point}, a round of {event.runs} "
                f"scenario{'s' * (event.runs != 1)} across a switch of its own"
            )
        line.state = "re-check"
        return (
            f"{event.target}: {event.runs} more runs of {len(event.scenarios)} scenarios "
            f"to re-check ({', '.join(event.scenarios)})"
        )

    def _restarted(self, event: ev.ServerRestarted) -> str:
        line = self.lines[event.target]
        line.total += event.played_again - event.cut  # those had not been counted done
        line.running = 0
        threads = ", ".join(f"'{r.thread}' from {r.since}" for r in event.threads)
        return (
            f"{event.target}: server threads ran without pause ({threads}), a decision that "
            f"never ends; restarting it afresh, to play again the {event.played_again} runs "
            f"beside them ({event.cut} cut short) with the {event.not_run} not yet made, and "
            f"last, each alone, the {event.alone} under way when they were found"
        )

    def _update(self, event: ev.Event) -> str | None:
        if isinstance(event, ev.RunPlanned):
            return self._planned(event)
        if isinstance(event, ev.TargetsStarting):
            return self._starting(event)
        if isinstance(event, ev.ClientNotBuilt):
            return f"{event.client}: its driver was not built, so it runs nowhere: {event.why}"
        if isinstance(event, ev.TargetReady):
            return self._ready(event)
        if isinstance(event, ev.ScenarioStarted):
            self.lines[event.target].running += 1
            return None
        if isinstance(event, ev.ScenarioFinished):
            return self._finished(event)
        if isinstance(
            event, ev.ExploreExample | ev.ExploreConfirmed | ev.ExploreFound | ev.BisectProbed
        ):
            return _searched(event, verbose=self.verbose)
        if isinstance(event, ev.RecheckPlanned | ev.RoundPlanned | ev.ServerRestarted):
            return self._more(event)
        if isinstance(event, ev.TargetChecked):
            self.lines[event.target].state = "passed" if event.passed else "failed"
            return None
        if isinstance(event, ev.TargetDone | ev.TargetDied):
            return self._ended(event)
        if isinstance(event, ev.Comparing) and self.kind != "diff":
            return f"comparing {', '.join(event.candidates)} with the baseline ..."
        if isinstance(event, ev.ScenarioAssessed):
            several = sum(1 for line in self.lines.values() if line.role == "candidate") > 1
            return _assessed(event, named=several)
        return None

    def _planned(self, event: ev.RunPlanned) -> str | None:
        self.plan, self.scenarios = event.plan, event.scenarios
        for t in event.targets:
            self.lines[t.target] = TargetLine(
                t.target,
                t.role,
                total=t.runs + t.done,
                done=t.done,
                recorded=t.recorded,
                bar=self.kind not in ("check", "explore"),
            )
        if self.kind == "diff":
            b, c = event.targets
            return (
                f"comparing {b.scenarios} scenarios of {b.target} with {c.scenarios} of {c.target}"
            )
        if self.kind in ("run", "check"):
            return None
        if self.kind == "explore" and self.plan is not None:
            seed = "a random seed" if self.plan.seed is None else f"seed {self.plan.seed}"
            return (
                f"exploring for {self.plan.budget_s:.0f} s with {seed}: generated scenarios "
                f"on both targets at once; folder {event.folder}"
            )
        if self.kind == "merge" and self.plan is not None:
            return (
                f"merging {len(self.plan.paths)} shards: {event.scenarios} scenarios; run "
                f"folder {event.folder}"
            )
        todo = sum(t.runs for t in event.targets)
        verb = "resuming" if event.resumed else "running"
        return (
            f"{verb} {event.scenarios} scenarios: {todo} scenario runs to make; "
            f"run folder {event.folder}"
        )

    def _starting(self, event: ev.TargetsStarting) -> str:
        for target in event.targets:
            self.lines[target].state = "starting"
        names = ", ".join(event.targets)
        if self.kind == "run":
            return f"{self.scenarios} scenarios; starting {names} ..."
        if self.kind == "check" and self.plan is not None:
            setup = f"({self.plan.runtime} runtime, {self.plan.profile} profile)"
            return "\n".join(f"starting {t} {setup} ..." for t in event.targets)
        return f"starting {names} ..."

    def _finished(self, event: ev.ScenarioFinished) -> str:
        line = self.lines[event.target]
        line.running = max(0, line.running - 1)
        line.done += 1
        if event.status in ("error", "failed_expectation"):
            line.failed += 1
        head = f"{event.target} " if len(self.lines) > 1 else ""  # run: one target, unnamed
        text = (
            f"{head}[{line.done}/{line.total}] {event.scenario}"
            + (f" (run {event.repeat})" if event.repeat > 1 else "")
            + f": {event.status.replace('_', ' ')} ({event.seconds:.1f} s)"
        )
        if event.reason and event.status != "completed":
            text += f": {event.reason}"
        return text

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
        if self.kind == "run":
            for runs in event.runs:
                head = f"{runs.target}: " if len(event.runs) > 1 else ""
                self._print(
                    f"{head}isolation: {runs.isolation}"
                    + (
                        f"; {runs.blocked} outbound connection attempts blocked"
                        if runs.blocked
                        else ""
                    )
                )
        if self.kind in ("compare", "gate", "merge"):
            self._table(event)

    def _table(self, event: ev.RunFinished) -> None:
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


def _confirmed(event: ev.ExploreConfirmed) -> str:
    if not event.race:
        return f"finding {event.signature}: holds over {event.runs} runs on each target"
    return (
        f"finding {event.signature}: a race, not a finding: over {event.runs} runs on each "
        f"target, {event.why}"
    )


def _probed(event: ev.BisectProbed) -> str:
    of = f" in {event.runs_showing} of {event.runs} runs" if event.runs > 1 else ""
    if event.reference:
        if event.shows is None and event.runs_showing:
            return f"the reference, cannot tell: it differs from its first run{of}"
        return "the reference" if event.shows is not None else "cannot tell (did not finish)"
    if event.shows is None:
        return "cannot tell (its runs did not finish)"
    if event.runs_showing:
        return f"shows it{of} ({event.differences} differences)"
    return "does not"


def _searched(
    event: ev.ExploreExample | ev.ExploreConfirmed | ev.ExploreFound | ev.BisectProbed,
    *,
    verbose: bool,
) -> str | None:
    """explore: every 10th example (every one with --verbose), any that shows something
    new, and each finding; bisect: each probe."""
    if isinstance(event, ev.BisectProbed):
        return f"{event.target}: {_probed(event)}; at most {event.left} more probes"
    if isinstance(event, ev.ExploreConfirmed):
        return _confirmed(event)
    if isinstance(event, ev.ExploreFound):
        how = {"complete": "shrunk to", "partial": "partly shrunk to"}.get(
            event.shrinking, "not shrunk:"
        )
        return f"finding {event.signature}: {how} {event.size} tasks and workers, {event.file}"
    if not (verbose or event.new or event.examples % 10 == 0):
        return None
    text = f"{event.examples} examples, {event.found} findings"
    if event.new:
        text += f"; this one ({event.phase}) shows {event.new} new unexplained differences"
    elif event.phase == "shrink":
        text += "; shrinking"
    return text


def _assessed(event: ev.ScenarioAssessed, *, named: bool = False) -> str:
    """One scenario judged; ``named``: with its candidate (merge: several)."""
    extra = ", ".join(f"{n} {d}" for d, n in sorted(event.dispositions.items()))
    head = f"{event.candidate}: " if named else ""
    return (
        f"  {head}{event.verdict:<14} {event.scenario}"
        + (f" ({extra})" if extra else "")
        + ("" if event.verdict in ("compatible", "incompatible") else f": {event.reason}")
    )


async def run_shown(plan: Plan, folder: RunFolder, args: argparse.Namespace) -> Outcome:
    """Run ``plan`` into ``folder``, a new run folder, with the display (--quiet,
    --verbose): a scenario's problems each once as FILE:LINE:COLUMN lines (exit 2); on
    Ctrl-C, where the traces of what finished are."""
    if folder.plan_file.exists():
        raise BadInputError(f"{folder.root} already holds a run; choose another --out")
    display = Display(sys.stderr, mode=choose_mode(sys.stderr, quiet=args.quiet))
    display.verbose = args.verbose
    try:
        return await run_plan(plan, display, folder=folder)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem.render(), file=sys.stderr)
        raise BadInputError(exc.message) from exc
    except asyncio.CancelledError:
        say(f"interrupted: the traces of what finished are in {folder.root}")
        raise
    finally:
        display.close()

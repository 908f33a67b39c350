"""Entry point: parse arguments, run one command, turn errors into exit codes.

Commands are thin: each parses its arguments into values and calls the package.
Every ``CompatError`` is rendered as one paragraph (plus detail lines such as a
server's log tail) and its exit code; a traceback means a bug in conductor-compat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import textwrap
import threading
import traceback
from collections.abc import Callable, Coroutine, Sequence
from types import FrameType
from typing import Any

from harness import __version__
from harness.cli import (
    bisect_cmd,
    changes_cmd,
    clients_cmd,
    compare_cmd,
    config,
    config_cmd,
    diff_cmd,
    explore_cmd,
    import_cmd,
    merge_cmd,
    scenarios_cmd,
    site_cmd,
    targets_cmd,
    upgrade_cmd,
)
from harness.cli.options import add_options
from harness.errors import CompatError, ExitCode, HarnessError

DESCRIPTION = """\
Run the same Conductor workflows against Netflix Conductor and conductor-oss servers,
and report what differs.

Targets are written FLAVOR:VERSION (netflix:3.15.0, oss:3.21.14, oss:3.32.1) or
remote:URL for a server that is already running. Credentials for remote targets come
from the environment only: CONDUCTOR_COMPAT_TOKEN (sent as X-Authorization),
CONDUCTOR_COMPAT_BEARER (Authorization: Bearer) or CONDUCTOR_COMPAT_HEADERS
('Name: value' pairs separated by ';').

Settings a team gives every time (candidates, acceptances, runtime, ...) may live in
conductor-compat.toml or pyproject.toml's [tool.conductor-compat], found in the current
folder or a parent, or named with --config FILE; a flag beats the file. `conductor-compat
config` shows each setting in effect and where it came from.

Exit codes: 0 ok (compatible), 1 finding (incompatible: an unexplained difference, or a
check failed), 2 bad input, 3 inconclusive, 4 harness error, 5 missing prerequisite,
6 artifact digest mismatch, 7 port in use, 8 server not ready, 9 action required
(catalogued breaking or behavioral changes not yet accepted), 130 interrupted.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conductor-compat",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_options(parser, "config")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    compare_cmd.register(commands)
    upgrade_cmd.register(commands)
    clients_cmd.register(commands)
    targets_cmd.register(commands)
    scenarios_cmd.register(commands)
    diff_cmd.register(commands)
    merge_cmd.register(commands)
    bisect_cmd.register(commands)
    explore_cmd.register(commands)
    site_cmd.register(commands)
    import_cmd.register(commands)
    changes_cmd.register(commands)
    config_cmd.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 0 for --help, 2 for usage errors
        return int(exc.code or 0)
    handler: Callable[[argparse.Namespace], Coroutine[Any, Any, int]] = args.handler
    try:
        config.apply(args)  # each option: its flag, else the config file's, else the default
        return run_async(handler(args))
    except CompatError as exc:
        report_error(exc)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print(
            "conductor-compat: interrupted; every server it started was stopped.", file=sys.stderr
        )
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say to it
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the exit's flush raises nothing more
        return int(ExitCode.OK)
    except Exception:  # noqa: BLE001 (a bug in conductor-compat: say so, exit as a harness error)
        traceback.print_exc()
        print(
            "conductor-compat: internal error (a bug in conductor-compat; please report it "
            "with the traceback above); every server it started was stopped.",
            file=sys.stderr,
        )
        return int(ExitCode.HARNESS_ERROR)


def run_async(coro: Coroutine[Any, Any, int]) -> int:
    """Run ``coro``; SIGINT and SIGTERM cancel it so that its cleanup runs, then re-raise.

    The handlers are plain signal handlers, not the loop's: Python runs them in the main
    thread between two bytecodes even while the main task holds the loop (loading a large
    file, say), where a loop handler would wait for the task to yield. If the main task
    is the code running, the handler raises ``CancelledError`` right there, so the work
    stops and the task unwinds as if cancelled, its ``finally`` and ``async with`` blocks
    included; otherwise the loop is waiting or running other tasks, and the main task is
    cancelled through the loop. Either way the command ends with ``KeyboardInterrupt``.
    """
    with asyncio.Runner() as runner:
        loop = runner.get_loop()
        task = loop.create_task(coro)
        interrupted = False

        def on_signal(signum: int, frame: FrameType | None) -> None:
            nonlocal interrupted
            interrupted = True
            if task.done():
                raise KeyboardInterrupt
            if asyncio.current_task(loop) is task:
                raise asyncio.CancelledError
            loop.call_soon_threadsafe(task.cancel)

        previous = _install(on_signal)
        try:
            return runner.run(_await(task))
        except asyncio.CancelledError:
            if interrupted:
                raise KeyboardInterrupt from None
            raise
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, signal.SIG_DFL if handler is None else handler)


def _install(handler: Callable[[int, FrameType | None], None]) -> dict[int, Any]:
    """Set ``handler`` for SIGINT and SIGTERM (main thread only); the handlers it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    return previous


async def _await(task: asyncio.Task[int]) -> int:
    return await task


def report_error(exc: CompatError) -> None:
    message = exc.message if isinstance(exc, HarnessError) else str(exc)
    # paths and commands stay whole: never broken at a hyphen or inside a long word
    wrapped = textwrap.fill(
        f"error: {message}", width=100, break_on_hyphens=False, break_long_words=False
    )
    print(wrapped, file=sys.stderr)
    details = exc.details if isinstance(exc, HarnessError) else []
    for line in details:
        print(f"  | {line}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

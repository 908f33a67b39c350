"""The plugin's state on pytest's config: its settings, and the session made on first use."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest

from harness.pipeline import events as ev
from harness.plugin.session import CompatSession
from harness.plugin.settings import PluginSettings

SETTINGS = pytest.StashKey[PluginSettings]()
SESSION = pytest.StashKey[CompatSession]()


def settings_of(config: pytest.Config) -> PluginSettings:
    return config.stash[SETTINGS]


def session_of(config: pytest.Config) -> CompatSession:
    if SESSION not in config.stash:
        settings = config.stash[SETTINGS]
        folder = settings.out or _default_folder()
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        capture = config.pluginmanager.get_plugin("capturemanager")

        def emit(event: ev.Event) -> None:
            line = _line(event)
            if not line or reporter is None:
                return
            if capture is None:
                reporter.write_line(f"conductor-compat: {line}")
                return
            with capture.global_and_fixture_disabled():  # progress shows while items run
                reporter.write_line(f"conductor-compat: {line}")

        config.stash[SESSION] = CompatSession(settings, folder, emit)
    return config.stash[SESSION]


def _default_folder() -> Path:
    """A folder every xdist worker of one test run shares, in the temporary folder."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
    return Path(tempfile.gettempdir()) / f"conductor-compat-{os.getuid()}" / run[:16]


def _line(event: ev.Event) -> str | None:
    if isinstance(event, ev.TargetReady):
        return f"{event.target} ready in {event.seconds:.1f} s"
    if isinstance(event, ev.RecheckPlanned):
        return f"{event.target}: re-checking {len(event.scenarios)} scenarios"
    if isinstance(event, ev.TargetDied):
        return f"{event.target} died: {event.summary}"
    if isinstance(event, ev.RunFinished):
        return f"{event.verdict.replace('_', ' ')}: {event.reason} ({event.seconds:.0f} s)"
    return None

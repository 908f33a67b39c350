"""The pytest plugin (entry point ``pytest11``): scenario files as test items, and the
``conductor_compat`` fixture for tests that play scenarios themselves.

    [tool.pytest.ini_options]
    conductor_compat_scenarios = ["scenarios"]
    conductor_compat_candidates = ["oss:3.32.1"]

Without ``conductor_compat_scenarios`` the plugin collects nothing; the fixture still
works. See docs/pytest-plugin.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import BadInputError
from harness.plugin.items import ScenarioFile, ScenarioItem
from harness.plugin.session import ComparisonFailed, CompatSession, Played
from harness.plugin.settings import add_options, read
from harness.plugin.state import SESSION, SETTINGS, session_of

__all__ = ["ComparisonFailed", "CompatSession", "Played", "ScenarioItem"]

SUFFIXES = (".yaml", ".yml")


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "conductor_compat: a scenario file played by conductor-compat"
    )
    try:
        settings = read(config)
    except BadInputError as exc:  # a bad option or config file: a usage error, not a crash
        raise pytest.UsageError(f"conductor-compat: {exc}") from None
    config.stash[SETTINGS] = settings
    if settings.active and config.args_source != pytest.Config.ArgsSource.ARGS:
        # A bare `pytest` run collects the scenario folders as well as testpaths.
        config.args.extend(str(config.rootpath / p) for p in settings.scenarios)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    settings = parent.config.stash[SETTINGS]
    if file_path.suffix not in SUFFIXES or not settings.active:
        return None
    root = parent.config.rootpath
    for folder in settings.scenarios:
        base = (root / folder).resolve()
        if file_path.resolve() == base or base in file_path.resolve().parents:
            return ScenarioFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    files = list(dict.fromkeys(i.path for i in items if isinstance(i, ScenarioItem)))
    if files:
        session_of(config).files = files


@pytest.fixture(scope="session")
def conductor_compat(pytestconfig: pytest.Config) -> CompatSession:
    """The session's servers (started on first use, once per session or xdist worker):
    ``conductor_compat.play(scenario_file, "netflix:3.15.0")`` returns its trace."""
    return session_of(pytestconfig)


def pytest_unconfigure(config: pytest.Config) -> None:
    if SESSION in config.stash:
        config.stash[SESSION].close()
        del config.stash[SESSION]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    session = terminalreporter.config.stash.get(SESSION, None)
    if session is None:
        return
    report = session.folder / "comparison" / "report.html"
    if report.is_file():
        terminalreporter.write_line(f"conductor-compat: report in {report}")

"""Where the data conductor-compat ships lives: the scenario library, the server lock files
and the recorded baselines.

An installed wheel carries them as package data under ``harness/data/`` (the build copies
them there: see setup.py); a checkout keeps them at the repository's top level
(``scenarios/``, ``fixtures/locks/``, ``fixtures/baselines/``). Packaged data wins when
present, so a wheel never reads a checkout it happens to sit next to.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
DATA = PACKAGE / "data"  # package data of an installed wheel
CHECKOUT = PACKAGE.parent  # the repository's root, when running from a checkout

# name -> (its folder under DATA in a wheel, its folder under CHECKOUT in a checkout)
_PLACES: dict[str, tuple[str, str]] = {
    "scenarios": ("scenarios", "scenarios"),
    "locks": ("locks", "fixtures/locks"),
    "baselines": ("baselines", "fixtures/baselines"),
}


def _packaged(name: str) -> Path:
    return DATA / _PLACES[name][0]


def _checkout(name: str) -> Path:
    return CHECKOUT / _PLACES[name][1]


def _find(name: str) -> Path | None:
    for folder in (_packaged(name), _checkout(name)):
        if folder.is_dir():
            return folder
    return None


def library_dir() -> Path:
    """The shipped scenario library (one folder, scenario files in subfolders).

    When neither the package data nor a checkout has it, the checkout's path is returned
    all the same: callers check that it exists and say what is missing.
    """
    return _find("scenarios") or _checkout("scenarios")


def locks_dir() -> Path:
    """The shipped lock files, one per known server version (``netflix-3.15.0.json``).

    When neither place has them, the checkout's path is returned: no version is known.
    """
    return _find("locks") or _checkout("locks")


def baselines_dir() -> Path | None:
    """The recorded baseline traces, one folder per target (``netflix-3.15.0/``), or None.

    A checkout has them; a wheel leaves them out (tens of megabytes of traces), so an
    installed conductor-compat records its own with ``compare`` or ``run``.
    """
    return _find("baselines")

"""The client SDKs conductor-compat knows: each line's driver (a program in the SDK's own
language, shipped under ``harness/clients/drivers/``), the SDK versions it is built
against, and what building and running it needs.

A client is written ``SDK:VERSION``: ``java-netflix:3.15.0``, ``java-oss:4.0.10``,
``python:2.0.0``, ``js:4.0.0``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import BadInputError

DRIVERS = Path(__file__).parent / "drivers"


@dataclass(frozen=True, slots=True)
class ClientSpec:
    """One client SDK version and how its driver is built and run."""

    sdk: str  # the SDK line: java-netflix, java-oss, python, js
    version: str
    package: str  # as its registry names it
    language: str  # what runs the driver
    needs: str  # what building it needs, for `clients list`
    java: int = 0  # Java drivers: the Java major the SDK is compiled for
    profile: str = ""  # Java drivers: the Maven profile that selects this version

    @property
    def name(self) -> str:
        return f"{self.sdk}:{self.version}"

    @property
    def source(self) -> Path:
        """The driver's folder (shared by every version of the line)."""
        return DRIVERS / self.sdk


def _java(sdk: str, version: str, package: str, java: int, profile: str = "") -> ClientSpec:
    needs = f"Maven and a Java {java} JDK (javac) to build"
    return ClientSpec(sdk, version, package, f"Java {java}+", needs, java, profile)


KNOWN: tuple[ClientSpec, ...] = (
    _java("java-netflix", "3.15.0", "com.netflix.conductor:conductor-client", 17),
    _java("java-oss", "4.0.10", "org.conductoross:conductor-client", 17),
    _java("java-oss", "5.0.1", "org.conductoross:conductor-client", 21, "oss5"),
    _java("java-oss", "6.0.0", "org.conductoross:conductor-client", 21, "oss6"),
    ClientSpec(
        "python", "1.5.1", "conductor-python (PyPI)", "Python 3.9+", "pip: a venv of its own"
    ),
    ClientSpec(
        "python", "2.0.0", "conductor-python (PyPI)", "Python 3.9+", "pip: a venv of its own"
    ),
    ClientSpec(
        "js",
        "4.0.0",
        "@io-orkes/conductor-javascript (npm)",
        "Node.js 18+",
        "npm: node_modules of its own",
    ),
)
DEFAULT_CLIENTS = (
    "java-netflix:3.15.0",
    "java-oss:4.0.10",
    "java-oss:6.0.0",
    "python:1.5.1",
    "python:2.0.0",
    "js:4.0.0",
)


def parse_client(text: str) -> ClientSpec:
    """``python:2.0.0`` -> its spec; an unknown one is bad input naming what is known."""
    for spec in KNOWN:
        if spec.name == text:
            return spec
    known = ", ".join(s.name for s in KNOWN)
    raise BadInputError(f"unknown client {text!r}: known clients are {known}")

"""The two families of failure, and the exit codes they map to.

A *finding* means the servers behaved in a way the user should know about (a
check failed, traces differ). A *harness error* means conductor-compat could
not do its job (bad input, a missing prerequisite, a server that would not
start). They are different types with different exit codes::

    CompatError
    ├── HarnessError                      exit 4 unless a subclass says otherwise
    │   ├── BadInputError                 exit 2
    │   │   └── UnknownTargetError
    │   ├── PrerequisiteMissingError      exit 5
    │   │   ├── MavenMissingError
    │   │   ├── RedisMissingError
    │   │   └── MissingPrerequisiteError  what is missing, and how to install it
    │   │       ├── JavaMissingError
    │   │       └── PostgresMissingError
    │   ├── ArtifactResolutionError       exit 4
    │   ├── DigestMismatchError           exit 6
    │   ├── PortInUseError                exit 7
    │   ├── ServerNotReadyError           exit 8
    │   │   └── ServerExitedError
    │   └── ServerDiedError               exit 4 (a ready server exited mid-run)
    └── (findings are values, not exceptions: see the check and compare results)

Third-party exceptions (httpx, subprocess) are translated into these at the
boundary where they happen, so the CLI renders one paragraph, never a traceback.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes shared by every command."""

    OK = 0
    FINDING = 1  # a check failed / the candidate is incompatible
    BAD_INPUT = 2
    INCONCLUSIVE = 3
    HARNESS_ERROR = 4
    PREREQUISITE_MISSING = 5
    DIGEST_MISMATCH = 6
    PORT_IN_USE = 7
    SERVER_NOT_READY = 8
    ACTION_REQUIRED = 9  # catalogued breaking or behavioral changes, not yet accepted
    INTERRUPTED = 130


class CompatError(Exception):
    """Base of every error conductor-compat raises on purpose."""

    exit_code: ExitCode = ExitCode.HARNESS_ERROR


class HarnessError(CompatError):
    """The tool could not do its job. The message is one paragraph for a person.

    ``details`` holds extra lines (a log tail, a tool's output) shown under it.
    """

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[str] = list(details or [])


class BadInputError(HarnessError, ValueError):
    exit_code = ExitCode.BAD_INPUT


class UnknownTargetError(BadInputError):
    pass


class PrerequisiteMissingError(HarnessError):
    exit_code = ExitCode.PREREQUISITE_MISSING


class MavenMissingError(PrerequisiteMissingError):
    pass


class RedisMissingError(PrerequisiteMissingError):
    pass


class MissingPrerequisiteError(PrerequisiteMissingError):
    """Something a command needs is not installed, said as what and how to install it.

    ``what`` says what is missing and what needs it ("The docker runtime needs the Docker
    SDK for Python, which is not installed"); ``install_hint`` says how to get it ("Install
    it with: pip install 'conductor-compat[docker]'"). The message is the two sentences.
    """

    def __init__(self, what: str, install_hint: str, *, details: list[str] | None = None) -> None:
        self.what = what
        self.install_hint = install_hint
        head = what.rstrip().rstrip(".")
        super().__init__(f"{head}. {install_hint.strip()}", details=details)


class JavaMissingError(MissingPrerequisiteError):
    pass


class PostgresMissingError(MissingPrerequisiteError):
    pass


class ArtifactResolutionError(HarnessError):
    pass


class DigestMismatchError(HarnessError):
    exit_code = ExitCode.DIGEST_MISMATCH


class PortInUseError(HarnessError):
    exit_code = ExitCode.PORT_IN_USE


class ServerNotReadyError(HarnessError):
    exit_code = ExitCode.SERVER_NOT_READY


class ServerExitedError(ServerNotReadyError):
    pass


class ServerDiedError(HarnessError):
    """A server that was ready exited while scenarios ran on it (killed, crashed, out of
    memory). The run's reports are written for what finished; ``details`` is its log tail."""

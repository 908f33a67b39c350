"""A throw-away PostgreSQL server on loopback, for the ``postgres`` profile: a fresh data
folder in the target's run folder, TCP on 127.0.0.1 only, in the server's network namespace
when it has one, so that the server reaches it there.

PostgreSQL refuses to run as root. Under root it runs as ``nobody`` through ``setpriv``,
which sets the parent-death signal again after the change of user (the change clears the
one ``procs`` set), so the server still dies with the harness. A data folder below a
folder ``nobody`` cannot search (pytest's ``/tmp/pytest-of-root`` and ``/root`` are 0700)
is reached with the one capability that allows it, ``CAP_DAC_READ_SEARCH``, given only
then. Its role, ``conductor``, has a random password per start (clients on loopback
authenticate with SCRAM), so another user of the machine cannot use the database.
Each start also leaves a record for ``stale.sweep``.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import PostgresMissingError, ServerExitedError, ServerNotReadyError
from harness.targets import procs, stale
from harness.targets.netns import tool_path
from harness.targets.ports import free_port
from harness.targets.readiness import log_tail

if TYPE_CHECKING:
    from harness.targets.netns import Namespace

USER = "conductor"
DATABASE = "postgres"  # initdb's own: the server's tables go in its public schema
RUN_AS = "nobody"  # who PostgreSQL runs as when the harness is root
PACKAGES = Path("/usr/lib/postgresql")  # Debian's: one VERSION/bin per installed major
INSTALL = (
    "Install it (Debian/Ubuntu: 'apt-get install postgresql'), or use the default embedded "
    "profile, which needs no external service."
)
_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C", "TZ": "UTC"}
# The data is thrown away after the run: nothing is made durable.
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",  # TCP only: a socket path in a deep run folder is too long
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
}


@dataclass(frozen=True, slots=True)
class Binaries:
    postgres: Path
    initdb: Path


@dataclass(slots=True)
class PostgresServer:
    port: int
    proc: subprocess.Popen[bytes]
    directory: Path
    log: Path
    password: str = field(repr=False)
    record: Path | None = None

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"jdbc:postgresql://127.0.0.1:{self.port}/{DATABASE}"

    def stop(self) -> None:
        """A fast shutdown (SIGINT: sessions ended, a clean stop), SIGKILL after 10 s; then
        SIGKILL for any of its children still there."""
        children = stale.children(self.proc.pid) if self.proc.poll() is None else []
        procs.stop(self.proc, grace_s=10.0, first=signal.SIGINT)
        stale.kill_all(children)
        if self.record is not None:
            self.record.unlink(missing_ok=True)


def find_postgres() -> Binaries:
    """``postgres`` and ``initdb``: where PATH has them, else the newest Debian package."""
    which = shutil.which("postgres")
    folders = [Path(which).resolve().parent] if which else []
    folders += sorted(PACKAGES.glob("*/bin"), key=_major, reverse=True)
    for folder in folders:
        found = Binaries(folder / "postgres", folder / "initdb")
        if all(os.access(p, os.X_OK) for p in (found.postgres, found.initdb)):
            return found
    raise PostgresMissingError(
        "The postgres profile needs PostgreSQL's 'postgres' and 'initdb', and neither PATH "
        f"nor {PACKAGES}/*/bin has them",
        INSTALL,
    )


def _major(folder: Path) -> int:
    name = folder.parent.name
    return int(name) if name.isdigit() else 0


def run_as() -> list[str]:
    """The command prefix that runs PostgreSQL as ``nobody`` (nothing unless root)."""
    if os.geteuid() != 0:
        return []
    setpriv = tool_path("setpriv")
    try:
        user = pwd.getpwnam(RUN_AS)
    except KeyError:
        user = None
    if setpriv is None or user is None:
        missing = "'setpriv' (util-linux)" if setpriv is None else f"the user '{RUN_AS}'"
        raise PostgresMissingError(
            f"PostgreSQL does not run as root, so the postgres profile runs it as {RUN_AS} "
            f"with setpriv, and this machine lacks {missing}",
            "Install util-linux, or run conductor-compat as a user other than root.",
        )
    return [
        setpriv,
        f"--reuid={user.pw_uid}",
        f"--regid={user.pw_gid}",
        "--clear-groups",
        "--pdeathsig=SIGKILL",
    ]


def searchable(path: Path, uid: int, gid: int) -> bool:
    """Can ``uid`` (group ``gid``) reach ``path``: may it search every folder down to it?
    From the mode bits (an ACL that allows more is not read)."""
    for folder in [path, *path.parents]:
        info = folder.stat()
        if info.st_uid == uid:
            bit = stat.S_IXUSR
        elif info.st_gid == gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def _with_reach(prefix: list[str], directory: Path) -> list[str]:
    """``prefix`` with CAP_DAC_READ_SEARCH when the user it runs as cannot reach ``directory``."""
    if not prefix:
        return prefix
    user = pwd.getpwnam(RUN_AS)
    if searchable(directory, user.pw_uid, user.pw_gid):
        return prefix
    caps = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    return [prefix[0], *caps, *prefix[1:]]


async def start_postgres(
    directory: Path, namespace: Namespace | None = None, timeout_s: float = 60.0
) -> PostgresServer:
    """A fresh data folder in ``directory``, then PostgreSQL on a free loopback port (of
    ``namespace`` if given), waited for until it takes connections."""
    binaries = find_postgres()
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    prefix = _with_reach(run_as(), directory)
    await asyncio.to_thread(stale.sweep)
    log = directory / "postgres.log"
    password = secrets.token_urlsafe(24)
    await asyncio.to_thread(_initdb, binaries, directory, log, password, prefix)
    port = free_port()
    settings = [f"-c{name}={value}" for name, value in SETTINGS.items()]
    argv = [*prefix, str(binaries.postgres), "-D", str(directory / "data"), "-p", str(port)]
    argv += settings
    if namespace is not None:
        argv = namespace.command(argv)
    proc = procs.spawn(argv, log=log, cwd=directory, env=_ENV)
    server = PostgresServer(port, proc, directory, log, password)
    server.record = stale.register("postgres", proc.pid, str(server.data))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if await asyncio.to_thread(accepts, port, namespace):
            return server
        await asyncio.sleep(0.05)
    code = proc.poll()
    server.stop()
    if code is not None:
        raise ServerExitedError(
            f"PostgreSQL (postgres profile) exited with code {code} before it took "
            f"connections on 127.0.0.1:{port}.",
            details=log_tail(log),
        )
    raise ServerNotReadyError(
        f"PostgreSQL (postgres profile) on 127.0.0.1:{port} did not take connections "
        f"within {timeout_s:.0f} s.",
        details=log_tail(log),
    )


def _initdb(
    binaries: Binaries, directory: Path, log: Path, password: str, prefix: list[str]
) -> None:
    """A new cluster in ``directory/data``, owned by the user PostgreSQL runs as."""
    data = directory / "data"
    if data.exists():
        shutil.rmtree(data)  # each start is fresh, as with every other store
    data.mkdir(mode=0o700)
    data.chmod(0o700)
    secret = directory / "initdb.pw"
    secret.write_text(password + "\n", encoding="utf-8")
    secret.chmod(0o600)
    if prefix:
        user = pwd.getpwnam(RUN_AS)
        for path in (data, secret):
            os.chown(path, user.pw_uid, user.pw_gid)
    argv = [
        *prefix,
        str(binaries.initdb),
        "-D",
        str(data),
        "-U",
        USER,
        f"--pwfile={secret}",
        "--auth-host=scram-sha-256",
        "--auth-local=trust",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
    ]
    try:
        with log.open("ab") as out:
            done = subprocess.run(
                argv,
                cwd=directory,
                env=_ENV,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=120,
                check=False,
                preexec_fn=procs.die_with_parent,
            )
    except subprocess.TimeoutExpired:
        done = None
    finally:
        secret.unlink(missing_ok=True)
    if done is None or done.returncode != 0:
        how = "did not finish in 120 s" if done is None else f"exited with {done.returncode}"
        raise ServerNotReadyError(
            f"initdb {how}: PostgreSQL (postgres profile) has no data folder in {data}.",
            details=log_tail(log),
        )


def accepts(port: int, namespace: Namespace | None = None) -> bool:
    """Does PostgreSQL on 127.0.0.1:``port`` take connections? It answers a startup
    message with an authentication request (``R``) then, with an error while it starts."""
    params = f"user\0{USER}\0database\0{DATABASE}\0\0".encode()
    startup = struct.pack("!ii", len(params) + 8, 3 << 16) + params  # protocol 3.0
    try:
        with namespace.tcp_socket() if namespace else socket.socket() as sock:
            sock.settimeout(1.0)
            sock.connect(("127.0.0.1", port))
            sock.sendall(startup)
            reply = _message(sock)
            return reply[:1] == b"R"
    except OSError:
        return False


def _message(sock: socket.socket) -> bytes:
    """One whole message (read to its end, so that closing is a clean end and not a reset)."""
    head = b""
    while len(head) < 5:
        chunk = sock.recv(5 - len(head))
        if not chunk:
            return head
        head += chunk
    body, size = b"", struct.unpack("!i", head[1:5])[0] - 4
    while len(body) < min(size, 4096):
        chunk = sock.recv(min(size, 4096) - len(body))
        if not chunk:
            break
        body += chunk
    return head + body

"""Target specs: ``FLAVOR:VERSION`` or ``remote:URL``, parsed into values.

>>> parse_target("netflix:3.15.0")
TargetSpec(flavor=<Flavor.NETFLIX: 'netflix'>, version='3.15.0', url=None)
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from harness.errors import BadInputError


class Flavor(enum.Enum):
    NETFLIX = "netflix"
    OSS = "oss"
    REMOTE = "remote"


_VERSION = re.compile(r"^\d+\.\d+\.\d+$")

# Environment variables that carry credentials for remote targets. Credentials are
# never accepted on the command line (they would land in shell history and ps).
HEADERS_ENV = "CONDUCTOR_COMPAT_HEADERS"
TOKEN_ENV = "CONDUCTOR_COMPAT_TOKEN"
BEARER_ENV = "CONDUCTOR_COMPAT_BEARER"


# The default comparison: the last Netflix release against the conductor-oss version this
# project recommends (the newest one it has verified and locked).
DEFAULT_BASELINE = "netflix:3.15.0"
RECOMMENDED_CANDIDATE = "oss:3.32.1"


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """One Conductor server under test, as the user named it."""

    flavor: Flavor
    version: str | None = None
    url: str | None = None

    def __str__(self) -> str:
        if self.flavor is Flavor.REMOTE:
            return f"remote:{self.url}"
        return f"{self.flavor.value}:{self.version}"

    @property
    def is_remote(self) -> bool:
        return self.flavor is Flavor.REMOTE

    @property
    def slug(self) -> str:
        """A file-name-safe name for logs and folders."""
        return re.sub(r"[^A-Za-z0-9._-]+", "_", str(self)).strip("_")


def parse_target(text: str) -> TargetSpec:
    """Parse ``netflix:3.15.0``, ``oss:3.32.1`` or ``remote:http://host:8080``."""
    flavor_text, sep, rest = text.strip().partition(":")
    if not sep or not rest:
        raise BadInputError(
            f"'{text}' is not a target. Write FLAVOR:VERSION (netflix:3.15.0, oss:3.32.1) "
            "or remote:URL (remote:http://127.0.0.1:8080)."
        )
    try:
        flavor = Flavor(flavor_text.lower())
    except ValueError:
        known = ", ".join(f.value for f in Flavor)
        raise BadInputError(
            f"Unknown target flavor '{flavor_text}' in '{text}'. Known flavors: {known}."
        ) from None
    if flavor is Flavor.REMOTE:
        return TargetSpec(flavor, url=_normalize_url(rest, text))
    if not _VERSION.match(rest):
        raise BadInputError(
            f"'{rest}' in '{text}' is not a version. Write it as MAJOR.MINOR.PATCH, e.g. 3.15.0."
        )
    return TargetSpec(flavor, version=rest)


def _normalize_url(url: str, text: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInputError(
            f"'{text}': a remote target needs an http(s) URL, e.g. remote:http://127.0.0.1:8080."
        )
    if parts.username or parts.password:
        raise BadInputError(  # the text is not echoed: it holds a secret
            f"remote:{parts.scheme}://{parts.hostname}: credentials are not accepted in "
            f"the URL. Put them in the environment instead ({HEADERS_ENV}, {TOKEN_ENV} "
            f"or {BEARER_ENV})."
        )
    path = parts.path.rstrip("/")
    if path.endswith("/api"):  # users paste the API root; the server root is what we keep
        path = path[: -len("/api")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def auth_headers(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Headers for remote targets, read from the environment only.

    ``CONDUCTOR_COMPAT_HEADERS`` holds ``Name: value`` pairs separated by newlines or
    ``;``. ``CONDUCTOR_COMPAT_TOKEN`` is sent as ``X-Authorization`` (Orkes-style) and
    ``CONDUCTOR_COMPAT_BEARER`` as ``Authorization: Bearer …``.
    """
    env = os.environ if environ is None else environ
    headers: dict[str, str] = {}
    for item in re.split(r"[;\n]", env.get(HEADERS_ENV, "")):
        if not item.strip():
            continue
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise BadInputError(
                f"{HEADERS_ENV} holds '{name.strip()[:40]}…', which is not a 'Name: value' pair."
            )
        headers[name.strip()] = value.strip()
    if token := env.get(TOKEN_ENV):
        headers["X-Authorization"] = token
    if bearer := env.get(BEARER_ENV):
        headers["Authorization"] = f"Bearer {bearer}"
    return headers

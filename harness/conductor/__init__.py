"""A thin async client for the Conductor REST API, shared by every version."""

from harness.conductor.client import ConductorClient, ConductorHTTPError, ConductorUnreachable

__all__ = ["ConductorClient", "ConductorHTTPError", "ConductorUnreachable"]

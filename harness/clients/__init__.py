"""Real client SDKs against real servers: each SDK line's client driver, built once into
the cache, played through a recording proxy in front of a server the caller started."""

from harness.clients.proxy import Exchange, RecordingProxy

__all__ = ["Exchange", "RecordingProxy"]

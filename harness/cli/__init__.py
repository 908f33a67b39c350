"""The ``conductor-compat`` command line, and its config file (``load_config``)."""

from harness.cli.app import main
from harness.cli.config import Config, Setting, load_config

__all__ = ["Config", "Setting", "load_config", "main"]

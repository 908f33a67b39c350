"""conductor-compat: compatibility testing of Netflix Conductor and conductor-oss."""

from harness.errors import CompatError, ExitCode, HarnessError

__version__ = "0.1.0"

__all__ = ["CompatError", "ExitCode", "HarnessError", "__version__"]

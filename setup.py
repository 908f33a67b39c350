"""The build step pyproject.toml cannot express: the data conductor-compat ships.

The scenario library (``scenarios/``) and the server lock files (``fixtures/locks/``) live
at the repository's top level; building the package copies them into it, under
``harness/data/``, where ``harness.resources`` finds them once installed. An editable
install reads them from the checkout instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# folder in the repository -> folder under harness/data/ in the package
SHIPPED = {"scenarios": "scenarios", "fixtures/locks": "locks"}


class BuildWithData(build_py):
    """``build_py``, then the shipped data copied into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for source, name in SHIPPED.items():
            folder = ROOT / source
            if not folder.is_dir():
                raise SystemExit(f"cannot build conductor-compat: {folder} is missing")
            target = Path(self.build_lib) / "harness" / "data" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(
                folder, target, ignore=shutil.ignore_patterns(".*", "__pycache__", "*.pyc")
            )


setup(cmdclass={"build_py": BuildWithData})

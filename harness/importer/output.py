"""Write imported scenarios as YAML files: a comment header, then the scenario.

Scripts (INLINE expressions, loop conditions) are written as YAML literal blocks so
that they read as code. Existing files are never overwritten unless asked: every
file is checked before the first one is written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from harness.errors import BadInputError
from harness.importer.assemble import Imported


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line strings; lists indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _string)


def render(imported: Imported) -> str:
    """The scenario file's text."""
    header = "".join(f"# {line}".rstrip() + "\n" for line in imported.header)
    body = yaml.dump(
        imported.document,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return f"{header}\n{body}" if header else body


def existing(scenarios: Sequence[Imported], out: Path) -> list[Path]:
    return [out / s.file_name for s in scenarios if (out / s.file_name).exists()]


def write_all(scenarios: Sequence[Imported], out: Path, *, force: bool) -> list[Path]:
    """Write every scenario under ``out``; refuse (nothing written) if any file exists."""
    clash = existing(scenarios, out)
    if clash and not force:
        raise BadInputError(
            f"{len(clash)} of the scenario files already exist{'s' * (len(clash) == 1)} in "
            f"{out}; "
            "nothing was written. Pass --force to overwrite them, or choose another --out.",
            details=[str(p) for p in clash],
        )
    if out.exists() and not out.is_dir():
        raise BadInputError(f"--out {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for scenario in scenarios:
        target = out / scenario.file_name
        _atomic_write(target, render(scenario))
        written.append(target)
    return written


def _atomic_write(target: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def summary(scenario: Imported) -> dict[str, Any]:
    """What the CLI prints about one scenario."""
    applies = scenario.document.get("applies_to", {})
    return {
        "file": scenario.file_name,
        "workflow": f"{scenario.workflow.name} v{scenario.workflow.version}",
        "netflix": applies.get("netflix", {}).get("versions", "any"),
        "oss": applies.get("oss", {}).get("versions", "any"),
        "mode": "records where it stops" if scenario.drive.blockers else "runs to the end",
    }

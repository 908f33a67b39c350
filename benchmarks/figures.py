"""What every benchmark does with its figures: print them as JSON, and keep them in a
file when asked (``--out``), to be cited in docs/benchmarks.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def publish(figures: Any, out: Path | None, *, indent: int = 1) -> None:
    text = json.dumps(figures, indent=indent)
    print(text)
    if out:
        out.write_text(text + "\n", encoding="utf-8")

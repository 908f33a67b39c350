"""Write fixtures/isolate/: what each run of a gate's first play, and of its replays after
a restart, did (scenario, times, outcome, runaway threads), from the run folder.

    .venv/bin/python scripts/isolate_fixture.py RUN_FOLDER TARGET_SLUG OUT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _runs(directory: Path) -> list[dict[str, Any]]:
    runs = []
    for path in sorted(directory.glob("*.trace.json")):
        trace = json.loads(path.read_text(encoding="utf-8"))
        outcome = trace["outcome"]
        runs.append(
            {
                "scenario": trace["scenario"]["name"],
                "repeat": trace.get("repeat", 1),
                "started_at": trace["started_at"],
                "finished_at": trace["finished_at"],
                "status": outcome["status"],
                "reason": outcome.get("reason"),
                "runaway_threads": outcome.get("runaway_threads") or [],
            }
        )
    return sorted(runs, key=lambda r: (r["started_at"], r["scenario"]))


def main() -> None:
    folder, target, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    aside = folder / "beside-runaway" / target
    document = {
        "source": f"conductor-compat gate, run folder {folder.name}",
        "set_aside": {d.name: _runs(d) for d in sorted(aside.iterdir())},
        "played_again": _runs(folder / "traces" / target),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

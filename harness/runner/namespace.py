"""Per-run names, so that many runs can share one server, and their undoing in traces.

Every definition a scenario declares gets a random prefix (``cc3f9a1b_``) on the
server; HTTP tasks that call ``http://stub`` (in any case, as the scenario check
accepts it) are pointed at this run's stub. Traces
are written with both mapped back, so runs of one scenario read the same whatever
prefix and port they had.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from typing import Any

from harness.scenarios.definitions import iter_tasks
from harness.scenarios.outbound import STUB_URI

STUB_PLACEHOLDER = "http://stub"


def new_prefix() -> str:
    return f"cc{secrets.token_hex(3)}_"


@dataclass(slots=True)
class Namespace:
    prefix: str
    names: frozenset[str]  # the unprefixed definition names the scenario owns
    stub_url: str | None = None
    _unmap: list[tuple[str, str]] = field(default_factory=list)

    def name(self, name: str) -> str:
        return self.prefix + name if name in self.names else name

    def task_def(self, definition: dict[str, Any]) -> dict[str, Any]:
        return {**definition, "name": self.name(str(definition["name"]))}

    def workflow(self, definition: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``definition`` with this run's names and stub address."""
        result = copy.deepcopy(definition)
        result["name"] = self.name(str(result["name"]))
        if isinstance(result.get("failureWorkflow"), str):
            result["failureWorkflow"] = self.name(result["failureWorkflow"])
        for task in iter_tasks(result.get("tasks")):
            if isinstance(task.get("name"), str):
                task["name"] = self.name(task["name"])
            sub = task.get("subWorkflowParam")
            if isinstance(sub, dict) and isinstance(sub.get("name"), str):
                sub["name"] = self.name(sub["name"])
            params = task.get("inputParameters")
            if isinstance(params, dict):
                start = params.get("startWorkflow")
                if isinstance(start, dict) and isinstance(start.get("name"), str):
                    start["name"] = self.name(start["name"])
                if task.get("type") == "FORK_JOIN_DYNAMIC":  # forks of one named task
                    for key in ("forkTaskName", "forkTaskWorkflow"):
                        if isinstance(params.get(key), str):
                            params[key] = self.name(params[key])
                task["inputParameters"] = self._stub(params)
        return result

    def _stub(self, value: Any) -> Any:
        if isinstance(value, str) and self.stub_url:
            match = STUB_URI.match(value)
            return self.stub_url + value[match.end() :] if match else value
        if isinstance(value, dict):
            return {k: self._stub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._stub(v) for v in value]
        return value

    def unmap(self, value: Any) -> Any:
        """``value`` with the prefix removed and the stub address put back, everywhere."""
        if isinstance(value, str):
            if self.stub_url and self.stub_url in value:
                value = value.replace(self.stub_url, STUB_PLACEHOLDER)
            return value.replace(self.prefix, "") if self.prefix in value else value
        if isinstance(value, dict):
            return {self.unmap(k): self.unmap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.unmap(v) for v in value]
        return value

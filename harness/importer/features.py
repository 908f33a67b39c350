"""Which versions an imported workflow applies to, from the features it uses.

Each rule below was checked on the real servers (netflix 3.15.0, oss 3.21.14 and
oss 3.32.1, the shared e2e servers) with one-feature probe scenarios; the reason
each rule gives is what was seen there. A workflow that reaches the network in a
way the harness cannot stub (Kafka, an external event queue, a database, an AI
provider) applies to no version: running it would call a real host.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.scenarios.definitions import SYSTEM_TASK_TYPES, iter_tasks

# conductor-oss version specifiers, from least to most restrictive.
_RANK = {"any": 0, ">=3.21": 1, ">=3.32": 2, "none": 3}

# Types 3.32.1 registers that call an external service (an AI provider, a database,
# an MCP or agent endpoint): the harness has no stub for them.
EXTERNAL_TASK_TYPES = frozenset(
    {"KAFKA_PUBLISH", "JDBC", "AGENT", "GET_AGENT_CARD", "CANCEL_AGENT", "CALL_MCP_TOOL",
     "LIST_MCP_TOOLS", "GENERATE_AUDIO", "GENERATE_IMAGE", "GENERATE_VIDEO"}
    | {t for t in SYSTEM_TASK_TYPES if t.startswith("LLM_")}
)  # fmt: skip
# Types only 3.32.1 registers (seen in its start log) that stay inside the server.
OSS_332_TASK_TYPES = frozenset({"GENERATE_PDF", "PULL_WORKFLOW_MESSAGES", "HELLO"})
KNOWN_EVALUATORS = frozenset({"javascript", "value-param", "graaljs", "python"})
# Syntax beyond ES5: Nashorn (netflix 3.15.0, oss 3.21.14) refuses it; seen with
# `const` ("Expected an operand but found const").
_ES2015 = re.compile(r"\b(?:const|let|class)\s+[A-Za-z_$]|=>|`|\?\.[A-Za-z_$]|\?\?")


@dataclass(frozen=True, slots=True)
class Limit:
    """One feature of a workflow that some versions lack, and why."""

    feature: str  # groups tasks using the same feature
    reason: str
    netflix: bool  # runs on netflix 3.15.0
    oss: str  # conductor-oss versions: 'any', '>=3.21', '>=3.32' or 'none'


def _limit(key: str, detail: str = "") -> Limit:
    rules: dict[str, tuple[str, bool, str]] = {
        "graaljs": (
            "evaluatorType graaljs: unknown to netflix 3.15.0 and oss 3.21.14 (seen: "
            "'Unknown evaluator', 'No evaluator registered'); runs on oss 3.32.1",
            False,
            ">=3.32",
        ),
        "es2015": (
            "JavaScript beyond ES5 (const, let, arrow functions, template strings): the "
            "Nashorn engine of netflix 3.15.0 and oss 3.21.14 refuses it (seen); GraalJS "
            "on oss 3.32.1 runs it",
            False,
            ">=3.32",
        ),
        "python": (
            "evaluatorType python: unknown to netflix 3.15.0 (seen); runs on oss 3.21.14 "
            "and 3.32.1",
            False,
            ">=3.21",
        ),
        "evaluator": (
            f"evaluatorType '{detail}' is none of {', '.join(sorted(KNOWN_EVALUATORS))}: no "
            "version the harness knows runs it (seen for 'js' on all three)",
            False,
            "none",
        ),
        "http-flat": (
            "HTTP task without http_request (uri and method directly in inputParameters): "
            "netflix 3.15.0 and oss 3.21.14 refuse the definition (seen: "
            "'inputParameters.http_request field is required'); oss 3.32.1 takes it",
            False,
            ">=3.32",
        ),
        "keep-last-n": (
            "DO_WHILE keepLastN: netflix 3.15.0 and oss 3.21.14 ignore it and keep every "
            "iteration (seen); oss 3.32.1 keeps the last N",
            False,
            ">=3.32",
        ),
        "fork-task-name": (
            "FORK_JOIN_DYNAMIC with forkTaskName or forkTaskWorkflow: netflix 3.15.0 fails "
            "the workflow ('Input to the dynamically forked tasks is not a map', seen)",
            False,
            "any",
        ),
        "external": (
            f"task type {detail} calls an external service the harness cannot stub",
            False,
            "none",
        ),
        "event-sink": (
            f"EVENT sink '{detail}' publishes to an external queue the harness cannot stub "
            "(only conductor:... sinks stay inside the server)",
            False,
            "none",
        ),
        "oss-332": (
            f"task type {detail} exists only on conductor-oss 3.32 (3.32.1 registers it)",
            False,
            ">=3.32",
        ),
        "unknown-type": (
            f"task type {detail} is no system task of any version the harness knows, and "
            "its simulated workers serve SIMPLE tasks only",
            False,
            "none",
        ),
    }
    reason, netflix, oss = rules[key]
    return Limit(f"{key}:{detail}", reason, netflix, oss)


def _scripts(task: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(evaluatorType, script) pairs a task evaluates; javascript when not said."""
    kind = task.get("type", "SIMPLE")
    params = task.get("inputParameters") or {}
    if kind == "INLINE":
        return [(str(params.get("evaluatorType", "javascript")), params.get("expression"))]
    if kind == "SWITCH":
        return [(str(task.get("evaluatorType", "value-param")), task.get("expression"))]
    if kind == "DO_WHILE":  # graaljs or not, Nashorn evaluates it on 3.15.0 and 3.21.14 (seen)
        evaluator = str(task.get("evaluatorType", "javascript"))
        return [("javascript" if evaluator == "graaljs" else evaluator, task.get("loopCondition"))]
    if kind == "LAMBDA":
        return [("javascript", params.get("scriptExpression"))]
    if kind == "DECISION" and task.get("caseExpression"):
        return [("javascript", task.get("caseExpression"))]
    return []


def _script_limits(task: Mapping[str, Any]) -> list[Limit]:
    found: list[Limit] = []
    for evaluator, script in _scripts(task):
        if evaluator == "graaljs":
            found.append(_limit("graaljs"))
        elif evaluator == "python":
            found.append(_limit("python"))
        elif evaluator not in KNOWN_EVALUATORS:
            found.append(_limit("evaluator", evaluator))
        elif evaluator == "javascript" and isinstance(script, str) and _ES2015.search(script):
            found.append(_limit("es2015"))
    return found


def _type_limits(kind: str, task: Mapping[str, Any]) -> list[Limit]:
    if kind in EXTERNAL_TASK_TYPES:
        return [_limit("external", kind)]
    if kind in OSS_332_TASK_TYPES:
        return [_limit("oss-332", kind)]
    if kind == "EVENT":
        sink = str(task.get("sink") or "")
        return [] if sink.startswith("conductor") else [_limit("event-sink", sink)]
    if kind not in SYSTEM_TASK_TYPES or kind == "USER_DEFINED":
        return [_limit("unknown-type", kind)]
    return []


def task_limits(task: Mapping[str, Any]) -> list[Limit]:
    """What one workflow task needs from a version."""
    kind = str(task.get("type", "SIMPLE"))
    params = task.get("inputParameters")
    params = params if isinstance(params, dict) else {}
    found = _script_limits(task)
    if kind == "HTTP" and "http_request" not in params:
        found.append(_limit("http-flat"))
    if kind == "DO_WHILE" and "keepLastN" in params:
        found.append(_limit("keep-last-n"))
    if kind == "FORK_JOIN_DYNAMIC" and ("forkTaskName" in params or "forkTaskWorkflow" in params):
        found.append(_limit("fork-task-name"))
    return found + _type_limits(kind, task)


def workflow_limits(workflows: Iterable[Mapping[str, Any]]) -> dict[str, tuple[Limit, list[str]]]:
    """Every limit of ``workflows``, once per feature, with the tasks that need it."""
    found: dict[str, tuple[Limit, list[str]]] = {}
    for workflow in workflows:
        for task in iter_tasks(workflow.get("tasks")):
            for limit in task_limits(task):
                entry = found.setdefault(limit.feature, (limit, []))
                entry[1].append(f"{task.get('type', 'SIMPLE')} {task.get('taskReferenceName')}")
    return found


def _because(limit: Limit, tasks: list[str]) -> str:
    unique = list(dict.fromkeys(tasks))
    shown = ", ".join(unique[:3]) + (f" and {len(unique) - 3} more" if len(unique) > 3 else "")
    return f"{limit.reason} [{shown}]"


def applies_to(found: Mapping[str, tuple[Limit, list[str]]]) -> dict[str, Any]:
    """The scenario's ``applies_to``: per flavor, the versions left and why."""
    result: dict[str, Any] = {}
    netflix = [_because(limit, tasks) for limit, tasks in found.values() if not limit.netflix]
    if netflix:
        result["netflix"] = {"versions": "none", "reason": "; ".join(netflix)}
    strictest = max(
        (limit.oss for limit, _ in found.values()), key=_RANK.__getitem__, default="any"
    )
    if strictest != "any":
        oss = [
            _because(limit, tasks)
            for limit, tasks in found.values()
            if _RANK[limit.oss] == _RANK[strictest]
        ]
        result["oss"] = {"versions": strictest, "reason": "; ".join(oss)}
    return result


# A workflow that times itself out sooner than this races its own run: simulated workers
# end it within seconds on an idle machine, later on a loaded one (netflix 3.15.0 took
# 5.4 s over a workflow and its child once, beside two other servers starting).
SHORTEST_TIMEOUT_S = 30


def lengthen_timeouts(workflows: Iterable[dict[str, Any]]) -> list[str]:
    """Give each workflow that times itself out (TIME_OUT_WF) in under SHORTEST_TIMEOUT_S
    that long, so that the scenario's outcome does not depend on the machine's load; the
    notes that say so."""
    found: list[str] = []
    for workflow in workflows:
        seconds = workflow.get("timeoutSeconds")
        if workflow.get("timeoutPolicy") != "TIME_OUT_WF" or not isinstance(seconds, int):
            continue
        if 0 < seconds < SHORTEST_TIMEOUT_S:
            workflow["timeoutSeconds"] = SHORTEST_TIMEOUT_S
            found.append(
                f"workflow {workflow.get('name')}'s timeoutSeconds {seconds} (TIME_OUT_WF) is "
                f"{SHORTEST_TIMEOUT_S} here: the simulated workers end it within seconds, and "
                "a loaded machine's run could outlast the original, which the timeout would "
                "end; its timeout is not exercised"
            )
    return found


def notes(workflows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Features the scenario carries but no known version acts on, or it does not exercise."""
    found: list[str] = []
    for workflow in workflows:
        name = workflow.get("name")
        if workflow.get("rateLimitConfig"):
            found.append(
                f"workflow {name} has a rateLimitConfig: not exercised, the scenario starts "
                "one workflow"
            )
        for task in iter_tasks(workflow.get("tasks")):
            ref = task.get("taskReferenceName")
            params = task.get("inputParameters") or {}
            if task.get("type") == "DO_WHILE" and (
                "items" in task or (isinstance(params, dict) and "items" in params)
            ):
                found.append(
                    f"DO_WHILE {ref} has items: the versions the harness knows ignore it (seen) "
                    "and loop on loopCondition"
                )
            if task.get("type") == "DO_WHILE" and task.get("evaluatorType") == "graaljs":
                found.append(
                    f"DO_WHILE {ref} has evaluatorType graaljs: netflix 3.15.0 and oss 3.21.14 "
                    "ignore it and evaluate the loop condition with Nashorn (seen), so it "
                    "applies to them when the condition is ES5"
                )
            if task.get("type") == "JOIN" and task.get("expression"):
                found.append(
                    f"JOIN {ref} has a join script (expression): the versions the harness "
                    "knows join on joinOn (seen completing on all three)"
                )
    return list(dict.fromkeys(found))

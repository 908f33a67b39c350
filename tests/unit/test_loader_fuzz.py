"""Fuzzing the scenario loader: whatever YAML text a hostile author writes, the outcome is
a valid scenario or a clean refusal (exit 2, located problems), in bounded time and memory.

The texts are structured, not random bytes: valid scenarios, mutated (fields dropped,
duplicated or given values of the wrong type), then written out as YAML with anchors,
aliases, merge keys, odd scalars and tags, deep nesting and alias bombs mixed in.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from harness.cli.app import main
from harness.documents.limits import Limits
from harness.documents.source import SourceError, read_source
from harness.errors import ExitCode

MAX_FILE = "64K"
LIMITS = Limits(max_file_bytes=64 * 1024)
PEAK_BYTES = 48 * 1024 * 1024

HTTP_TASK = {
    "name": "call",
    "taskReferenceName": "call",
    "type": "HTTP",
    "inputParameters": {"http_request": {"uri": "http://stub/echo", "method": "GET"}},
}
BASES: list[dict[str, Any]] = [
    {
        "name": "tiny",
        "definitions": {
            "workflows": [
                {
                    "name": "wf",
                    "tasks": [
                        {"name": "cc_work", "taskReferenceName": "work"},
                        {"name": "gate", "taskReferenceName": "gate", "type": "WAIT"},
                    ],
                }
            ]
        },
        "steps": [
            {"start": {"workflow": "wf", "as": "main", "input": {"n": 1}}},
            {"wait": {"workflow": "main", "status": "COMPLETED"}},
        ],
    },
    {
        "name": "http",
        "tags": ["http"],
        "http_stub": {"routes": [{"path": "/echo", "method": "GET", "echo": True}]},
        "definitions": {"workflows": [{"name": "hw", "tasks": [HTTP_TASK]}]},
        "steps": [
            {"start": {"workflow": "hw", "input": {"forks": [HTTP_TASK]}}},
            {"register": {"workflows": [{"name": "late", "tasks": [HTTP_TASK]}]}},
            {"call": {"method": "POST", "path": "/api/workflow/hw", "body": {"x": 1}}},
        ],
    },
    {
        "name": "workers",
        "task_defaults": {"retryCount": 1},
        "applies_to": {"netflix": ">=3.15"},
        "timeouts": {"settle_s": 5},
        "definitions": {
            "task_defs": [{"name": "cc_w"}],
            "workflows": [
                {
                    "name": "ww",
                    "tasks": [
                        {
                            "name": "sw",
                            "taskReferenceName": "sw",
                            "type": "SWITCH",
                            "evaluatorType": "value-param",
                            "expression": "k",
                            "decisionCases": {"a": [{"name": "cc_w", "taskReferenceName": "w"}]},
                        }
                    ],
                }
            ],
        },
        "workers": {
            "cc_w": {"script": [{"when": {"attempt": 1}, "do": "fail"}, {"do": "complete"}]}
        },
        "steps": [{"start": {"workflow": "ww", "as": "m"}}, {"pause": "m"}, {"resume": "m"}],
    },
]

SIMPLE = {"name": "cc_s", "taskReferenceName": "s"}
BASES.append(
    {
        "name": "shapes",
        "definitions": {
            "workflows": [
                {
                    "name": "shapes_wf",
                    "tasks": [
                        {
                            "name": "fork",
                            "taskReferenceName": "fork",
                            "type": "FORK_JOIN",
                            "forkTasks": [[SIMPLE], [{**SIMPLE, "taskReferenceName": "s2"}]],
                        },
                        {"name": "join", "taskReferenceName": "join", "type": "JOIN"},
                        {
                            "name": "loop",
                            "taskReferenceName": "loop",
                            "type": "DO_WHILE",
                            "loopCondition": "false",
                            "loopOver": [{**SIMPLE, "taskReferenceName": "s3"}],
                        },
                        {
                            "name": "child",
                            "taskReferenceName": "child",
                            "type": "SUB_WORKFLOW",
                            "subWorkflowParam": {
                                "name": "inline",
                                "workflowDefinition": {"name": "inline", "tasks": [HTTP_TASK]},
                            },
                        },
                        {
                            "name": "dyn",
                            "taskReferenceName": "dyn",
                            "type": "FORK_JOIN_DYNAMIC",
                            "dynamicForkTasksParam": "forks",
                            "inputParameters": {"forks": "${workflow.input.forks}"},
                        },
                    ],
                }
            ]
        },
        "steps": [{"start": {"workflow": "shapes_wf", "input": {"forks": [HTTP_TASK]}}}],
    }
)

ODD_SCALARS = [
    "~", "null", "yes", "off", "0x1F", "0o17", "1_000", ".nan", "-.inf", "1e999", "2020-13-45",
    "2024-01-01T00:00:00Z", "''", '"\\u0000"', '"\\ud800"', "!!binary aGVsbG8=", "!foo bar",
    "!!str 12", "!!int x", "!!float abc", "!!python/object:os.system ls", "!!set {a, b}",
    "!!omap [a: 1]", "9" * 5000, "<<", "*nowhere", "&dangling x", "'http://EVIL/x'",
    "HTTP://STUB/x", "'${workflow.input.u}'", "[", "}", "@at", "`tick", "? k", "- x", "%TAG",
]  # fmt: skip

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
PLAIN_KEY = re.compile(r"[A-Za-z_][\w.-]*")


Path_ = tuple[str | int, ...]
MUTATIONS = [
    *["json", "retype", "retype"],  # wrong types are what crash code after the schema
    *["odd", "drop", "deep", "anchor", "alias", "merge", "duplicate"],
]


def paths_of(value: Any, base: Path_ = ()) -> list[Path_]:
    """Every path in ``value``, in document order."""
    found = [base]
    if isinstance(value, dict):
        for name, child in value.items():
            found += paths_of(child, (*base, name))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths_of(child, (*base, index))
    return found


class Writer:
    """Writes a value as flow-style YAML, applying the mutations planned for its paths."""

    def __init__(self, data: st.DataObject, document: dict[str, Any]) -> None:
        self.data = data
        paths = paths_of(document)[1:]
        containers = [p for p in paths if isinstance(_at(document, p), dict | list)]
        paths += containers * 2  # mutated containers reach the checks with odd shapes
        count = data.draw(st.integers(0, 6))
        self.plan: dict[Path_, str] = {
            data.draw(st.sampled_from(paths)): data.draw(st.sampled_from(MUTATIONS))
            for _ in range(count)
        }
        self.anchors: list[str] = []

    def value(self, value: Any, path: Path_) -> str:
        mutation = self.plan.get(path)
        if mutation == "alias":
            return "*" + (self.data.draw(st.sampled_from(self.anchors)) if self.anchors else "a9")
        if mutation == "odd":
            return self.data.draw(st.sampled_from(ODD_SCALARS))
        if mutation == "json":
            value = self.data.draw(JSON)
        if mutation == "retype":
            value = retyped(value)
        if mutation == "deep":
            levels = self.data.draw(st.integers(1, 130))
            return "[" * levels + self.plain(value, path) + "]" * levels
        text = self.plain(value, path)
        anchored = mutation == "anchor" or (
            mutation is None
            and isinstance(value, dict | list)
            and self.data.draw(st.integers(0, 99)) < 5
        )
        if anchored:
            name = f"a{len(self.anchors)}"
            self.anchors.append(name)
            return f"&{name} {text}"
        return text

    def plain(self, value: Any, path: Path_) -> str:
        if isinstance(value, dict):
            return self.mapping(value, path)
        if isinstance(value, list):
            return "[" + ", ".join(self.value(v, (*path, i)) for i, v in enumerate(value)) + "]"
        return json.dumps(value)

    def mapping(self, value: dict[str, Any], path: Path_) -> str:
        entries = [
            f"{key(k)}: {self.value(v, (*path, k))}"
            for k, v in value.items()
            if self.plan.get((*path, k)) != "drop"
        ]
        mutation = self.plan.get(path)
        if entries and mutation == "duplicate":
            entries.append(entries[0])
        if mutation == "merge":
            entries.insert(
                self.data.draw(st.integers(0, len(entries))), "<<: " + self.merge_source()
            )
        return "{" + ", ".join(entries) + "}"

    def merge_source(self) -> str:
        options = ["3", "[]", "[1, {a: 1}]", json.dumps(self.data.draw(JSON))]
        if self.anchors:
            alias = "*" + self.data.draw(st.sampled_from(self.anchors))
            options += [alias, alias, f"[{alias}, {{extra: 1}}]"]
        return self.data.draw(st.sampled_from(options))

    def bomb(self) -> str:
        width = self.data.draw(st.integers(2, 12))
        levels = self.data.draw(st.integers(1, 9))
        base = len(self.anchors)
        parts = [f"l0: &b{base}_0 [" + ", ".join(["lol"] * width) + "]"]
        for i in range(1, levels):
            parts.append(f"l{i}: &b{base}_{i} [" + ", ".join([f"*b{base}_{i - 1}"] * width) + "]")
        return "{" + ", ".join(parts) + "}"


def _at(value: Any, path: Path_) -> Any:
    for part in path:
        value = value[part]
    return value


def retyped(value: Any) -> Any:
    """The same content in another shape: a mapping's values as a list, and so on."""
    if isinstance(value, dict):
        return list(value.values()) or "text"
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)} if value else 7
    return [value] if isinstance(value, str) else {"k": value}


def key(name: str | int) -> str:
    return str(name) if PLAIN_KEY.fullmatch(str(name)) else json.dumps(str(name))


@st.composite
def scenario_texts(draw: st.DrawFn) -> str:
    document = draw(st.sampled_from(BASES))
    writer = Writer(draw(st.data()), document)
    lines = [f"{key(k)}: {writer.value(v, (k,))}" for k, v in document.items()]
    if draw(st.integers(0, 99)) < 10:
        lines.insert(draw(st.integers(0, len(lines))), "laughs: " + writer.bomb())
    if draw(st.integers(0, 99)) < 3:
        lines = lines[: draw(st.integers(0, len(lines)))]  # truncated
    return "\n".join(lines) + "\n"


def _values(value: Any) -> int:
    count, pending = 0, [value]
    while pending:
        item = pending.pop()
        count += 1
        if isinstance(item, dict):
            count += len(item)  # keys are values too
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return count


def test_every_base_document_is_valid() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for index, base in enumerate(BASES):
            path = Path(folder) / f"s{index}.yaml"
            path.write_text(json.dumps(base))
            assert _validate(path) == ExitCode.OK


def _validate(path: Path) -> int:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", "--max-file-size", MAX_FILE, str(path)])
    assert "Traceback" not in err.getvalue(), err.getvalue()
    return code


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=timedelta(seconds=5),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario_texts())
def test_the_loader_accepts_or_refuses_cleanly(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        tracemalloc.start()
        try:
            code = _validate(path)
            event(f"exit {code}")
            assert code in (ExitCode.OK, ExitCode.BAD_INPUT)
            try:
                data = read_source(path, LIMITS).data
            except SourceError:
                data = None
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert _values(data) <= LIMITS.max_values
    assert peak < PEAK_BYTES, f"peak {peak} bytes"

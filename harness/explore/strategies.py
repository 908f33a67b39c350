"""Hypothesis strategies for whole scenarios: a workflow of the task types both lines
know, nested (forks, loops, switches, a sub-workflow), its workers' behaviours and the
steps that play it.

A scenario is drawn as a small tree of ``Node`` values and rendered to a scenario
document afterwards, so that references, joins and expressions are always consistent:
whatever Hypothesis draws (or shrinks to) is a valid scenario. Everything generated ends
by itself: loops run a drawn number of iterations (at most ``MAX_ITERATIONS``), waits last
a second or two, workers fail at most ``MAX_RETRIES`` times before they complete, and the
scenario waits for any final status of the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

MAX_ITERATIONS = 2
MAX_RETRIES = 2
MAX_WORKERS = 3
MAX_DEPTH = 2
FINAL = ["COMPLETED", "FAILED", "TERMINATED", "TIMED_OUT"]
WORKFLOW = "explore_wf"
CHILD = "explore_child"


@dataclass(frozen=True, slots=True)
class Node:
    """One task of the tree: its ``kind``, drawn details (``spec``) and, for composite
    tasks, the task lists it holds (``lists``: a fork's branches, a switch's cases with
    the default last, a loop's or a sub-workflow's body)."""

    kind: str
    spec: tuple[Any, ...] = ()
    lists: tuple[tuple[Node, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class Worker:
    """A worker task type: its retries and what its worker does on each delivery."""

    retries: int
    behaviour: str  # complete | fail_once | fail_always | fail_terminal | in_progress | logs
    output: str  # none | attempt | input | nested


@dataclass(frozen=True, slots=True)
class Drawn:
    workers: tuple[Worker, ...]
    tasks: tuple[Node, ...]
    child: tuple[Node, ...]
    inputs: tuple[tuple[str, Any], ...]
    outputs: tuple[int, ...]  # which tasks' outputs the workflow's output names


# An expression is drawn as (form, index): the index picks an earlier task, an input key
# or a variable when rendered, modulo what exists there.
EXPRESSION_FORMS = (
    "literal",
    "input",
    "missing_input",
    "output",
    "output_key",
    "variable",
    "template",
    "nested",
    "status",
)
expressions = st.tuples(st.sampled_from(EXPRESSION_FORMS), st.integers(0, 7))
parameters = st.lists(expressions, max_size=2)

# Values are built with ``tuples(...).map``, not ``builds``: Hypothesis prints a drawing
# built by ``builds`` as the calls that made it, which takes time exponential in the
# depth of the tree; a mapped value prints as its own repr.
workers = st.tuples(
    st.integers(0, MAX_RETRIES),
    st.sampled_from(
        ["complete", "fail_once", "fail_always", "fail_terminal", "in_progress", "logs"]
    ),
    st.sampled_from(["none", "attempt", "input", "nested"]),
).map(lambda t: Worker(*t))

LEAVES = ("SIMPLE", "INLINE", "JSON_JQ_TRANSFORM", "SET_VARIABLE", "WAIT", "NOOP", "TERMINATE")


def _leaf(kind: str) -> st.SearchStrategy[Node]:
    if kind == "SIMPLE":  # which worker, optional, parameters
        spec: st.SearchStrategy[tuple[Any, ...]] = st.tuples(
            st.integers(0, MAX_WORKERS - 1), st.booleans(), parameters
        )
    elif kind in ("INLINE", "JSON_JQ_TRANSFORM"):  # which expression, parameters
        spec = st.tuples(st.integers(0, 4), parameters)
    elif kind == "SET_VARIABLE":
        spec = st.tuples(st.integers(0, 2), parameters)
    elif kind == "WAIT":
        spec = st.tuples(st.integers(1, 2))
    elif kind == "TERMINATE":
        spec = st.tuples(st.sampled_from(["COMPLETED", "FAILED"]), parameters)
    else:
        spec = st.tuples(parameters)
    return spec.map(lambda drawn_spec: Node(kind, drawn_spec))


leaves = st.one_of(*[_leaf(k) for k in LEAVES if k != "TERMINATE"])


def task_lists(depth: int, *, sub: bool) -> st.SearchStrategy[tuple[Node, ...]]:
    """A list of tasks; composite ones hold lists one level deeper (``MAX_DEPTH``), and
    only the top can hold a sub-workflow or a loop (no loop inside a loop)."""
    size = 4 if depth == 0 else 2
    options: list[st.SearchStrategy[Node]] = [leaves]
    if depth < MAX_DEPTH:
        inner = task_lists(depth + 1, sub=False)
        branches = st.lists(inner, min_size=2, max_size=3).map(tuple)
        options.append(branches.map(lambda lists: Node("FORK_JOIN", (), lists)))
        options.append(
            st.tuples(
                st.tuples(st.sampled_from(["value-param", "javascript"]), st.integers(0, 2)),
                st.lists(inner, min_size=1, max_size=3).map(tuple),
            ).map(lambda t: Node("SWITCH", t[0], t[1]))
        )
        if depth == 0:
            options.append(
                st.tuples(st.integers(1, MAX_ITERATIONS), inner).map(
                    lambda t: Node("DO_WHILE", (t[0],), (t[1],))
                )
            )
    if sub:
        options.append(st.just(Node("SUB_WORKFLOW")))
    body = st.lists(st.one_of(*options), min_size=1, max_size=size).map(tuple)
    if depth == 0:
        return body
    # a branch may end its workflow: a TERMINATE as its last task
    return st.tuples(body, st.one_of(st.none(), _leaf("TERMINATE"))).map(
        lambda pair: pair[0] + ((pair[1],) if pair[1] is not None else ())
    )


inputs = st.lists(
    st.tuples(
        st.sampled_from(["a", "s", "l", "m", "choice"]),
        st.one_of(
            st.integers(-3, 3),
            st.sampled_from(["x", "", "two words"]),
            st.lists(st.integers(0, 3), max_size=3),
            st.none(),
        ),
    ),
    max_size=4,
    unique_by=lambda kv: kv[0],
).map(tuple)

drawn = st.tuples(
    st.lists(workers, min_size=1, max_size=MAX_WORKERS).map(tuple),
    task_lists(0, sub=True),
    task_lists(1, sub=False),
    inputs,
    st.lists(st.integers(0, 7), max_size=2).map(tuple),
).map(lambda t: Drawn(*t))

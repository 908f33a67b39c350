"""The scrub spec: each rule, on traces recorded from real servers."""

from __future__ import annotations

import gc
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.documents import DocumentError
from harness.normalize import Pattern, load_spec, render, scrub_trace
from harness.normalize.collect import collection_paused
from harness.normalize.paths import _match, extend, split_pattern
from tests.unit.traces import FIXTURES, scenario_names, trace

SPEC = load_spec()


def _text(value: object) -> str:
    return json.dumps(value)


def test_ids_become_symbols_in_order_of_appearance_even_inside_text() -> None:
    raw = trace("oss-3.32.1", "retry-restart-rerun")
    scrubbed = scrub_trace(raw, SPEC)
    failed = scrubbed.trace["steps"][1]["snapshots"][0]
    assert failed["workflowId"] == "<wf1>"
    assert [t["taskId"] for t in failed["tasks"]] == ["<wf1/first#0>", "<wf1/second#0>"]
    # the reason embeds the task's UUID; it is replaced, not left to differ
    assert failed["reasonForIncompletion"].startswith("Task <wf1/second#0> failed")
    # restart reuses reference names with new ids: the second id of a name gets ~2
    assert "wf1/first#0~2" in scrubbed.symbols.values()
    uuid = SPEC.of_kind("ids")[0].pattern
    assert uuid is not None
    assert not uuid.search(_text(scrubbed.trace["steps"])), "a UUID survived in the snapshots"
    assert scrubbed.summary()["ids"]["count"] > 50


def test_timestamps_become_invariants_and_a_broken_order_stays_visible() -> None:
    scrubbed = scrub_trace(trace("oss-3.32.1", "inline"), SPEC).trace
    tasks = scrubbed["steps"][-1]["snapshots"][0]["tasks"]
    assert all(t["scheduledTime"] == "<time>" for t in tasks)
    # oss 3.32.1 stamps INLINE tasks as started before they were scheduled (measured)
    assert {t["startTime"] for t in tasks} == {"<time:before scheduledTime>"}
    netflix = scrub_trace(trace("netflix-3.15.0", "inline"), SPEC).trace
    assert {t["startTime"] for t in netflix["steps"][-1]["snapshots"][0]["tasks"]} == {"<time>"}


def test_on_postgres_a_start_before_the_schedule_is_noise_of_every_version() -> None:
    """Two runs of one scenario on oss:3.21.14 with the postgres profile: the DAO stamps
    scheduledTime at insert, so one run has startTime before it and the other not. Kept
    apart on other backends, the order is scrubbed on PostgreSQL, and the runs agree."""
    folder = FIXTURES / "profiles" / "postgres" / "oss-3.21.14"
    runs = [
        json.loads((folder / f"upgrade-human{s}.trace.json").read_text()) for s in ("", ".run2")
    ]
    assert all(r["target"]["backend"] == "postgres" for r in runs)

    def starts(raw: dict[str, Any]) -> set[str]:
        steps = scrub_trace(raw, SPEC).trace["steps"]
        return {t["startTime"] for s in steps for d in s.get("snapshots") or [] for t in d["tasks"]}

    assert [_late(r) for r in runs] == [True, False]  # the raw order differs between runs
    assert starts(runs[0]) == starts(runs[1])
    assert not any("before scheduledTime" in v for r in runs for v in starts(r))
    elsewhere = dict(runs[0], target=dict(runs[0]["target"], backend="redis"))
    assert "<time:before scheduledTime>" in starts(elsewhere)


def _late(raw: dict[str, Any]) -> bool:
    return any(
        0 < t.get("startTime", 0) < t.get("scheduledTime", 0)
        for s in raw["steps"]
        for d in s.get("snapshots") or []
        for t in d["tasks"]
    )


def test_unset_timestamps_are_kept_apart_from_set_ones() -> None:
    scrubbed = scrub_trace(trace("netflix-3.15.0", "terminate-skip-decide"), SPEC)
    values = {
        t.get("scheduledTime")
        for s in scrubbed.trace["steps"]
        for d in s.get("snapshots") or []
        for t in d["tasks"]
    }
    assert {"<time>", "<unset>"} <= values


def test_timing_counters_are_scrubbed_and_numbers_are_kept_as_each_version_writes_them() -> None:
    scrubbed = scrub_trace(trace("netflix-3.15.0", "inline"), SPEC)
    assert scrubbed.summary()["timing-counters"]["count"] > 0
    # Nashorn on 3.15.0 answers 3 + 4 with 7.0 and GraalJS with 7: a difference between
    # versions (the catalog's graaljs change), so the scrub leaves it
    computed = scrubbed.trace["steps"][-1]["snapshots"][0]["output"]["computed"]
    assert computed["sum"] == 7.0 and isinstance(computed["sum"], float)
    assert computed["half"] == 1.5


def test_system_task_poll_counts_are_counters_and_worker_ones_are_not() -> None:
    scrubbed = scrub_trace(trace("oss-3.32.1", "fork-join", run=1, single=False), SPEC)
    tasks = scrubbed.trace["steps"][-1]["snapshots"][0]["tasks"]
    polls = {t["taskType"]: t.get("pollCount") for t in tasks}
    assert polls["JOIN"] == "<count>"  # how often the server evaluated the join: timing
    assert polls["cc_branch_a1"] == 1  # a worker task's polls are part of the contract
    assert scrubbed.summary()["system-task-poll-counts"]["count"] > 0


def test_a_sub_workflow_tasks_executed_flag_is_timing_and_other_tasks_keep_theirs() -> None:
    recorded = trace("oss-3.21.14", "oss-e2e.workflow_rate_limit_in_progress_parent")
    scrubbed = scrub_trace(recorded, SPEC)
    tasks = scrubbed.trace["steps"][-1]["snapshots"][0]["tasks"]
    flags = {t["referenceTaskName"]: t.get("executed") for t in tasks}
    assert flags["sub_workflow_ref"] == "<timing>"  # when the parent was decided again
    assert isinstance(flags["wait_ref"], bool)  # a WAIT's flag is left alone
    assert scrubbed.summary()["sub-workflow-executed-flag"]["count"] > 0


def test_empty_collections_and_definition_defaults_are_kept() -> None:
    """conductor-oss always writes empty collections and default fields that 3.15.0 leaves
    out: a difference between versions (catalogued), not run-to-run variation."""
    scrubbed = scrub_trace(trace("oss-3.32.1", "simple-sequential"), SPEC)
    assert not {"empty-as-absent", "definition-defaults"} & set(scrubbed.summary())
    task = scrubbed.trace["steps"][-1]["snapshots"][0]["tasks"][0]
    assert task["workflowTask"]["forkTasks"] == []


def test_unordered_sets_are_sorted() -> None:
    raw = trace("oss-3.32.1", "retry-restart-rerun")
    scrubbed = scrub_trace(raw, SPEC).trace
    for step in scrubbed["steps"]:
        for document in step.get("snapshots") or []:
            names = document.get("failedReferenceTaskNames")
            if names:
                assert names == sorted(names)


@pytest.mark.parametrize("name", scenario_names())
def test_scrubbing_twice_changes_nothing(name: str) -> None:
    once = scrub_trace(trace("netflix-3.15.0", name), SPEC)
    twice = scrub_trace(once.trace, SPEC)
    assert twice.trace == once.trace
    assert twice.summary() == {}


def test_the_input_trace_is_not_changed() -> None:
    raw = trace("oss-3.32.1", "fork-join")
    before = _text(raw)
    scrub_trace(raw, SPEC)
    assert _text(raw) == before


def test_a_user_file_adds_rules_and_turns_shipped_ones_off(tmp_path: Path) -> None:
    extra = tmp_path / "mine.scrub.yaml"
    extra.write_text(
        textwrap.dedent("""\
        scrub_format: 1
        rules:
          - name: timing-counters
            kind: counters
            why: off, to see the queue wait times
            fields: ["**.queueWaitTime"]
            enabled: false
          - name: owner-domain
            kind: rewrite
            why: owners differ between our environments
            fields: ["**.ownerEmail"]
            pattern: '@([a-z]+)[.]org'
            replacement: '@\\1'
        """)
    )
    spec = load_spec([extra])
    assert "timing-counters" not in [r.name for r in spec.rules]
    scrubbed = scrub_trace(trace("netflix-3.15.0", "inline"), spec)
    assert "timing-counters" not in scrubbed.summary()
    assert scrubbed.summary()["owner-domain"]["count"] > 0
    assert '"compat@example"' in _text(scrubbed.trace["steps"])
    assert spec.digest != SPEC.digest


def test_an_invalid_scrub_file_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scrub_format: 1\nrules:\n  - name: x\n    kind: timestamp\n    why: y\n")
    with pytest.raises(DocumentError) as caught:
        load_spec([bad])
    assert f"{bad}:4:11:" in caught.value.details[0]
    assert "timestamps" in caught.value.details[0]  # did you mean


def test_paths_render_and_parse_back() -> None:
    path = ("api", 3, "step GET /api/metadata/taskdefs/{{name.x}} #1", "body", "name")
    text = render(path)
    assert text == 'api[3]["step GET /api/metadata/taskdefs/{{name.x}} #1"].body.name'
    assert split_pattern(text) == tuple(str(p) for p in path)
    assert Pattern.parse("**.body.*").matches(path)
    assert Pattern.parse("api[*].*.body.name").matches(path)
    assert not Pattern.parse("attempts.**").matches(path)


_KEYS = st.sampled_from(["a", "b", "body", "0", "*", "**", "a*", "x?"])
_PATH_KEYS = st.one_of(st.sampled_from(["a", "b", "body", "x1", "0"]), st.integers(0, 2))


@given(pattern=st.lists(_KEYS, min_size=1, max_size=5), path=st.lists(_PATH_KEYS, max_size=6))
def test_the_last_key_check_never_changes_a_match(
    pattern: list[str], path: list[str | int]
) -> None:
    """Pattern.matches skips the walk when the path cannot end with the pattern's literal
    last key; its answer is always the walk's."""
    compiled = Pattern.parse(".".join(pattern))
    assert compiled.matches(path) == _match(compiled.parts, tuple(str(p) for p in path))


_PARTS = st.one_of(
    st.sampled_from(["a", "body", "", "x.y", "a b", 'q"', "[1]", "*", "é"]), st.integers(0, 12)
)


@given(path=st.lists(_PARTS, max_size=6))
def test_a_path_rendered_part_by_part_is_the_path_rendered(path: list[str | int]) -> None:
    rendered = ""
    for part in path:
        rendered = extend(rendered, part)
    assert rendered == render(path)


@pytest.mark.skipif(not gc.isenabled() or gc.get_freeze_count() > 0, reason="gc state")
def test_what_a_paused_walk_made_is_moved_to_the_oldest_generation() -> None:
    with collection_paused():
        made = [[i] for i in range(100)]
        assert not gc.isenabled()
    assert gc.isenabled()
    assert any(o is made for o in gc.get_objects(generation=2))


def test_a_paused_walk_leaves_frozen_objects_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collection_paused():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()

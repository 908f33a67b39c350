"""The report says when an imported scenario's workflow failed on the importer's
placeholder input: on traces recorded from real servers (the library, oss:3.32.1, where
the corpus's keep_last_n examples read numbers and lists the importer filled with text)."""

from __future__ import annotations

from pathlib import Path

from harness.classify import assess_run, load_settings
from harness.classify.imported import placeholder_notices
from harness.traces import load_trace_set
from tests.unit.traces import library_traces

NAMES = ["oss-e2e.keep_last_n_example", "oss-e2e.broken_idempotency_logic_wf"]


def test_a_workflow_that_failed_on_placeholder_input_is_named_with_its_keys() -> None:
    traces = load_trace_set(Path(library_traces("oss-3.32.1"))).restrict(set(NAMES))
    (notice,) = placeholder_notices(traces, NAMES, "the baseline")
    assert notice.startswith("oss-e2e.keep_last_n_example: the workflow ended FAILED on the")
    assert "(batch, batchSize, values)" in notice and "import --input FILE" in notice


def test_the_report_carries_the_notice_for_either_side() -> None:
    newer = load_trace_set(Path(library_traces("oss-3.32.1"))).restrict(set(NAMES))
    older = load_trace_set(Path(library_traces("oss-3.21.14"))).restrict(set(NAMES))
    result = assess_run(older, newer, load_settings(), names=NAMES)
    assert [n.split(":")[0] for n in result.notices if "placeholder" in n] == [NAMES[0]]
    assert "on oss:3.32.1" in next(n for n in result.notices if "placeholder" in n)

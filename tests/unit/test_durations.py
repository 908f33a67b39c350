"""Runs start longest first, by the durations remembered from the last play on a target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.pipeline import durations
from harness.runner.session import Schedule
from harness.scenarios import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "scenarios").rglob("*.yaml"))[:4]


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CONDUCTOR_COMPAT_CACHE", str(tmp_path))
    return tmp_path


def _order(plan: Schedule, ends_at_once: int = 1) -> list[tuple[str, int]]:
    """The runs in the order they start when ``ends_at_once`` run at a time and each
    ends before the next batch starts."""
    started: list[tuple[str, int]] = []
    while plan.left:
        batch: list[tuple[Scenario, int]] = []
        while len(batch) < ends_at_once and (picked := plan.next()) is not None:
            batch.append(picked)
        assert batch, "no run may start, yet runs are left"
        started += [(s.name, r) for s, r in batch]
        for scenario, _ in batch:
            plan.done(scenario)
    return started


def test_runs_start_longest_first_and_unknown_scenarios_before_all() -> None:
    a, b, c, d = (load_scenario(f) for f in FILES)
    runs = [(s, r) for r in (1, 2) for s in (a, b, c, d)]
    given = [(s.name, r) for s, r in runs]
    assert _order(Schedule(runs, None), 4) == given
    assert _order(Schedule(runs, {}), 4) == given
    # first runs before repeats, each longest first (never seen: it may be long)
    assert _order(Schedule(runs, {a.name: 1.0, b.name: 60.0, c.name: 5.0})) == [
        (d.name, 1), (b.name, 1), (c.name, 1), (a.name, 1),
        (d.name, 2), (b.name, 2), (c.name, 2), (a.name, 2),
    ]  # fmt: skip


def _next(plan: Schedule) -> tuple[str, int] | None:
    picked = plan.next()
    return (picked[0].name, picked[1]) if picked else None


def test_two_runs_of_one_scenario_never_overlap() -> None:
    a, b, c, _ = (load_scenario(f) for f in FILES)
    runs = [(a, 1), (a, 2), (a, 3), (b, 1), (c, 1)]
    plan = Schedule(runs, {a.name: 60.0, b.name: 1.0, c.name: 2.0})
    assert [_next(plan) for _ in range(3)] == [(a.name, 1), (c.name, 1), (b.name, 1)]
    assert plan.next() is None and not plan.ready_or_over  # a's second waits for its first
    plan.done(b)
    assert plan.next() is None
    plan.done(a)
    assert _next(plan) == (a.name, 2)
    assert plan.next() is None  # a's third waits for its second
    plan.done(c)
    plan.done(a)
    assert _next(plan) == (a.name, 3)
    plan.done(a)
    assert plan.left == 0 and plan.ready_or_over and plan.next() is None


def test_durations_are_remembered_per_target_latest_play_wins(cache: Path) -> None:
    assert durations.expected("netflix:3.15.0") == {}
    durations.remember("netflix:3.15.0", [("wait", 3.0), ("wait", 4.5), ("inline", 0.4)])
    durations.remember("oss:3.32.1", [("wait", 9.0)])
    assert durations.expected("netflix:3.15.0") == {"wait": 4.5, "inline": 0.4}
    durations.remember("netflix:3.15.0", [("wait", 2.0)])
    assert durations.expected("netflix:3.15.0") == {"wait": 2.0, "inline": 0.4}
    assert durations.store("oss:3.32.1") == cache / "durations" / "oss-3.32.1.json"
    assert sorted(p.name for p in (cache / "durations").iterdir()) == [
        "netflix-3.15.0.json",
        "oss-3.32.1.json",
    ]  # no temporary file left


def test_a_damaged_file_orders_nothing_and_is_replaced(cache: Path) -> None:
    path = durations.store("remote:http://127.0.0.1:8080")
    path.parent.mkdir(parents=True)
    for text, kept in [
        ("{not json", {}),
        ("[1, 2]", {}),
        ('{"a": "slow", "b": true, "c": NaN, "d": 2}', {"d": 2.0}),
    ]:
        path.write_text(text, encoding="utf-8")
        assert durations.expected("remote:http://127.0.0.1:8080") == kept
    durations.remember("remote:http://127.0.0.1:8080", [("e", 1.0)])
    assert json.loads(path.read_text(encoding="utf-8")) == {"d": 2.0, "e": 1.0}

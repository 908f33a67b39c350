"""The shipped allowlist: valid, each entry tied to the conductor-oss change that made it,
and used by default."""

from __future__ import annotations

import datetime

import yaml

from harness.classify import known_differences_path, load_allowlist


def test_the_shipped_allowlist_loads_and_links_each_entry_to_conductor_oss() -> None:
    allowlist = load_allowlist(known_differences_path())
    entries = yaml.safe_load(known_differences_path().read_text())["entries"]
    assert len(entries) >= 10
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    for entry in entries:
        assert entry["link"].startswith("https://github.com/conductor-oss/conductor/"), entry
        assert entry["candidate"], f"{entry['id']}: scoped to the versions that changed"
        assert datetime.date.fromisoformat(entry["expires"]) > datetime.date(2026, 11, 25)
    assert allowlist is not None

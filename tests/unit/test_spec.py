from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import BadInputError
from harness.targets.spec import Flavor, TargetSpec, auth_headers, parse_target


def test_parses_versions_of_both_lines() -> None:
    assert parse_target("netflix:3.15.0") == TargetSpec(Flavor.NETFLIX, "3.15.0")
    assert parse_target("OSS:3.32.1") == TargetSpec(Flavor.OSS, "3.32.1")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("3.15.0", "is not a target"),
        ("orkes:3.15.0", "Known flavors: netflix, oss, remote"),
        ("netflix:latest", "is not a version"),
        ("netflix:", "is not a target"),
        ("remote:ftp://h", "http(s) URL"),
        ("remote:http://user:secret@h:8080", "credentials are not accepted"),
    ],
)
def test_rejects_bad_targets_with_a_reason(text: str, fragment: str) -> None:
    with pytest.raises(BadInputError, match=None) as err:
        parse_target(text)
    assert fragment in err.value.message
    assert "secret" not in err.value.message


def test_remote_url_keeps_the_server_root() -> None:
    assert parse_target("remote:http://127.0.0.1:8080/api/").url == "http://127.0.0.1:8080"
    assert parse_target("remote:https://c.example/conductor").url == "https://c.example/conductor"


versions = st.tuples(*[st.integers(0, 999)] * 3).map(lambda t: ".".join(map(str, t)))


@given(flavor=st.sampled_from(["netflix", "oss"]), version=versions)
def test_str_round_trips(flavor: str, version: str) -> None:
    spec = parse_target(f"{flavor}:{version}")
    assert parse_target(str(spec)) == spec
    assert "/" not in spec.slug and ":" not in spec.slug


def test_auth_headers_come_from_the_environment_only() -> None:
    env = {
        "CONDUCTOR_COMPAT_HEADERS": "X-Tenant: a; X-Trace: b",
        "CONDUCTOR_COMPAT_TOKEN": "tok",
        "CONDUCTOR_COMPAT_BEARER": "jwt",
    }
    assert auth_headers(env) == {
        "X-Tenant": "a",
        "X-Trace": "b",
        "X-Authorization": "tok",
        "Authorization": "Bearer jwt",
    }
    assert auth_headers({}) == {}


def test_malformed_header_is_named_without_its_value() -> None:
    with pytest.raises(BadInputError) as err:
        auth_headers({"CONDUCTOR_COMPAT_HEADERS": "no-colon-here"})
    assert "CONDUCTOR_COMPAT_HEADERS" in err.value.message

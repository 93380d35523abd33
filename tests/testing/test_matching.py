"""Request matching: what counts as the same request."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from lightshuttle_runtime.testing import (
    Body,
    RecordedRequest,
    RequestKey,
    request_key,
    split_version,
)


def key(path: str, query: Sequence[tuple[str, str]] = (), body: bytes | None = None) -> RequestKey:
    return request_key(
        RecordedRequest(
            "GET", path, query=list(query), body=None if body is None else Body.from_bytes(body)
        )
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1.41/containers/json", ("1.41", "/containers/json")),
        ("/v1.55", ("1.55", "/")),
        ("/_ping", (None, "/_ping")),
        ("/v1.41x/y", (None, "/v1.41x/y")),
    ],
)
def test_version_prefixes_are_split(path: str, expected: tuple[str | None, str]) -> None:
    assert split_version(path) == expected


def test_query_order_does_not_matter() -> None:
    assert key("/x", [("a", "1"), ("b", "2")]) == key("/x", [("b", "2"), ("a", "1")])
    assert key("/x", [("a", "1")]) != key("/x", [("a", "2")])
    assert key("/x", [("a", "1"), ("a", "2")]) != key("/x", [("a", "1")])


def test_filters_are_compared_as_data() -> None:
    base = key("/containers/json", [("filters", '{"label":["a=b","c=d"],"status":["running"]}')])
    assert base == key(
        "/containers/json", [("filters", '{"status": ["running"], "label": ["c=d", "a=b"]}')]
    )
    assert base == key(
        "/containers/json",
        [("filters", '{"status":{"running":true},"label":{"a=b":true,"c=d":true}}')],
    )
    assert base != key("/containers/json", [("filters", '{"label":["a=b"],"status":["running"]}')])


def test_absolute_times_match_any_absolute_time() -> None:
    assert key("/events", [("since", "1764496000.5")]) == key("/events", [("since", "1800000000")])
    assert key("/events", [("since", "0")]) != key("/events", [("since", "1800000000")])
    assert key("/logs", [("until", "5")]) != key("/logs", [("until", "6")])


def test_json_bodies_are_compared_as_data() -> None:
    assert key("/x", body=b'{"a":1,"b":[1,2]}') == key("/x", body=b'{ "b": [1, 2], "a": 1 }\n')
    assert key("/x", body=b'{"b":[2,1]}') != key("/x", body=b'{"b":[1,2]}')
    assert key("/x", body=b"") == key("/x")
    assert key("/x", body=b"\x00\x01") != key("/x", body=b"\x00\x02")

"""Checks of user input made before any request is sent (``_validate``)."""

from __future__ import annotations

from typing import Any

import pytest

from lightshuttle_runtime import InvalidArgumentError
from lightshuttle_runtime._validate import check_identifier, check_name, normalize_filters


@pytest.mark.parametrize("name", ["ab", "ls-test-web", "web_1.v2", "/leading-slash", "0abc", "A-Z"])
def test_valid_names_pass_through(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "a", "-web", "_web", ".web", "web app", "web/app", "wéb", "a:b"]
)
def test_invalid_names_are_rejected(name: str) -> None:
    with pytest.raises(InvalidArgumentError, match="container name") as caught:
        check_name(name)
    assert repr(name) in str(caught.value)


def test_name_check_names_what_it_checks() -> None:
    with pytest.raises(InvalidArgumentError, match="network name '-x'"):
        check_name("-x", what="network name")


@pytest.mark.parametrize("value", [None, 42, b"web"])
def test_non_string_names_are_rejected(value: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        check_name(value)


@pytest.mark.parametrize(
    "value", ["ls-test-web", "3f2a9c1b0d4e", "busybox:local", "localhost:5000/app:1", "sha256:ab12"]
)
def test_identifiers_pass_through(value: str) -> None:
    assert check_identifier(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "a b",
        "a?b",
        "a#b",
        "a\nb",
        "a\rb",
        "a\x00b",
        None,
        7,
        "..",
        ".",
        "../images/x",
        "a/../../info",
    ],
)
def test_bad_identifiers_are_rejected(value: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="not a valid reference"):
        check_identifier(value)


def test_filters_none_stays_none() -> None:
    assert normalize_filters(None) is None


def test_filters_accept_every_documented_form() -> None:
    assert normalize_filters(
        {
            "label": ["a=b", "c"],
            "status": "running",
            "name": {"web": True, "db": False},
            "id": (),
        }
    ) == {"label": ["a=b", "c"], "status": ["running"], "name": ["web"], "id": []}


def test_filters_result_is_a_fresh_list() -> None:
    values = ["a=b"]
    normalized = normalize_filters({"label": values})
    assert normalized is not None
    normalized["label"].append("x")
    assert values == ["a=b"]


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (["label=a"], "must be a mapping"),
        ("label=a", "must be a mapping"),
        ({1: ["a"]}, "filter name 1 is not a string"),
        ({"label": 1}, "filter 'label' must be"),
        ({"label": [1]}, "filter 'label' must be"),
        ({"label": b"a=b"}, "filter 'label' must be"),
        ({"label": {"a=b": "yes"}}, "filter 'label' must be"),
        ({"label": None}, "filter 'label' must be"),
    ],
)
def test_invalid_filters_are_rejected(filters: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        normalize_filters(filters)

"""Image reference parsing (``_reference``)."""

from __future__ import annotations

from typing import Any

import pytest

from lightshuttle_runtime import ImageReference, InvalidArgumentError, parse_reference

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "repository", "tag", "digest"),
    [
        ("busybox", "busybox", None, None),
        ("busybox:local", "busybox", "local", None),
        ("library/busybox:1.36", "library/busybox", "1.36", None),
        ("docker.io/library/busybox:latest", "docker.io/library/busybox", "latest", None),
        ("localhost:5000/app", "localhost:5000/app", None, None),
        ("localhost:5000/app:1", "localhost:5000/app", "1", None),
        (
            "registry.example.com:443/team/app:v1.2-rc_3",
            "registry.example.com:443/team/app",
            "v1.2-rc_3",
            None,
        ),
        (f"busybox@{DIGEST}", "busybox", None, DIGEST),
        (f"localhost:5000/app:1@{DIGEST}", "localhost:5000/app", "1", DIGEST),
        ("my-org/my__app.x", "my-org/my__app.x", None, None),
    ],
)
def test_parse_reference(text: str, repository: str, tag: str | None, digest: str | None) -> None:
    parsed = parse_reference(text)
    assert parsed == ImageReference(repository, tag, digest)
    assert str(parsed) == text


def test_pull_tag_defaults_to_latest_never_all_tags() -> None:
    assert parse_reference("busybox").pull_tag == "latest"
    assert parse_reference("localhost:5000/app").pull_tag == "latest"
    assert parse_reference("busybox:local").pull_tag == "local"


def test_pull_tag_prefers_the_digest() -> None:
    assert parse_reference(f"busybox:local@{DIGEST}").pull_tag == DIGEST


@pytest.mark.parametrize(
    "text",
    [
        "",
        "BusyBox",
        "busybox:",
        ":local",
        "busybox:local:again",
        "-busybox",
        "busy box",
        "busybox@sha256:short",
        "busybox/",
        "a" * 256,
        None,
        42,
    ],
)
def test_invalid_references_are_rejected(text: Any) -> None:
    with pytest.raises(InvalidArgumentError, match="image reference"):
        parse_reference(text)

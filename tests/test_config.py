"""Engine address resolution and API version parsing (``_config``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lightshuttle_runtime import (
    API_VERSION_MAX,
    API_VERSION_MIN,
    InvalidArgumentError,
    UnsupportedHostError,
    resolve_host,
)
from lightshuttle_runtime._config import DEFAULT_HOST, parse_version


@pytest.fixture(autouse=True)
def _no_docker_host(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT", "CONTAINER_HOST", "DOCKER_TLS_VERIFY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))


def test_default_host_is_docker_socket() -> None:
    address = resolve_host()
    assert address.url == DEFAULT_HOST == "unix:///var/run/docker.sock"
    assert address.socket_path == "/var/run/docker.sock"
    assert address.source == "default"


def test_docker_host_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/podman/podman.sock")
    address = resolve_host()
    assert address.socket_path == "/run/podman/podman.sock"
    assert address.source == "DOCKER_HOST"


def test_argument_wins_over_docker_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/podman/podman.sock")
    address = resolve_host("unix:///tmp/engine.sock")
    assert (address.url, address.socket_path, address.source) == (
        "unix:///tmp/engine.sock",
        "/tmp/engine.sock",
        "argument",
    )


def test_empty_docker_host_falls_back_to_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "")
    assert resolve_host().source == "default"


def test_bare_path_is_a_unix_socket() -> None:
    address = resolve_host("/run/podman/podman.sock")
    assert address.url == "unix:///run/podman/podman.sock"
    assert address.socket_path == "/run/podman/podman.sock"


def test_unknown_schemes_are_refused_and_named() -> None:
    with pytest.raises(UnsupportedHostError) as caught:
        resolve_host("gopher://x")
    assert "gopher://x" in str(caught.value)
    assert "argument" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "parsed"), [("1.41", (1, 41)), ("1.9", (1, 9)), (" 1.55 ", (1, 55)), ("2.0", (2, 0))]
)
def test_parse_version(text: str, parsed: tuple[int, int]) -> None:
    assert parse_version(text) == parsed


@pytest.mark.parametrize("text", ["", "1", "1.", ".41", "v1.41", "1.41.0", "1.x", "one.two"])
def test_parse_version_rejects_garbage(text: str) -> None:
    with pytest.raises(InvalidArgumentError, match=r"MAJOR\.MINOR"):
        parse_version(text)


def test_version_range_is_ordered() -> None:
    # 1.9 < 1.41 numerically, not as text: the range must compare as numbers
    assert parse_version(API_VERSION_MIN) < parse_version(API_VERSION_MAX)
    assert parse_version("1.9") < parse_version(API_VERSION_MIN)

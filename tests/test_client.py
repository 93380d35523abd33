"""DockerClient: construction, the transport seam, version pinning, closing.

The unit tests use an ``httpx.MockTransport``; the live ones (``engine`` fixture) check the
same behaviour against Docker and Podman.
"""

from __future__ import annotations

import httpx
import pytest

from lightshuttle_runtime import (
    API_VERSION_MAX,
    APIVersionError,
    DecodeError,
    DockerClient,
    DockerConnectionError,
    InvalidArgumentError,
    TransportKind,
    UnexpectedUpgradeError,
    UnsupportedHostError,
)
from tests.conftest import Engine, negotiated


class RecordingTransport(httpx.AsyncBaseTransport):
    """Answers like an engine of API ``api_version``; keeps the paths it saw and its closing."""

    def __init__(self, api_version: str = "1.41") -> None:
        self.api_version = api_version
        self.paths: list[str] = []
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return httpx.Response(
            200, headers={"Api-Version": self.api_version}, json={"ApiVersion": self.api_version}
        )

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_API_VERSION", raising=False)


@pytest.mark.anyio
async def test_requests_go_through_the_given_transport() -> None:
    transport = RecordingTransport("1.43")
    async with DockerClient(transport=transport) as client:
        assert client.transport is transport
        assert await client.api_version() == "1.43"
        await client.system.version()
    assert transport.paths == ["/_ping", "/v1.43/version"]


@pytest.mark.anyio
async def test_closing_the_client_closes_the_transport() -> None:
    transport = RecordingTransport()
    async with DockerClient(transport=transport):
        assert not transport.closed
    assert transport.closed


@pytest.mark.anyio
async def test_api_version_argument_pins_and_skips_ping() -> None:
    transport = RecordingTransport("1.41")
    async with DockerClient(transport=transport, api_version="1.44") as client:
        assert await client.api_version() == "1.44"
        await client.system.version()
    assert transport.paths == ["/v1.44/version"]


@pytest.mark.anyio
async def test_docker_api_version_environment_pins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_API_VERSION", "1.42")
    transport = RecordingTransport("1.41")
    async with DockerClient(transport=transport) as client:
        await client.system.version()
    assert transport.paths == ["/v1.42/version"]


@pytest.mark.anyio
async def test_api_version_argument_wins_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_API_VERSION", "1.42")
    async with DockerClient(transport=RecordingTransport(), api_version="1.41") as client:
        assert await client.api_version() == "1.41"


@pytest.mark.parametrize("version", ["latest", "1", "v1.41"])
def test_invalid_pinned_version_is_rejected_at_construction(version: str) -> None:
    with pytest.raises(InvalidArgumentError, match="MAJOR"):
        DockerClient(transport=RecordingTransport(), api_version=version)


def test_invalid_docker_api_version_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_API_VERSION", "newest")
    with pytest.raises(InvalidArgumentError, match="'newest'"):
        DockerClient(transport=RecordingTransport())


def test_host_is_resolved_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/podman/podman.sock")
    client = DockerClient(transport=RecordingTransport())
    assert client.address.socket_path == "/run/podman/podman.sock"
    assert client.address.source == "DOCKER_HOST"
    assert DockerClient("/tmp/x.sock", transport=RecordingTransport()).address.source == "argument"


@pytest.mark.parametrize("host", ["npipe:////./pipe/docker_engine", "fd://"])
def test_unsupported_host_fails_at_construction(host: str) -> None:
    with pytest.raises(UnsupportedHostError, match=host):
        DockerClient(host)


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("tcp://127.0.0.1:2375", "native"),
        ("tcp://127.0.0.1:2375", "httpx"),
        ("ssh://me@example.invalid", "native"),
        ("ssh://me@example.invalid", "httpx"),
        ("ssh://me@example.invalid/run/podman/podman.sock", "native"),
        ("ssh://me@example.invalid/run/podman/podman.sock", "httpx"),
    ],
)
def test_remote_hosts_get_a_transport_at_construction(host: str, kind: TransportKind) -> None:
    """Nothing is dialled before the first request (ssh included)."""
    assert isinstance(DockerClient(host, transport_kind=kind).transport, httpx.AsyncBaseTransport)


# -- live ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_negotiates_with_the_engine(docker: DockerClient, engine: Engine) -> None:
    # The lower of what /_ping announces and API_VERSION_MAX: Docker 20.10 and Podman 4.3
    # announce 1.41, Docker 28.5 1.51; the engine takes calls under /vX.Y/ of that version.
    announced = (await docker.system.ping()).api_version
    assert announced is not None
    version = await docker.api_version()
    assert version == negotiated(announced)
    if engine.name == "docker28":
        assert version == announced != "1.41"  # negotiated past Docker 20.10's API, live
    assert (await docker.request("GET", "/info")).status_code == 200


@pytest.mark.anyio
async def test_pinned_version_newer_than_the_engine(engine: Engine) -> None:
    async with DockerClient(engine.host, api_version=API_VERSION_MAX) as client:
        announced = (await client.system.ping()).api_version
        if engine.is_podman:
            # Podman ignores the /vX.Y prefix and answers as if it spoke any version.
            assert (await client.system.version()).api_version == announced
            return
        with pytest.raises(APIVersionError) as caught:
            await client.system.version()
    error = caught.value
    assert (error.client_version, error.server_version) == (API_VERSION_MAX, announced)
    assert (error.status, error.method, error.path) == (400, "GET", f"/v{API_VERSION_MAX}/version")
    # the engine's "too new" says nothing of the pin: the message names it and the way out
    assert "pinned by api_version" in error.message and "leave api_version= out" in error.message


@pytest.mark.anyio
async def test_a_version_pinned_by_docker_api_version_says_how_to_unset_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    too_new = "client version 1.44 is too new. Maximum supported API version is 1.41"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"message": too_new})

    monkeypatch.setenv("DOCKER_API_VERSION", "1.44")
    async with DockerClient(transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(APIVersionError) as caught:
            await client.system.version()
    error = caught.value
    assert (error.client_version, error.server_version) == ("1.44", "1.41")
    assert error.message.startswith(too_new)
    assert "pinned by DOCKER_API_VERSION" in error.message and "unset" in error.message
    monkeypatch.delenv("DOCKER_API_VERSION")
    async with DockerClient(transport=httpx.MockTransport(answer)) as client:  # negotiated
        client._session._set_version("1.44")
        with pytest.raises(APIVersionError) as caught:
            await client.system.version()
    assert caught.value.message == too_new


@pytest.mark.parametrize(("version", "source"), [("1.40", "api_version"), ("1.56", "api_version")])
def test_pinned_version_outside_the_client_range_is_rejected(version: str, source: str) -> None:
    with pytest.raises(
        InvalidArgumentError, match=rf"{source}={version} is outside .*1\.41 to 1\.55"
    ):
        DockerClient(transport=RecordingTransport(), api_version=version)


def test_docker_api_version_outside_the_range_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_API_VERSION", "1.24")
    with pytest.raises(InvalidArgumentError, match=r"DOCKER_API_VERSION=1\.24 is outside"):
        DockerClient(transport=RecordingTransport())


@pytest.mark.anyio
async def test_a_closed_client_raises_a_docker_error() -> None:
    transport = RecordingTransport("1.41")
    async with DockerClient(transport=transport) as client:
        await client.system.ping()
    with pytest.raises(DockerConnectionError, match="this DockerClient is closed"):
        await client.system.version()
    assert transport.paths == ["/_ping"]


@pytest.mark.parametrize("kind", ["native", "httpx"])
@pytest.mark.parametrize("count", [0, -1])
def test_max_connections_below_one_is_refused_on_every_transport(kind: str, count: int) -> None:
    with pytest.raises(InvalidArgumentError, match="max_connections"):
        DockerClient("unix:///nonexistent.sock", transport_kind=kind, max_connections=count)  # type: ignore[arg-type]


def test_max_connections_is_checked_even_with_a_given_transport() -> None:
    with pytest.raises(InvalidArgumentError, match="max_connections"):
        DockerClient(transport=RecordingTransport(), max_connections=0)


@pytest.mark.parametrize("kind", ["h11", "Native", "", "unix"])
def test_an_unknown_transport_kind_is_refused_naming_the_valid_ones(kind: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        DockerClient("unix:///nonexistent.sock", transport_kind=kind)  # type: ignore[arg-type]
    assert repr(kind) in str(caught.value)
    assert "'native'" in str(caught.value) and "'httpx'" in str(caught.value)


@pytest.mark.parametrize("kind", ["native", "httpx"])
def test_each_transport_kind_builds_its_transport(kind: str) -> None:
    transport = DockerClient("unix:///nonexistent.sock", transport_kind=kind).transport  # type: ignore[arg-type]
    # httpx's kind is httpx's own AsyncHTTPTransport (httpcore does its I/O); native is not
    assert isinstance(transport, httpx.AsyncHTTPTransport) == (kind == "httpx")


class Upgrading(httpx.AsyncBaseTransport):
    """Answers every request with ``101 Switching Protocols``; counts the responses closed."""

    def __init__(self) -> None:
        self.closed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self

        class Body(httpx.AsyncByteStream):
            async def __aiter__(self):  # type: ignore[no-untyped-def]
                yield b"not a body"

            async def aclose(self) -> None:
                transport.closed += 1

        return httpx.Response(101, headers={"Upgrade": "tcp"}, stream=Body())


@pytest.mark.anyio
async def test_an_unexpected_101_is_a_typed_error_naming_the_request() -> None:
    transport = Upgrading()
    async with DockerClient(transport=transport, api_version="1.41") as docker:
        with pytest.raises(UnexpectedUpgradeError) as caught:
            await docker.containers.inspect("abc")
        assert not isinstance(caught.value, DecodeError)
        assert isinstance(caught.value, DockerConnectionError)
        assert caught.value.path == "/v1.41/containers/abc/json"
        assert "101" in str(caught.value)
        with pytest.raises(UnexpectedUpgradeError):
            async with docker.containers.logs("abc", tty=False, follow=True) as logs:
                async for _ in logs:
                    raise AssertionError("an upgraded connection's bytes were read as logs")
    assert transport.closed == 2, "the upgraded connections were not closed"

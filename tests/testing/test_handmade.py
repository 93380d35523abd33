"""Hand-made cassettes (tests/cassettes/handmade/) for answers no local engine gives on demand.

Written by hand from the API specs in ../shared/docker-api/ and the engines' known wording. Each
one drives the real client through the cassette and checks the typed error it must raise; every
interaction of each cassette must be played.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from lightshuttle_runtime import (
    APIVersionError,
    DockerClient,
    ServerError,
    StreamError,
)
from lightshuttle_runtime.testing import CassetteTransport

pytestmark = pytest.mark.anyio

HANDMADE = Path(__file__).parent.parent / "cassettes" / "handmade"


@asynccontextmanager
async def replaying(
    name: str, api_version: str | None = None, rechunk: int | None = None
) -> AsyncIterator[DockerClient]:
    """A client on the hand-made cassette ``name``; every interaction must be played."""
    cassette = CassetteTransport(HANDMADE / f"{name}.json", rechunk=rechunk)
    async with DockerClient(api_version=api_version, transport=cassette) as docker:
        yield docker
    cassette.assert_all_played()


async def test_client_version_too_old() -> None:
    """Docker 29.0 (API 1.52, minimum 1.44) refusing a client pinned to 1.41, in plain text
    (``text/plain``, as Docker 28.5 refuses a too-old client; a too-new one gets JSON)."""
    async with replaying("version-too-old", api_version="1.41") as docker:
        with pytest.raises(APIVersionError) as caught:
            await docker.system.version()
    error = caught.value
    assert (error.status, error.client_version, error.server_version) == (400, "1.41", "1.44")
    assert (error.method, error.path) == ("GET", "/v1.41/version")
    assert "please upgrade your client" in error.message


async def test_client_version_too_new() -> None:
    """Docker 20.10 (API 1.41) refusing a client pinned to 1.55."""
    async with replaying("version-too-new", api_version="1.55") as docker:
        with pytest.raises(APIVersionError) as caught:
            await docker.system.version()
    error = caught.value
    assert (error.status, error.client_version, error.server_version) == (400, "1.55", "1.41")


@pytest.mark.parametrize("rechunk", [None, 1])
async def test_pull_stream_ending_in_an_error_detail(rechunk: int | None) -> None:
    """A 200 pull stream whose last line is ``errorDetail``: the progress comes first."""
    seen: list[str | None] = []
    async with replaying("pull-error-in-stream", rechunk=rechunk) as docker:
        assert await docker.api_version() == "1.52"
        with pytest.raises(StreamError, match="unauthorized: authentication required") as caught:
            async with docker.images.pull("registry.test/team/app:1.2") as progress:
                async for message in progress:
                    seen.append(message.status)
    assert seen == ["Pulling from team/app", "Pulling fs layer"]
    # the path as sent, with its version prefix, on a replay as on every transport
    assert (caught.value.method, caught.value.path) == ("POST", "/v1.52/images/create")


@pytest.mark.parametrize("rechunk", [None, 1])
async def test_logs_with_a_stream_type_3_frame(rechunk: int | None) -> None:
    """Docker's "system error" frame (type 3) ends a logs body: the frames before it come out."""
    frames: list[tuple[int, bytes]] = []
    async with replaying("logs-system-error-frame", api_version="1.41", rechunk=rechunk) as docker:
        with pytest.raises(StreamError, match="Error grabbing logs: log file is corrupt"):
            async with docker.containers.logs("ls-handmade", tty=False) as logs:
                async for frame in logs:
                    frames.append((frame.stream, frame.data))
    assert frames == [(1, b"hello\n"), (2, b"oops\n")]


async def test_server_error_with_a_plain_text_body() -> None:
    async with replaying("server-error-plain-text", api_version="1.41") as docker:
        with pytest.raises(ServerError) as caught:
            await docker.containers.list(all_=True)
    error = caught.value
    assert error.status == 500
    assert error.message == "runtime error: invalid memory address or nil pointer dereference"


def failing_context() -> bytes:
    """A build context whose Dockerfile's ``RUN`` fails (fixed bytes: mtime 0)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        data = b"FROM busybox:local\nRUN false\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize("rechunk", [None, 1])
async def test_build_error_sent_chunked(rechunk: int | None) -> None:
    """A classic-builder failure; the error line is split across two HTTP chunks."""
    output: list[str] = []
    async with replaying("build-error-chunked", api_version="1.41", rechunk=rechunk) as docker:
        with pytest.raises(StreamError) as caught:
            async with docker.build(
                failing_context(), tags="handmade:fail", builder="classic"
            ) as messages:
                async for message in messages:
                    output.append(message.stream or "")
    assert "".join(output).splitlines() == [
        "Step 1/2 : FROM busybox:local",
        " ---> 2c9b1f5d8a4e",
        "Step 2/2 : RUN false",
        " ---> Running in 7d1e2f3a4b5c",
    ]
    assert caught.value.code == 1
    assert "returned a non-zero code: 1" in caught.value.message


def test_every_handmade_cassette_has_a_test() -> None:
    # The Docker 29 round trips have their own module, test_handmade_docker29.py.
    source = "".join(test.read_text() for test in Path(__file__).parent.glob("test_handmade*.py"))
    for path in HANDMADE.glob("*.json"):
        assert f'"{path.stem}"' in source, f"{path.name} is not exercised here"

"""InteractiveSession against a scripted engine: frames, half-close, errors, closing — through
both built-in transports (the live tests are in tests/api/test_interactive.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from lightshuttle_runtime import (
    DockerClient,
    InvalidArgumentError,
    StreamInterruptedError,
    TransportKind,
)
from lightshuttle_runtime.testing import (
    Behaviour,
    Close,
    Echo,
    FakeEngine,
    Send,
    respond_json,
    upgrade,
)

pytestmark = pytest.mark.anyio


def frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


@pytest.fixture
def sock_path() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="ls-")
    yield os.path.join(folder, "engine.sock")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def fake(sock_path: str) -> AsyncIterator[FakeEngine]:
    async with FakeEngine(sock_path) as engine:
        yield engine


@pytest.fixture(params=["native", "httpx"])
async def client(sock_path: str, request: pytest.FixtureRequest) -> AsyncIterator[DockerClient]:
    kind: TransportKind = "native" if request.param == "native" else "httpx"
    async with DockerClient(f"unix://{sock_path}", api_version="1.41", transport_kind=kind) as c:
        yield c


async def test_frames_both_ways_then_half_close(fake: FakeEngine, client: DockerClient) -> None:
    # The greeting arrives with the 101 head: it belongs to the stream.
    fake.enqueue(
        upgrade(frame(1, b"hello")), respond_json({"ID": "abc123", "Running": False, "ExitCode": 5})
    )
    session = client.exec.start("abc123", stdin=True)
    with anyio.fail_after(5):
        async with session:
            assert session.response is not None
            assert session.response.status_code == 101
            first = await session.__anext__()
            assert (first.stream, first.data) == (1, b"hello")
            await session.send(frame(2, b"echoed"))  # the fake echoes what it is sent
            second = await session.__anext__()
            assert (second.stream, second.data) == (2, b"echoed")
            await session.close_stdin()  # the fake echoes until the client half-closes
            assert [f async for f in session] == []
            assert await session.exit_code() == 5
    sent = fake.requests[0]
    assert sent.target == "/v1.41/exec/abc123/start"
    assert sent.header("upgrade") == "tcp"
    assert sent.header("connection") == "Upgrade"


async def test_the_connection_ending_mid_frame_is_an_interruption(
    fake: FakeEngine, client: DockerClient
) -> None:
    head = b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
    fake.enqueue(Behaviour((Send(head + frame(1, b"whole") + frame(1, b"cut")[:-1]), Close())))
    with anyio.fail_after(5):
        async with client.exec.start("abc123", stdin=True) as session:
            assert (await session.__anext__()).data == b"whole"
            with pytest.raises(StreamInterruptedError, match="middle of a frame") as caught:
                await session.__anext__()
    assert caught.value.path == "/v1.41/exec/abc123/start"


async def test_an_answer_without_upgrade_is_refused(fake: FakeEngine, client: DockerClient) -> None:
    fake.enqueue(respond_json({}))
    with anyio.fail_after(5), pytest.raises(StreamInterruptedError, match="instead of 101"):
        async with client.exec.start("abc123", stdin=True):
            pass


async def test_transport_closed_mid_session_is_an_interruption(
    fake: FakeEngine, sock_path: str
) -> None:
    fake.enqueue(upgrade())
    async with DockerClient(f"unix://{sock_path}", api_version="1.41") as docker:
        with anyio.fail_after(5):
            async with docker.exec.start("abc123", stdin=True) as session:
                await docker.transport.aclose()
                with pytest.raises(StreamInterruptedError, match="broke"):
                    await session.__anext__()


async def test_cancelling_closes_the_connection(fake: FakeEngine, client: DockerClient) -> None:
    fake.enqueue(Behaviour((Send(b"HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp\r\n\r\n"), Echo())))
    with anyio.move_on_after(0.3) as scope:
        async with client.exec.start("abc123", stdin=True) as session:
            await session.__anext__()
    assert scope.cancelled_caught
    with anyio.fail_after(5):
        await fake.wait_connections_closed()
    with pytest.raises(InvalidArgumentError, match="closed"):
        await session.send(b"late")


async def test_misuse_is_a_clear_error(client: DockerClient) -> None:
    session = client.exec.start("abc123", stdin=True)
    with pytest.raises(InvalidArgumentError, match="not open yet"):
        await session.send(b"x")
    with pytest.raises(InvalidArgumentError, match="takes bytes"):
        await session.send("text")  # type: ignore[arg-type]
    for size in ((0, 80), (24, -1), (24, 70000), (True, 80)):
        with pytest.raises(InvalidArgumentError, match="character cells"):
            await client.exec.resize("abc123", *size)
        with pytest.raises(InvalidArgumentError, match="character cells"):
            await client.containers.resize("abc123", *size)
    with pytest.raises(InvalidArgumentError, match="input must be bytes"):
        await client.exec.run("c", ["cat"], input="text")  # type: ignore[arg-type]

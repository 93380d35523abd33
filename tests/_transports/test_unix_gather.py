"""UnixSocketTransport hands out a body's already-received chunks together (one item per
read, not per chunk: Docker sends each log line as a chunk), and a framing error after
good chunks comes only once those chunks were handed out."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from lightshuttle_runtime._transports import UnixSocketTransport
from lightshuttle_runtime._transports._http11 import encode_chunk
from lightshuttle_runtime.testing import Behaviour, Close, FakeEngine, Send, Sleep

pytestmark = pytest.mark.anyio

HEAD = b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nTransfer-Encoding: chunked\r\n\r\n"
LINES = [b"\x01\x00\x00\x00\x00\x00\x00\x06line %d\n" % i for i in range(200)]


@pytest.fixture
def sock_path() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="ls-")
    yield os.path.join(folder, "engine.sock")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def fake(sock_path: str) -> AsyncIterator[FakeEngine]:
    async with FakeEngine(sock_path) as engine:
        yield engine


async def read_items(path: str) -> tuple[list[bytes], BaseException | None]:
    items: list[bytes] = []
    error: BaseException | None = None
    async with UnixSocketTransport(path) as transport:
        response = await transport.handle_async_request(
            httpx.Request("GET", "http://docker/v1.41/containers/x/logs")
        )
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        try:
            async for item in stream:
                items.append(item)
        except httpx.RemoteProtocolError as exc:
            error = exc
        finally:
            await stream.aclose()
    return items, error


async def test_chunks_received_together_are_one_item(fake: FakeEngine, sock_path: str) -> None:
    body = b"".join(encode_chunk(line) for line in LINES)
    fake.enqueue(Behaviour((Send(HEAD + body + b"0\r\n\r\n"),)))
    items, error = await read_items(sock_path)
    assert error is None
    assert b"".join(items) == b"".join(LINES)
    assert len(items) < len(LINES) // 10  # gathered, not one per chunk


async def test_good_chunks_come_before_a_framing_error(fake: FakeEngine, sock_path: str) -> None:
    body = encode_chunk(b"first ") + encode_chunk(b"second") + b"zz\r\nbad\r\n"
    fake.enqueue(Behaviour((Send(HEAD + body), Close())))
    items, error = await read_items(sock_path)
    assert b"".join(items) == b"first second"
    assert isinstance(error, httpx.RemoteProtocolError)
    assert "chunk size" in str(error)


# -- a body that came whole with its head ---------------------------------------------------


async def test_whole_body_with_the_head_is_read_and_the_connection_back(
    fake: FakeEngine, sock_path: str
) -> None:
    # The answer arrives in one piece: the response comes back read (content available,
    # aread() returns it), and its connection is already idle in the pool.
    body = b'{"Id": "c0ffee"}'
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body)
    fake.enqueue(Behaviour((Send(head + body),)))
    async with UnixSocketTransport(sock_path) as transport:
        response = await transport.handle_async_request(
            httpx.Request("GET", "http://docker/v1.41/containers/x/json")
        )
        assert transport.idle_connections == 1
        assert transport.active_connections == 0
        assert response.content == body
        assert await response.aread() == body
        assert "content-length" in response.headers
        await response.aclose()


async def test_whole_chunked_body_keeps_the_engines_headers_and_iterates_once(
    fake: FakeEngine, sock_path: str
) -> None:
    # A chunked answer that came whole: its headers are the engine's (no Content-Length
    # added), and a stream reader gets its bytes once.
    body = b"".join(encode_chunk(line) for line in LINES[:3]) + b"0\r\n\r\n"
    fake.enqueue(Behaviour((Send(HEAD + body),)))
    fake.enqueue(Behaviour((Send(HEAD + body),)))
    async with UnixSocketTransport(sock_path) as transport:
        response = await transport.handle_async_request(
            httpx.Request("GET", "http://docker/v1.41/containers/x/logs")
        )
        assert "content-length" not in response.headers
        assert response.headers["transfer-encoding"] == "chunked"
        await response.aclose()
    items, error = await read_items(sock_path)
    assert error is None
    assert b"".join(items) == b"".join(LINES[:3])


async def test_body_partly_with_the_head_streams_the_rest(fake: FakeEngine, sock_path: str) -> None:
    fake.enqueue(
        Behaviour(
            (
                Send(HEAD + encode_chunk(b"first ")),
                Sleep(0.05),
                Send(encode_chunk(b"second") + b"0\r\n\r\n"),
            )
        )
    )
    items, error = await read_items(sock_path)
    assert error is None
    assert b"".join(items) == b"first second"

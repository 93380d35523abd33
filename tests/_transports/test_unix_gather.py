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
from lightshuttle_runtime.testing import Behaviour, Close, FakeEngine, Send

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

"""The FakeEngine itself, checked with a plain anyio stream and hand-written bytes."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import anyio
import anyio.abc
import pytest

from lightshuttle_runtime.testing import (
    Behaviour,
    FakeEngine,
    ReceivedRequest,
    Send,
    Sleep,
    bad_chunk_size,
    close_mid_body,
    close_without_answer,
    close_without_final_chunk,
    garbage,
    malformed_header,
    malformed_status_line,
    respond,
    respond_json,
    slow,
    stall,
    stall_mid_stream,
    stream_chunks,
    upgrade,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def sock_path() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="ls-")
    yield os.path.join(folder, "fake.sock")
    shutil.rmtree(folder, ignore_errors=True)


async def exchange(path: str, request: bytes, *, until_close: bool = True) -> bytes:
    """Send raw ``request`` bytes and return what comes back until the engine closes."""
    async with await anyio.connect_unix(path) as stream:
        await stream.send(request)
        return await read_all(stream) if until_close else await stream.receive()


async def read_all(stream: anyio.abc.ByteStream) -> bytes:
    received = b""
    with anyio.fail_after(5):
        while True:
            try:
                received += await stream.receive()
            except anyio.EndOfStream:
                return received


GET = b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n"


async def test_default_answer_is_a_404_naming_the_request(sock_path: str) -> None:
    async with FakeEngine(sock_path):
        answer = await exchange(
            sock_path, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", until_close=False
        )
    assert answer.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert b"GET /nope" in answer


async def test_records_requests_with_bodies(sock_path: str) -> None:
    async with FakeEngine(sock_path) as engine:
        engine.enqueue(respond(201, close=True), respond(200, close=True))
        await exchange(
            sock_path, b"POST /a?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        )
        chunked = b"PUT /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
        await exchange(sock_path, chunked)
    first, second = engine.requests
    assert (first.method, first.target, first.path, first.body) == ("POST", "/a?x=1", "/a", b"abc")
    assert first.header("HOST") == "h"
    assert first.headers[0] == ("Host", "h")
    assert (second.method, second.body, second.connection) == ("PUT", b"hi", 2)
    assert engine.connections_accepted == 2


async def test_keep_alive_serves_several_requests_on_one_connection(sock_path: str) -> None:
    async with FakeEngine(sock_path) as engine, await anyio.connect_unix(sock_path) as stream:
        engine.enqueue(respond(200, b"1"), respond(200, b"2"))
        await stream.send(GET)
        first = await stream.receive()
        await stream.send(GET)
        second = await stream.receive()
    assert first.endswith(b"Content-Length: 1\r\n\r\n1")
    assert second.endswith(b"\r\n\r\n2")
    assert [r.connection for r in engine.requests] == [1, 1]


async def test_handler_sync_and_async(sock_path: str) -> None:
    def sync_handler(request: ReceivedRequest) -> Behaviour:
        return respond(200, request.target.encode(), close=True)

    async with FakeEngine(sock_path, handler=sync_handler):
        assert (await exchange(sock_path, GET)).endswith(b"\r\n\r\n/_ping")

    async def async_handler(request: ReceivedRequest) -> Behaviour:
        await anyio.sleep(0)
        return respond_json({"method": request.method}, close=True)

    async with FakeEngine(sock_path, handler=async_handler):
        answer = await exchange(sock_path, GET)
    assert b"Content-Type: application/json" in answer
    assert answer.endswith(b'{"method": "GET"}')


async def test_queue_comes_before_the_handler(sock_path: str) -> None:
    async with FakeEngine(
        sock_path, handler=lambda _: respond(200, b"handler", close=True)
    ) as engine:
        engine.enqueue(respond(200, b"queued", close=True))
        assert (await exchange(sock_path, GET)).endswith(b"queued")
        assert (await exchange(sock_path, GET)).endswith(b"handler")


def test_respond_framing() -> None:
    (send,) = respond(200, b"OK", headers=[("X-A", "1")]).steps
    assert isinstance(send, Send)
    assert send.data == (
        b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nOK"
    )
    (chunked,) = respond(200, b"OK", chunked=True).steps
    assert isinstance(chunked, Send)
    assert chunked.data.endswith(b"Transfer-Encoding: chunked\r\n\r\n2\r\nOK\r\n0\r\n\r\n")
    (empty,) = respond(304).steps
    assert isinstance(empty, Send)
    assert empty.data == b"HTTP/1.1 304 Not Modified\r\nApi-Version: 1.41\r\n\r\n"
    delayed = respond(200, delay=0.5, close=True).steps
    assert isinstance(delayed[0], Sleep) and delayed[0].seconds == 0.5
    assert slow(1.0, respond()).steps[0] == Sleep(1.0)


async def test_stream_chunks_are_spaced(sock_path: str) -> None:
    async with FakeEngine(sock_path) as engine, await anyio.connect_unix(sock_path) as stream:
        engine.enqueue(stream_chunks([b"a", b"b"], interval=0.05).then(Send(b""), Sleep(0)))
        start = anyio.current_time()
        await stream.send(GET)
        received = b""
        with anyio.fail_after(5):
            while not received.endswith(b"0\r\n\r\n"):
                received += await stream.receive()
        assert anyio.current_time() - start >= 0.09
    assert received.endswith(b"1\r\na\r\n1\r\nb\r\n0\r\n\r\n")


@pytest.mark.parametrize(
    ("behaviour", "expected_tail"),
    [
        (close_mid_body(b"0123456789", sent=4), b"Content-Length: 10\r\n\r\n0123"),
        (close_without_final_chunk([b"abc"]), b"3\r\nabc\r\n"),
        (malformed_status_line(), b"Content-Length: 0\r\n\r\n"),
        (malformed_header(), b"Content-Length: 0\r\n\r\n"),
        (bad_chunk_size(), b"zz\r\nhello\r\n"),
        (garbage(b"\x00junk"), b"\x00junk"),
        (close_without_answer(), b""),
    ],
)
async def test_faults_close_after_their_bytes(
    sock_path: str, behaviour: Behaviour, expected_tail: bytes
) -> None:
    async with FakeEngine(sock_path) as engine:
        engine.enqueue(behaviour)
        answer = await exchange(sock_path, GET)
        await engine.wait_connections_closed()
    assert answer.endswith(expected_tail)


async def test_stall_notices_the_hang_up(sock_path: str) -> None:
    async with FakeEngine(sock_path) as engine:
        engine.enqueue(stall())
        async with await anyio.connect_unix(sock_path) as stream:
            await stream.send(GET)
            with anyio.move_on_after(0.1) as scope:
                await stream.receive()
            assert scope.cancelled_caught
            assert engine.connections_open == 1
        await engine.wait_connections_closed()


async def test_stall_mid_stream_sends_the_start(sock_path: str) -> None:
    async with FakeEngine(sock_path) as engine, await anyio.connect_unix(sock_path) as stream:
        engine.enqueue(stall_mid_stream([b"first"]))
        await stream.send(GET)
        received = b""
        with anyio.fail_after(5):
            while not received.endswith(b"5\r\nfirst\r\n"):
                received += await stream.receive()
        with anyio.move_on_after(0.1) as scope:
            await stream.receive()
        assert scope.cancelled_caught


async def test_stall_without_reading_the_body(sock_path: str) -> None:
    async with FakeEngine(sock_path) as engine:
        engine.enqueue(stall(read_body=False))
        async with await anyio.connect_unix(sock_path) as stream:
            await stream.send(b"POST /build HTTP/1.1\r\nContent-Length: 100\r\n\r\n")
            with anyio.move_on_after(0.1):
                await stream.receive()
        assert engine.requests[0].body == b""


async def test_upgrade_echoes(sock_path: str) -> None:
    async with FakeEngine(sock_path) as engine, await anyio.connect_unix(sock_path) as stream:
        engine.enqueue(upgrade(b"hello"))
        await stream.send(GET + b"early")
        received = b""
        with anyio.fail_after(5):
            while not received.endswith(b"helloearly"):
                received += await stream.receive()
            await stream.send(b"more")
            assert await stream.receive() == b"more"
    assert received.startswith(b"HTTP/1.1 101 UPGRADED\r\n")


async def test_malformed_request_is_answered_400(sock_path: str) -> None:
    async with FakeEngine(sock_path) as engine:
        answer = await exchange(sock_path, b"NOT A REQUEST\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert len(engine.protocol_errors) == 1
    assert engine.requests == []


async def test_peak_connections(sock_path: str) -> None:
    async with FakeEngine(sock_path) as engine:
        first = await anyio.connect_unix(sock_path)
        second = await anyio.connect_unix(sock_path)
        with anyio.fail_after(5):
            while engine.connections_accepted < 2:
                await anyio.sleep(0.005)
        await first.aclose()
        await second.aclose()
        await engine.wait_connections_closed()
    assert engine.peak_connections == 2


async def test_wait_connections_closed_times_out(sock_path: str) -> None:
    async with FakeEngine(sock_path) as engine, await anyio.connect_unix(sock_path):
        with anyio.fail_after(5):
            while engine.connections_accepted < 1:
                await anyio.sleep(0.005)
        with pytest.raises(TimeoutError):
            await engine.wait_connections_closed(timeout=0.05)


async def test_socket_file_is_removed_on_exit(sock_path: str) -> None:
    async with FakeEngine(sock_path):
        assert os.path.exists(sock_path)
    assert not os.path.exists(sock_path)

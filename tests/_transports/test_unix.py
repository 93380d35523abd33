"""UnixSocketTransport against the FakeEngine's faults, and live against Docker and Podman."""

from __future__ import annotations

import errno
import gc
import json
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing, contextmanager
from typing import TYPE_CHECKING, cast

import anyio
import httpx
import pytest

from lightshuttle_runtime._errors import InvalidArgumentError
from lightshuttle_runtime._transports import UnixSocketTransport
from lightshuttle_runtime.testing import (
    Behaviour,
    Close,
    FakeEngine,
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

if TYPE_CHECKING:
    from tests.conftest import Engine

pytestmark = pytest.mark.anyio


@pytest.fixture
def sock_path() -> Iterator[str]:
    """A short socket path (Unix socket paths are limited to about 100 bytes)."""
    folder = tempfile.mkdtemp(prefix="ls-")
    yield os.path.join(folder, "engine.sock")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def fake(sock_path: str) -> AsyncIterator[FakeEngine]:
    """A FakeEngine serving on ``sock_path`` (named so as not to shadow conftest's ``engine``)."""
    async with FakeEngine(sock_path) as engine:
        yield engine


@pytest.fixture
async def transport(sock_path: str) -> AsyncIterator[UnixSocketTransport]:
    async with UnixSocketTransport(sock_path) as unix:
        yield unix


def make_request(
    method: str = "GET",
    target: str = "/_ping",
    *,
    timeout: float | None = None,
    read: float | None = None,
    **options: object,
) -> httpx.Request:
    request = httpx.Request(method, f"http://localhost{target}", **options)  # type: ignore[arg-type]
    if timeout is not None or read is not None:
        request.extensions["timeout"] = {
            "connect": timeout,
            "read": read if read is not None else timeout,
            "write": timeout,
            "pool": timeout,
        }
    return request


async def fetch(transport: UnixSocketTransport, request: httpx.Request) -> httpx.Response:
    response = await transport.handle_async_request(request)
    await response.aread()
    return response


def raw_chunks(response: httpx.Response) -> aclosing[AsyncGenerator[bytes, None]]:
    """``response.aiter_raw()``, closed on exit (httpx types it as a plain iterator)."""
    return aclosing(cast(AsyncGenerator[bytes, None], response.aiter_raw()))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# --- ordinary exchanges ----------------------------------------------------------------


async def test_json_call_and_keep_alive_reuse(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(respond_json({"Version": "20.10"}), respond(200, b"OK"))
    first = await fetch(transport, make_request("GET", "/v1.41/version?x=1"))
    second = await fetch(transport, make_request())
    assert first.status_code == 200
    assert first.json() == {"Version": "20.10"}
    assert first.headers["content-type"] == "application/json"
    assert first.extensions["http_version"] == b"HTTP/1.1"
    assert first.extensions["reason_phrase"] == b"OK"
    assert second.text == "OK"
    assert [r.connection for r in fake.requests] == [1, 1]
    assert fake.requests[0].target == "/v1.41/version?x=1"
    assert fake.requests[0].header("host") == "localhost"
    assert transport.idle_connections == 1
    assert transport.active_connections == 0


async def test_repeated_response_headers_survive(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(respond(200, headers=[("X-Warning", "a"), ("x-warning", "b")]))
    response = await fetch(transport, make_request())
    assert response.headers.get_list("x-warning") == ["a", "b"]


async def test_chunked_body_is_yielded_as_it_arrives(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(stream_chunks([b"one", b"two", b"three"], interval=0.02))
    response = await transport.handle_async_request(make_request("GET", "/logs"))
    chunks = [chunk async for chunk in response.aiter_raw()]
    await response.aclose()
    assert chunks == [b"one", b"two", b"three"]
    assert transport.idle_connections == 1


async def test_stream_is_not_buffered_to_the_end(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(stall_mid_stream([b"first line\n"]))
    response = await transport.handle_async_request(make_request("GET", "/logs?follow=1"))
    async with raw_chunks(response) as chunks:
        with anyio.fail_after(5):
            assert await chunks.__anext__() == b"first line\n"
    await response.aclose()
    await fake.wait_connections_closed()
    assert transport.idle_connections == 0
    assert transport.active_connections == 0


async def test_follow_stream_with_read_none_never_times_out(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(stall_mid_stream([b"a"]))
    response = await transport.handle_async_request(make_request("GET", "/events", read=None))
    async with raw_chunks(response) as chunks:
        assert await chunks.__anext__() == b"a"
        with anyio.move_on_after(0.3) as waited:
            await chunks.__anext__()
    assert waited.cancelled_caught  # still waiting, no timeout error
    await fake.wait_connections_closed()  # the cancelled read closed the socket
    assert transport.active_connections == 0


async def test_read_until_close_body(fake: FakeEngine, transport: UnixSocketTransport) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
    fake.enqueue(Behaviour((Send(head + b"all of "), Sleep(0.02), Send(b"it"), Close())))
    response = await fetch(transport, make_request())
    assert response.content == b"all of it"
    assert transport.idle_connections == 0


@pytest.mark.parametrize("status", [204, 304])
async def test_empty_statuses_keep_the_connection(
    fake: FakeEngine, transport: UnixSocketTransport, status: int
) -> None:
    fake.enqueue(respond(status), respond(200, b"after"))
    first = await fetch(transport, make_request("POST", "/containers/x/start"))
    second = await fetch(transport, make_request())
    assert (first.status_code, first.content) == (status, b"")
    assert second.content == b"after"
    assert fake.connections_accepted == 1


async def test_head_request_has_no_body(fake: FakeEngine, transport: UnixSocketTransport) -> None:
    fake.enqueue(
        Behaviour((Send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"),)), respond(200, b"OK")
    )
    head = await fetch(transport, make_request("HEAD"))
    after = await fetch(transport, make_request())
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "2")
    assert after.content == b"OK"
    assert fake.requests[0].method == "HEAD"
    assert fake.connections_accepted == 1


async def test_connection_close_is_honoured(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(respond(200, b"a", close=True), respond(200, b"b"))
    assert (await fetch(transport, make_request())).content == b"a"
    assert (await fetch(transport, make_request())).content == b"b"
    assert [r.connection for r in fake.requests] == [1, 2]


async def test_closing_an_unread_response_keeps_a_complete_body(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(respond(200, b"unread"), respond(200, b"next"))
    response = await transport.handle_async_request(make_request())
    await anyio.sleep(0.05)  # the body arrives with the head; nobody reads it
    await response.aclose()
    assert (await fetch(transport, make_request())).content == b"next"
    assert fake.connections_accepted == 1


async def test_closing_a_partly_read_response_drops_the_connection(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(stream_chunks([b"a", b"b"], interval=0.05), respond(200, b"next"))
    response = await transport.handle_async_request(make_request())
    async with raw_chunks(response) as chunks:
        assert await chunks.__anext__() == b"a"
    await response.aclose()
    assert (await fetch(transport, make_request())).content == b"next"
    assert fake.connections_accepted == 2


async def test_works_under_httpx_async_client(fake: FakeEngine, sock_path: str) -> None:
    fake.enqueue(respond_json({"ok": True}), respond(404, b"nope"))
    async with httpx.AsyncClient(
        transport=UnixSocketTransport(sock_path), base_url="http://docker", timeout=5
    ) as client:
        assert (await client.get("/info")).json() == {"ok": True}
        assert (await client.get("/missing")).status_code == 404
    assert fake.requests[0].header("host") == "docker"


# --- request bodies ------------------------------------------------------------------


async def test_bytes_body(fake: FakeEngine, transport: UnixSocketTransport) -> None:
    fake.enqueue(respond(201))
    await fetch(transport, make_request("POST", "/containers/create", json={"Image": "busybox"}))
    got = fake.requests[0]
    assert json.loads(got.body) == {"Image": "busybox"}
    assert got.header("content-length") == str(len(got.body))
    assert got.header("content-type") == "application/json"


async def test_large_bytes_body(fake: FakeEngine, transport: UnixSocketTransport) -> None:
    body = os.urandom(3 * 1024 * 1024)
    fake.enqueue(respond(200))
    await fetch(transport, make_request("PUT", "/containers/x/archive", content=body))
    assert fake.requests[0].body == body


async def test_post_without_body_sends_content_length_zero(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(respond(204))
    await fetch(transport, make_request("POST", "/containers/x/stop"))
    assert fake.requests[0].header("content-length") == "0"
    assert fake.requests[0].body == b""


async def tar_pieces() -> AsyncIterator[bytes]:
    for index in range(20):
        yield bytes([index]) * 10_000
        await anyio.sleep(0)
    yield b""  # an empty piece must not end the chunked body early


async def test_async_iterable_body_is_chunked(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(stream_chunks([b'{"stream":"Step 1/1"}\n']))
    response = await fetch(
        transport,
        make_request(
            "POST", "/build", content=tar_pieces(), headers={"Content-Type": "application/x-tar"}
        ),
    )
    got = fake.requests[0]
    assert got.header("transfer-encoding") == "chunked"
    assert got.body == b"".join(bytes([i]) * 10_000 for i in range(20))
    assert response.content == b'{"stream":"Step 1/1"}\n'
    assert transport.idle_connections == 1


async def test_async_iterable_body_with_content_length_is_sent_raw(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(respond(200))
    size = 20 * 10_000
    await fetch(
        transport,
        make_request(
            "PUT", "/archive", content=tar_pieces(), headers={"Content-Length": str(size)}
        ),
    )
    got = fake.requests[0]
    assert got.header("transfer-encoding") is None
    assert len(got.body) == size


async def test_header_injection_is_refused_before_sending(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    with pytest.raises(httpx.LocalProtocolError):
        await transport.handle_async_request(make_request(headers={"X-A": "v\r\nX-Evil: 1"}))
    assert fake.requests == []


async def test_early_answer_during_an_upload(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    refuse = respond_json({"message": "bad parameter"}, status=400, close=True)
    fake.enqueue(Behaviour(refuse.steps, read_body=False))
    response = await fetch(
        transport, make_request("POST", "/build", content=b"x" * (16 * 1024 * 1024), timeout=5)
    )
    assert response.status_code == 400
    assert response.json() == {"message": "bad parameter"}


async def test_connection_of_an_early_answer_is_not_reused(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    refuse = respond(400, b"no").then(Sleep(0.2), Close())  # says keep-alive, yet reads nothing
    fake.enqueue(Behaviour(refuse.steps, read_body=False))
    request = make_request("POST", "/build", content=b"x" * (16 * 1024 * 1024), timeout=5)
    with anyio.fail_after(5):
        response = await fetch(transport, request)
    assert (response.status_code, response.content) == (400, b"no")
    assert transport.idle_connections == 0


# --- faults ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "behaviour",
    [
        pytest.param(close_mid_body(), id="close-mid-body"),
        pytest.param(close_without_final_chunk(), id="no-final-chunk"),
        pytest.param(malformed_status_line(), id="bad-status-line"),
        pytest.param(malformed_header(), id="bad-header"),
        pytest.param(bad_chunk_size(), id="bad-chunk-size"),
        pytest.param(garbage(), id="garbage"),
        pytest.param(garbage(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000), id="huge-head"),
        pytest.param(close_without_answer(), id="no-answer"),
    ],
)
async def test_faults_are_remote_protocol_errors(
    fake: FakeEngine, transport: UnixSocketTransport, behaviour: Behaviour
) -> None:
    fake.enqueue(behaviour)
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        await fetch(transport, make_request(timeout=5))
    assert caught.value.request is not None
    assert transport.idle_connections == 0
    assert transport.active_connections == 0
    await fake.wait_connections_closed()


async def test_close_mid_body_after_some_bytes_were_yielded(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(close_without_final_chunk([b"got this"]))
    response = await transport.handle_async_request(make_request())
    received = []
    with pytest.raises(httpx.RemoteProtocolError):
        async for chunk in response.aiter_raw():
            received.append(chunk)
    assert received == [b"got this"]


async def test_read_timeout_when_the_engine_stalls(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(stall())
    with anyio.fail_after(5), pytest.raises(httpx.ReadTimeout):
        await fetch(transport, make_request(timeout=0.2))
    await fake.wait_connections_closed()


async def test_read_timeout_mid_stream(fake: FakeEngine, transport: UnixSocketTransport) -> None:
    fake.enqueue(stall_mid_stream([b"first"]))
    response = await transport.handle_async_request(make_request(timeout=0.2))
    async with raw_chunks(response) as chunks:
        assert await chunks.__anext__() == b"first"
        with anyio.fail_after(5), pytest.raises(httpx.ReadTimeout):
            await chunks.__anext__()
    await fake.wait_connections_closed()
    assert transport.active_connections == 0


async def test_slow_answer_within_and_beyond_the_timeout(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(slow(0.2, respond(200, b"late")), slow(0.5, respond(200, b"too late")))
    assert (await fetch(transport, make_request(timeout=2))).content == b"late"
    with pytest.raises(httpx.ReadTimeout):
        await fetch(transport, make_request(timeout=0.1))


async def test_write_timeout_when_the_engine_does_not_read(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(stall(read_body=False))
    request = make_request("POST", "/build", content=b"x" * (32 * 1024 * 1024), timeout=0.3)
    with anyio.fail_after(10), pytest.raises(httpx.WriteTimeout):
        await transport.handle_async_request(request)
    assert transport.active_connections == 0


# --- stale connections ---------------------------------------------------------------


async def test_stale_connection_is_retried_once_on_a_fresh_one(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(respond(200, b"1"), close_without_answer(), respond(200, b"2"))
    assert (await fetch(transport, make_request())).content == b"1"
    assert (await fetch(transport, make_request())).content == b"2"
    assert [r.connection for r in fake.requests] == [1, 1, 2]


async def test_stale_connection_is_not_retried_for_post(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(respond(200, b"1"), close_without_answer(), respond(200, b"2"))
    await fetch(transport, make_request())
    with pytest.raises(httpx.RemoteProtocolError):
        await fetch(transport, make_request("POST", "/containers/create", content=b"{}"))
    assert len(fake.requests) == 2


async def test_a_retry_that_fails_too_is_an_error(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(respond(200), close_without_answer(), close_without_answer())
    await fetch(transport, make_request())
    with pytest.raises(httpx.RemoteProtocolError):
        await fetch(transport, make_request())
    assert [r.connection for r in fake.requests] == [1, 1, 2]


async def test_idle_connection_closed_by_the_engine_is_not_used(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(respond(200, b"1").then(Close()), respond(200, b"2"))
    await fetch(transport, make_request("POST", "/a", content=b"x"))
    await fake.wait_connections_closed()
    assert (await fetch(transport, make_request("POST", "/b", content=b"y"))).content == b"2"
    assert [r.connection for r in fake.requests] == [1, 2]


async def test_idle_connection_closed_by_the_engine_costs_a_get_nothing(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(respond(200, b"1").then(Close()), respond(200, b"2"))
    await fetch(transport, make_request())
    await fake.wait_connections_closed()
    assert (await fetch(transport, make_request())).content == b"2"  # retried, not peeked
    assert [r.connection for r in fake.requests] == [1, 2]


async def test_keepalive_expiry(fake: FakeEngine, sock_path: str) -> None:
    fake.enqueue(respond(200), respond(200))
    async with UnixSocketTransport(sock_path, keepalive_expiry=0.05) as transport:
        await fetch(transport, make_request())
        await anyio.sleep(0.1)
        await fetch(transport, make_request())
    assert [r.connection for r in fake.requests] == [1, 2]


async def test_max_keepalive_zero_keeps_nothing(fake: FakeEngine, sock_path: str) -> None:
    fake.enqueue(respond(200), respond(200))
    async with UnixSocketTransport(sock_path, max_keepalive=0) as transport:
        await fetch(transport, make_request())
        assert transport.idle_connections == 0
        await fetch(transport, make_request())
    assert fake.connections_accepted == 2


# --- the pool ------------------------------------------------------------------------


async def test_connection_limit_makes_requests_wait(sock_path: str) -> None:
    async with FakeEngine(sock_path, handler=lambda _: slow(0.1, respond(200, b"ok"))) as engine:
        async with UnixSocketTransport(sock_path, max_connections=2) as transport:
            results: list[bytes] = []

            async def one() -> None:
                results.append((await fetch(transport, make_request(timeout=5))).content)

            async with anyio.create_task_group() as group:
                for _ in range(6):
                    group.start_soon(one)
        assert results == [b"ok"] * 6
        assert engine.peak_connections <= 2
        assert engine.connections_accepted == 2


async def test_pool_timeout(fake: FakeEngine, sock_path: str) -> None:
    fake.enqueue(stall_mid_stream([b"held"]), respond(200, b"free"))
    async with UnixSocketTransport(sock_path, max_connections=1) as transport:
        held = await transport.handle_async_request(make_request("GET", "/logs"))
        with pytest.raises(httpx.PoolTimeout):
            await transport.handle_async_request(make_request(timeout=0.1))
        await held.aclose()
        assert (await fetch(transport, make_request(timeout=5))).content == b"free"


async def test_a_cancelled_waiter_does_not_lose_its_slot(fake: FakeEngine, sock_path: str) -> None:
    fake.enqueue(stall_mid_stream([b"held"]), respond(200, b"free"))
    async with UnixSocketTransport(sock_path, max_connections=1) as transport:
        held = await transport.handle_async_request(make_request("GET", "/logs"))
        with anyio.move_on_after(0.1):
            await transport.handle_async_request(make_request())
        await held.aclose()
        with anyio.fail_after(5):
            assert (await fetch(transport, make_request())).content == b"free"


# --- cancellation and resources ------------------------------------------------------


async def test_cancel_while_waiting_for_the_head_closes_the_socket(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(stall())
    with anyio.move_on_after(0.1) as scope:
        await transport.handle_async_request(make_request())
    assert scope.cancelled_caught
    await fake.wait_connections_closed()
    assert transport.active_connections == 0
    assert transport.idle_connections == 0


async def test_cancel_while_reading_the_body_closes_the_socket(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(stall_mid_stream([b"x"]))
    response = await transport.handle_async_request(make_request())
    async with raw_chunks(response) as chunks:
        await chunks.__anext__()
        with anyio.move_on_after(0.1):
            await chunks.__anext__()
    await fake.wait_connections_closed()
    assert transport.active_connections == 0


async def test_file_descriptors_return_to_baseline(fake: FakeEngine, sock_path: str) -> None:
    gc.collect()
    baseline = open_fds()
    fake.enqueue(
        respond(200, b"a"),
        stream_chunks([b"b", b"c"]),
        close_mid_body(),
        stall(),
        garbage(),
        stall_mid_stream(),
        respond(200, b"d"),
    )
    async with UnixSocketTransport(sock_path) as transport:
        await fetch(transport, make_request())
        await fetch(transport, make_request())
        with pytest.raises(httpx.RemoteProtocolError):
            await fetch(transport, make_request())
        with anyio.move_on_after(0.05):
            await fetch(transport, make_request())
        with pytest.raises(httpx.RemoteProtocolError):
            await fetch(transport, make_request())
        abandoned = await transport.handle_async_request(make_request())
        await abandoned.aclose()
        await fetch(transport, make_request())
    await fake.wait_connections_closed()
    gc.collect()
    assert open_fds() == baseline


async def test_aclose_closes_idle_and_busy_connections(fake: FakeEngine, sock_path: str) -> None:
    fake.enqueue(respond(200), stall_mid_stream([b"x"]))
    transport = UnixSocketTransport(sock_path)
    await fetch(transport, make_request())
    busy = await transport.handle_async_request(make_request())

    async def close_soon() -> None:
        await anyio.sleep(0.1)
        await transport.aclose()

    async with raw_chunks(busy) as chunks, anyio.create_task_group() as group:
        assert await chunks.__anext__() == b"x"
        group.start_soon(close_soon)
        with anyio.fail_after(5), pytest.raises(httpx.ReadError):
            await chunks.__anext__()  # woken by aclose() from another task
    await fake.wait_connections_closed()
    with pytest.raises(RuntimeError, match="closed"):
        await transport.handle_async_request(make_request())


# --- connecting ------------------------------------------------------------------------


async def test_missing_socket_is_a_connect_error(sock_path: str) -> None:
    async with UnixSocketTransport(sock_path) as transport:
        with pytest.raises(httpx.ConnectError, match=sock_path) as caught:
            await transport.handle_async_request(make_request())
    cause = caught.value.__cause__
    assert isinstance(cause, FileNotFoundError)
    assert cause.errno == errno.ENOENT


async def test_regular_file_is_a_connect_error(sock_path: str) -> None:
    with open(sock_path, "w") as file:
        file.write("not a socket")
    async with UnixSocketTransport(sock_path) as transport:
        with pytest.raises(httpx.ConnectError) as caught:
            await transport.handle_async_request(make_request())
    assert isinstance(caught.value.__cause__, OSError)
    assert caught.value.__cause__.errno == errno.ECONNREFUSED


async def test_socket_nobody_listens_on_is_a_connect_error(sock_path: str) -> None:
    with socket.socket(socket.AF_UNIX) as bound:
        bound.bind(sock_path)
        async with UnixSocketTransport(sock_path) as transport:
            with pytest.raises(httpx.ConnectError) as caught:
                await transport.handle_async_request(make_request())
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


@contextmanager
def unprivileged() -> Iterator[None]:
    """Run the block with the effective uid of ``nobody`` when we are root (root ignores modes)."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


async def test_permission_denied_is_a_connect_error(fake: FakeEngine, sock_path: str) -> None:
    os.chmod(sock_path, 0)
    async with UnixSocketTransport(sock_path) as transport:
        with unprivileged(), pytest.raises(httpx.ConnectError) as caught:
            await transport.handle_async_request(make_request())
    assert isinstance(caught.value.__cause__, PermissionError)
    assert caught.value.__cause__.errno == errno.EACCES
    assert fake.connections_accepted == 0


async def test_connect_timeout_when_the_backlog_is_full(sock_path: str) -> None:
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(sock_path)
        listener.listen(0)
        queued = []
        try:
            for _ in range(200):  # fill the accept queue
                client = socket.socket(socket.AF_UNIX)
                client.setblocking(False)
                try:
                    client.connect(sock_path)
                except BlockingIOError:
                    client.close()
                    break
                queued.append(client)
            else:
                pytest.skip("this kernel never reported the accept queue as full")
            async with UnixSocketTransport(sock_path) as transport:
                with anyio.fail_after(5), pytest.raises(httpx.ConnectTimeout):
                    await transport.handle_async_request(make_request(timeout=0.2))
        finally:
            for client in queued:
                client.close()


@pytest.mark.parametrize(
    "options",
    [{"max_connections": 0}, {"max_keepalive": -1}, {"keepalive_expiry": -1.0}],
)
def test_invalid_limits(options: dict[str, float]) -> None:
    with pytest.raises(InvalidArgumentError):
        UnixSocketTransport("/x", **options)  # type: ignore[arg-type]


# --- upgrade ---------------------------------------------------------------------------


async def test_101_upgrade_gives_a_raw_byte_stream(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(upgrade(b"\x01\x00\x00\x00\x00\x00\x00\x02hi"))
    response = await transport.handle_async_request(
        make_request("POST", "/containers/x/attach?stream=1", headers={"Upgrade": "tcp"})
    )
    assert response.status_code == 101
    stream = response.extensions["network_stream"]
    with anyio.fail_after(5):
        assert await stream.receive(4) == b"\x01\x00\x00\x00"
        assert await stream.receive() == b"\x00\x00\x00\x02hi"
        await stream.send(b"echo me")
        assert await stream.receive() == b"echo me"
        await stream.send_eof()
        with pytest.raises(anyio.EndOfStream):
            await stream.receive()
    await response.aclose()  # as with httpcore, closing the response closes the stream
    with pytest.raises(anyio.ClosedResourceError):
        await stream.send(b"late")
    await fake.wait_connections_closed()
    assert transport.active_connections == 0


async def test_101_stream_closed_by_itself(
    fake: FakeEngine, transport: UnixSocketTransport
) -> None:
    fake.enqueue(upgrade())
    response = await transport.handle_async_request(
        make_request("POST", "/exec/x/start", headers={"Upgrade": "tcp"})
    )
    assert await response.aread() == b""
    stream = response.extensions["network_stream"]
    await stream.aclose()
    assert transport.active_connections == 0  # its place in the pool is free at once
    with pytest.raises(anyio.ClosedResourceError):
        await stream.receive()
    await response.aclose()
    await fake.wait_connections_closed()


# --- live engines (conftest's `engine` fixture: skipped unless one answers) -------------------


@pytest.mark.live
async def test_live_ping_and_version(engine: Engine) -> None:
    async with UnixSocketTransport(engine.socket_path) as transport:
        ping = await fetch(transport, make_request(timeout=10))
        head = await fetch(transport, make_request("HEAD", timeout=10))
        version = await fetch(transport, make_request("GET", "/version", timeout=10))
        assert (ping.status_code, ping.content) == (200, b"OK")
        assert ping.headers["api-version"]
        assert (head.status_code, head.content) == (200, b"")
        assert "ApiVersion" in version.json()
        assert transport.idle_connections == 1


@pytest.mark.live
async def test_live_logs_stream(engine: Engine) -> None:
    script = "i=0; while true; do echo line$i; i=$((i+1)); sleep 0.1; done"
    spec = {
        "Image": "busybox:local",
        "Cmd": ["sh", "-c", script],
        "Labels": {"lightshuttle.test": "1"},
    }
    async with UnixSocketTransport(engine.socket_path) as transport:
        created = await fetch(
            transport, make_request("POST", "/v1.41/containers/create", json=spec, timeout=30)
        )
        assert created.status_code == 201, created.text
        container = created.json()["Id"]
        try:
            started = await fetch(
                transport, make_request("POST", f"/v1.41/containers/{container}/start", timeout=30)
            )
            assert started.status_code == 204, started.text
            logs = await transport.handle_async_request(
                make_request(
                    "GET",
                    f"/v1.41/containers/{container}/logs?follow=1&stdout=1&stderr=1",
                    timeout=30,
                    read=None,
                )
            )
            assert logs.status_code == 200
            received = b""
            async with raw_chunks(logs) as chunks:
                with anyio.fail_after(20):
                    async for chunk in chunks:
                        received += chunk
                        if b"line3" in received:
                            break
            await logs.aclose()  # an endless stream closed early: the socket is dropped
            assert b"line0" in received
        finally:
            await fetch(
                transport,
                make_request("DELETE", f"/v1.41/containers/{container}?force=1", timeout=30),
            )
        assert transport.active_connections == 0


@pytest.mark.live
async def test_live_exec_upgrade_is_a_two_way_stream(engine: Engine) -> None:
    spec = {"Image": "busybox:local", "Cmd": ["sleep", "30"], "Labels": {"lightshuttle.test": "1"}}
    command = {
        "Cmd": ["sh", "-c", "echo hello; cat"],
        "AttachStdin": True,
        "AttachStdout": True,
        "AttachStderr": True,
    }
    async with UnixSocketTransport(engine.socket_path) as transport:
        created = await fetch(
            transport, make_request("POST", "/v1.41/containers/create", json=spec)
        )
        container = created.json()["Id"]
        try:
            await fetch(transport, make_request("POST", f"/v1.41/containers/{container}/start"))
            made = await fetch(
                transport, make_request("POST", f"/v1.41/containers/{container}/exec", json=command)
            )
            response = await transport.handle_async_request(
                make_request(
                    "POST",
                    f"/v1.41/exec/{made.json()['Id']}/start",
                    json={"Detach": False, "Tty": False},
                    headers={"Connection": "Upgrade", "Upgrade": "tcp"},
                )
            )
            assert response.status_code == 101
            stream = response.extensions["network_stream"]
            received = b""
            with anyio.fail_after(20):
                while b"hello\n" not in received:
                    received += await stream.receive()
                await stream.send(b"echoed\n")
                while b"echoed\n" not in received:
                    received += await stream.receive()
                await stream.send_eof()  # cat ends, the exec ends, the engine closes
                with pytest.raises(anyio.EndOfStream):
                    while True:
                        received += await stream.receive()
            assert received.startswith(b"\x01\x00\x00\x00\x00\x00\x00\x06hello\n")  # stdout frame
            await response.aclose()
        finally:
            await fetch(transport, make_request("DELETE", f"/v1.41/containers/{container}?force=1"))
        assert transport.active_connections == 0

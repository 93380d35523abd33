"""Engine faults, scripted with the FakeEngine, seen through DockerClient.

Every fault gives its own typed error: a stream cut short raises StreamInterruptedError after
yielding everything received (a normal end raises nothing); a stalled ordinary call raises
DockerTimeout; a malformed answer raises DockerConnectionError naming what was wrong. A silent
follow stream never times out. After every fault the client still works.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Sequence

import anyio
import httpx
import pytest

from lightshuttle_runtime import (
    DecodeError,
    DockerClient,
    DockerConnectionError,
    DockerTimeout,
    Frame,
    NotFoundError,
    StreamDesyncError,
    StreamError,
    StreamInterruptedError,
    StreamTruncatedError,
    TransportKind,
)
from lightshuttle_runtime._transports import UnixSocketTransport
from lightshuttle_runtime.models import ContainerCreateRequest, EventMessage
from lightshuttle_runtime.testing import (
    Behaviour,
    Close,
    FakeEngine,
    Send,
    Sleep,
    bad_chunk_size,
    close_mid_body,
    close_without_answer,
    garbage,
    malformed_header,
    malformed_status_line,
    respond,
    respond_json,
    slow,
    stall,
    stream_chunks,
)
from tests.conftest import Engine

from .conftest import CONTAINER, Script, client_for, event, frame, inspect_body

pytestmark = pytest.mark.anyio

#: How long an interrupted stream may take to report it (the issue's bound).
INTERRUPT_BOUND = 1.0
FRAMES = [frame(1, b"one\n"), frame(2, b"two\n"), frame(1, b"three\n")]
EXPECTED = [Frame(1, b"one\n"), Frame(2, b"two\n"), Frame(1, b"three\n")]


def cut_after(chunks: Sequence[bytes], pause: float = 0.2) -> Behaviour:
    """A chunked stream that sends ``chunks``, waits ``pause`` s, then closes without the end."""
    return stream_chunks(chunks, final=False).then(Sleep(pause), Close())


async def drain_logs(sock_path: str, **options: object) -> tuple[list[Frame], BaseException]:
    """Read a follow logs stream to its error; return the frames and the error."""
    frames: list[Frame] = []
    async with client_for(sock_path) as docker:
        with pytest.raises(Exception) as caught:
            async with docker.containers.logs(CONTAINER, tty=False, follow=True) as stream:
                async for item in stream:
                    frames.append(item)
    return frames, caught.value


# -- streams cut short -------------------------------------------------------------------------


async def test_logs_cut_before_the_final_chunk_is_interrupted_after_every_frame(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    script.logs = lambda _r: cut_after(FRAMES)
    async with client_for(sock_path) as docker:
        frames: list[Frame] = []
        stamps: list[float] = []
        with pytest.raises(StreamInterruptedError) as caught:
            async with docker.containers.logs(CONTAINER, tty=False, follow=True) as stream:
                async for item in stream:
                    frames.append(item)
                    stamps.append(time.monotonic())
        waited = time.monotonic() - stamps[-1]
        assert frames == EXPECTED
        assert waited < 0.2 + INTERRUPT_BOUND
        assert caught.value.method == "GET"
        assert caught.value.path == f"/v1.41/containers/{CONTAINER}/logs"
        # the client is fine afterwards
        assert (await docker.containers.inspect(CONTAINER)).id == CONTAINER


async def test_logs_cut_mid_content_length_body(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    body = b"".join(FRAMES)
    script.logs = lambda _r: close_mid_body(body, sent=len(FRAMES[0]) + 3)
    frames, error = await drain_logs(sock_path)
    assert frames == EXPECTED[:1]
    assert isinstance(error, StreamInterruptedError)


async def test_logs_cut_inside_a_chunk(fake: FakeEngine, script: Script, sock_path: str) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    whole = b"".join(FRAMES)
    chunk = b"%x\r\n%b" % (len(whole), whole[:-2])  # the chunk announces 2 bytes it never sends
    script.logs = lambda _r: Behaviour((Send(head + chunk), Sleep(0.1), Close()))
    frames, error = await drain_logs(sock_path)
    assert frames == EXPECTED[:2]
    assert isinstance(error, StreamInterruptedError)


async def test_events_cut_short_are_interrupted_after_every_event(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    script.events = lambda _r: cut_after([event("create"), event("start")])
    async with client_for(sock_path) as docker:
        seen: list[EventMessage] = []
        with pytest.raises(StreamInterruptedError) as caught:
            async with docker.events.stream() as events:
                async for message in events:
                    seen.append(message)
        assert [m.action for m in seen] == ["create", "start"]
        assert caught.value.path == "/v1.41/events"
        assert isinstance(caught.value, DockerConnectionError)


async def test_a_normal_end_is_not_an_error(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    script.logs = lambda _r: stream_chunks(FRAMES)
    script.events = lambda _r: stream_chunks([event("create"), event("die")])
    async with client_for(sock_path) as docker:
        async with docker.containers.logs(CONTAINER, tty=False, follow=True) as stream:
            frames = [item async for item in stream]
        async with docker.events.stream() as events:
            actions = [message.action async for message in events]
    assert frames == EXPECTED
    assert actions == ["create", "die"]


async def test_a_body_ending_inside_a_frame_is_truncated_not_interrupted(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    script.logs = lambda _r: stream_chunks([FRAMES[0], FRAMES[1][:5]])
    frames, error = await drain_logs(sock_path)
    assert frames == EXPECTED[:1]
    assert isinstance(error, StreamTruncatedError)
    assert not isinstance(error, StreamInterruptedError)


# -- malformed answers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (malformed_status_line(), "status line"),
        (malformed_status_line(b"HTTP/2.0 200 OK"), "status line"),
        (malformed_header(), "header"),
        (garbage(), "status line"),
        (close_without_answer(), "without answering"),
        (close_mid_body(b'{"Id": "c0ffee"}', sent=5), "body bytes still to come"),
        (
            Behaviour((Send(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"), Close())),
            "Content-Length",
        ),
    ],
    ids=[
        "status-line",
        "http2",
        "header",
        "garbage",
        "no-answer",
        "mid-body",
        "bad-length",
    ],
)
async def test_malformed_answers_to_an_ordinary_call(
    fake: FakeEngine, script: Script, sock_path: str, fault: Behaviour, words: str
) -> None:
    fake.enqueue(fault)
    async with client_for(sock_path) as docker:
        with anyio.fail_after(5), pytest.raises(DockerConnectionError, match=words) as caught:
            await docker.containers.inspect(CONTAINER)
        assert not isinstance(caught.value, StreamInterruptedError)
        assert caught.value.path == f"/v1.41/containers/{CONTAINER}/json"
        assert (await docker.containers.inspect(CONTAINER)).id == CONTAINER


async def test_bad_chunk_size_in_a_stream(fake: FakeEngine, script: Script, sock_path: str) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    good = b"%x\r\n%b\r\n" % (len(FRAMES[0]), FRAMES[0])
    script.logs = lambda _r: Behaviour((Send(head + good + b"zz\r\nhello\r\n"), Close()))
    frames, error = await drain_logs(sock_path)
    assert frames == EXPECTED[:1]
    assert isinstance(error, StreamInterruptedError)
    assert "chunk size" in str(error)


async def test_bad_chunk_size_on_an_ordinary_call(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    fake.enqueue(bad_chunk_size())
    async with client_for(sock_path) as docker:
        with pytest.raises(DockerConnectionError, match="chunk size"):
            await docker.containers.inspect(CONTAINER)


async def test_garbage_frames_raise_desync_after_the_good_ones(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    bad = b"\x07\x00\x00\x00\x00\x00\x00\x02hi"
    script.logs = lambda _r: stream_chunks([FRAMES[0], FRAMES[1] + bad, FRAMES[2]])
    frames, error = await drain_logs(sock_path)
    assert frames == EXPECTED[:2]
    assert isinstance(error, StreamDesyncError)
    assert error.offset == len(FRAMES[0]) + len(FRAMES[1])
    assert error.path == f"/v1.41/containers/{CONTAINER}/logs"


async def test_an_engine_error_frame_is_a_stream_error(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    script.logs = lambda _r: stream_chunks([FRAMES[0], frame(3, b"Error grabbing logs: boom")])
    frames, error = await drain_logs(sock_path)
    assert frames == EXPECTED[:1]
    assert type(error) is StreamError
    assert "Error grabbing logs: boom" in str(error)


async def test_garbage_events_are_a_decode_error_after_the_good_ones(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    script.events = lambda _r: stream_chunks([event("start"), b"{not json}\n", event("die")])
    async with client_for(sock_path) as docker:
        seen: list[str] = []
        with pytest.raises(DecodeError, match="not valid JSON") as caught:
            async with docker.events.stream() as events:
                async for message in events:
                    seen.append(message.action)
    assert seen == ["start"]
    assert caught.value.path == "/v1.41/events"


# -- stalls and slow answers -------------------------------------------------------------------


async def test_a_stalled_ordinary_call_times_out(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    fake.enqueue(stall())
    async with client_for(sock_path, timeout=0.3) as docker:
        started = time.monotonic()
        with pytest.raises(DockerTimeout) as caught:
            await docker.containers.inspect(CONTAINER)
        assert 0.25 < time.monotonic() - started < 0.3 + INTERRUPT_BOUND
        assert caught.value.timeout == 0.3
        assert caught.value.path == f"/v1.41/containers/{CONTAINER}/json"
        assert (await docker.containers.inspect(CONTAINER)).id == CONTAINER
    await fake.wait_connections_closed()


async def test_a_stall_mid_body_of_an_ordinary_call_times_out(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    fake.enqueue(Behaviour((Send(head + b'{"Id":'), Sleep(30))))
    async with client_for(sock_path, timeout=0.3) as docker:
        with anyio.fail_after(5), pytest.raises(DockerTimeout):
            await docker.containers.inspect(CONTAINER)


async def test_slow_answers_within_and_beyond_the_timeout(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    fake.enqueue(
        slow(0.2, respond_json(inspect_body())),
        slow(1.0, respond_json(inspect_body())),
    )
    async with client_for(sock_path, timeout=0.5) as docker:
        assert (await docker.containers.inspect(CONTAINER)).id == CONTAINER
        with pytest.raises(DockerTimeout):
            await docker.containers.inspect(CONTAINER)


async def test_a_silent_follow_stream_outlives_the_request_timeout(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    timeout = 0.2
    script.logs = lambda _r: stream_chunks([FRAMES[0], FRAMES[1]], interval=1.0)
    script.events = lambda _r: stream_chunks([event("start"), event("die")], interval=1.0)
    async with client_for(sock_path, timeout=timeout) as docker:
        started = time.monotonic()
        async with docker.containers.logs(CONTAINER, tty=False, follow=True) as stream:
            frames = [item async for item in stream]
        async with docker.events.stream() as events:
            actions = [message.action async for message in events]
        silent = time.monotonic() - started
    assert frames == EXPECTED[:2]
    assert actions == ["start", "die"]
    assert silent > 4 * 5 * timeout * 0.9  # four silences of 1 s, each five request timeouts


# -- request bodies ----------------------------------------------------------------------------


async def pieces() -> AsyncIterator[bytes]:
    yield b"hello "
    yield b""
    yield b"world"


@pytest.mark.parametrize("body", ["pre-read-async", "sync-iterable"])
async def test_a_body_announced_chunked_is_sent_chunked(
    fake: FakeEngine, sock_path: str, body: str
) -> None:
    """Regression: a streamed body already read into bytes (the cassette recorder reads it
    first) went out raw under ``Transfer-Encoding: chunked``; Docker answered 500 "invalid
    byte in chunk length" and the FakeEngine waited for a chunk size forever."""
    if body == "pre-read-async":
        request = httpx.Request("POST", "http://docker/v1.41/build", content=pieces())
        await request.aread()
    else:
        request = httpx.Request("POST", "http://docker/v1.41/build", content=iter([b"a", b"b"]))
    assert request.headers["Transfer-Encoding"] == "chunked"
    fake.enqueue(respond(200, b"{}"))
    async with UnixSocketTransport(sock_path) as transport:
        with anyio.fail_after(5):
            response = await transport.handle_async_request(request)
            await response.aread()
    assert response.status_code == 200
    assert fake.requests[0].body == (b"hello world" if body == "pre-read-async" else b"ab")
    assert fake.protocol_errors == []


# -- live: silent streams outlive the request timeout ------------------------------------------


@pytest.mark.live
@pytest.mark.both_transports
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_live_silent_streams_outlive_the_request_timeout(
    engine: Engine, transport_kind: TransportKind
) -> None:
    """A container silent for 1.5 s between two lines, and an events stream that matches
    nothing, under a request timeout of 0.3 s: no DockerTimeout, the late line arrives."""
    name = "ls-rel-silent"
    cmd = ["sh", "-c", "echo first; sleep 1.5; echo second"]
    async with (
        DockerClient(engine.host) as manager,
        DockerClient(engine.host, timeout=0.3, transport_kind=transport_kind) as docker,
    ):
        with contextlib.suppress(NotFoundError):
            await manager.containers.remove(name, force=True)
        created = await manager.containers.create(
            ContainerCreateRequest(image="busybox:local", cmd=cmd), name=name
        )
        try:
            await manager.containers.start(created.id)
            started = time.monotonic()
            with anyio.fail_after(30):
                async with docker.containers.logs(created.id, tty=False, follow=True) as logs:
                    lines = [frame.data async for frame in logs]
            assert lines == [b"first\n", b"second\n"]
            assert time.monotonic() - started > 1.0
            quiet = docker.events.stream(filters={"label": ["ls-rel-never=1"]})
            with anyio.move_on_after(1.5) as waited:
                async with quiet as events:
                    async for message in events:
                        raise AssertionError(f"unexpected event {message}")
            assert waited.cancelled_caught  # still open and silent after 5 timeouts
        finally:
            with anyio.CancelScope(shield=True):
                await manager.containers.remove(name, force=True)

"""The one table from transport failures to typed errors, through a transport that raises them.

Each failure is raised by a transport handed to ``DockerClient(transport=...)`` — as httpx's
transports raise them, as httpcore does when nothing maps its exceptions, as the operating system
does, as anyio's streams do — and must come out as the same typed error whichever layer spoke.
"""

from __future__ import annotations

import errno
from collections.abc import AsyncIterator

import anyio
import httpcore
import httpx
import pytest

from lightshuttle_runtime import (
    DockerClient,
    DockerConnectionError,
    DockerError,
    DockerTimeout,
    PoolExhaustedError,
    SocketNotFoundError,
    StreamInterruptedError,
)
from lightshuttle_runtime._failures import FAILURES, FailureKind, failure_kind

pytestmark = pytest.mark.anyio

_PATH = "/v1.41/containers/c0ffee/json"


class Raising(httpx.AsyncBaseTransport):
    """Raises ``exc`` for every request."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise self.exc


class BreakingBody(httpx.AsyncBaseTransport):
    """Answers 200 and one chunk of logs, then raises ``exc`` from the body."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        exc = self.exc

        class Body(httpx.AsyncByteStream):
            async def __aiter__(self) -> AsyncIterator[bytes]:
                yield b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n"
                raise exc

        return httpx.Response(200, stream=Body())


def _request() -> httpx.Request:
    return httpx.Request("GET", "http://docker/")


# (the exception, the error class expected before an answer, the one expected inside a stream)
CASES: list[tuple[BaseException, type[DockerError], type[DockerError]]] = [
    (httpx.ConnectTimeout("slow"), DockerTimeout, DockerTimeout),
    (httpx.PoolTimeout("busy"), PoolExhaustedError, PoolExhaustedError),
    (httpx.ReadTimeout("slow"), DockerTimeout, DockerTimeout),
    (httpx.ConnectError("refused"), SocketNotFoundError, SocketNotFoundError),
    (httpx.ReadError("reset"), DockerConnectionError, StreamInterruptedError),
    (httpx.RemoteProtocolError("bad"), DockerConnectionError, StreamInterruptedError),
    (httpcore.ConnectTimeout("slow"), DockerTimeout, DockerTimeout),
    (httpcore.PoolTimeout("busy"), PoolExhaustedError, PoolExhaustedError),
    (httpcore.ReadTimeout("slow"), DockerTimeout, DockerTimeout),
    (httpcore.ConnectError("refused"), SocketNotFoundError, SocketNotFoundError),
    (httpcore.ReadError("reset"), DockerConnectionError, StreamInterruptedError),
    (httpcore.RemoteProtocolError("bad"), DockerConnectionError, StreamInterruptedError),
    (FileNotFoundError(errno.ENOENT, "no socket"), SocketNotFoundError, SocketNotFoundError),
    (
        ConnectionRefusedError(errno.ECONNREFUSED, "refused"),
        SocketNotFoundError,
        SocketNotFoundError,
    ),
    (TimeoutError("slow"), DockerTimeout, DockerTimeout),
    (
        ConnectionResetError(errno.ECONNRESET, "reset"),
        DockerConnectionError,
        StreamInterruptedError,
    ),
    (BrokenPipeError(errno.EPIPE, "pipe"), DockerConnectionError, StreamInterruptedError),
    (anyio.BrokenResourceError(), DockerConnectionError, StreamInterruptedError),
    (anyio.EndOfStream(), DockerConnectionError, StreamInterruptedError),
]


def _ids() -> list[str]:
    return [f"{type(exc).__module__.split('.')[0]}.{type(exc).__name__}" for exc, _, _ in CASES]


@pytest.mark.parametrize(("exc", "before", "inside"), CASES, ids=_ids())
async def test_a_failure_before_the_answer_is_its_typed_error(
    exc: BaseException, before: type[DockerError], inside: type[DockerError]
) -> None:
    # the socket named does not exist: a connect failure is explained as a missing socket
    async with DockerClient(
        "unix:///nonexistent/ls.sock", transport=Raising(exc), api_version="1.41"
    ) as docker:
        with pytest.raises(DockerError) as caught:
            await docker.containers.inspect("c0ffee")
    assert type(caught.value) is before, f"{type(exc).__name__} -> {type(caught.value)}"
    assert caught.value.path == _PATH
    assert caught.value.__cause__ is exc


@pytest.mark.parametrize(("exc", "before", "inside"), CASES, ids=_ids())
async def test_a_failure_inside_a_stream_is_its_typed_error_after_the_data(
    exc: BaseException, before: type[DockerError], inside: type[DockerError]
) -> None:
    frames: list[bytes] = []
    async with DockerClient(
        "unix:///nonexistent/ls.sock", transport=BreakingBody(exc), api_version="1.41"
    ) as docker:
        with pytest.raises(DockerError) as caught:
            async with docker.containers.logs("c0ffee", tty=False, follow=True) as logs:
                async for frame in logs:
                    frames.append(frame.data)
    assert frames == [b"hi\n"], "the data before the failure was lost"
    assert type(caught.value) is inside, f"{type(exc).__name__} -> {type(caught.value)}"
    assert caught.value.path == "/v1.41/containers/c0ffee/logs"


async def test_pool_exhaustion_says_how_to_raise_the_limit() -> None:
    async with DockerClient(
        "unix:///nonexistent/ls.sock", transport=Raising(httpx.PoolTimeout("busy")), timeout=3
    ) as docker:
        with pytest.raises(PoolExhaustedError) as caught:
            await docker.request("GET", "/info", versioned=False)
    assert "max_connections" in str(caught.value)
    assert caught.value.timeout == 3


@pytest.mark.parametrize("exc", [ValueError("a bug"), KeyError("x"), RuntimeError("closed")])
async def test_what_is_not_a_transport_failure_passes_through(exc: Exception) -> None:
    async with DockerClient(
        "unix:///nonexistent/ls.sock", transport=Raising(exc), api_version="1.41"
    ) as docker:
        with pytest.raises(type(exc)) as caught:
            await docker.containers.inspect("c0ffee")
    assert caught.value is exc


def test_every_row_is_reachable() -> None:
    """No row is shadowed by a broader one above it (most specific first)."""
    for index, (cls, kind) in enumerate(FAILURES):
        for broader, _ in FAILURES[:index]:
            assert not issubclass(cls, broader), f"{cls.__name__} is shadowed by {broader.__name__}"
        assert isinstance(kind, FailureKind)
    assert failure_kind(httpx.ReadError("x", request=_request())) is FailureKind.BROKEN
    assert failure_kind(ValueError()) is None

"""The httpcore network stream over an anyio byte stream (httpx's transport on ssh
dial-stdio), offline: its errors as httpcore's, its liveness, its half-close through
``upgraded_stream``. The whole transport runs the conformance suite over process pipes
(tests/testing/test_conformance_remote.py) and live over ssh (tests/test_ssh.py)."""

from __future__ import annotations

import anyio
import httpcore
import httpx
import pytest
from anyio.abc import ByteStream

from lightshuttle_runtime._transports import upgraded_stream
from lightshuttle_runtime._transports._ssh import SSHFailure
from lightshuttle_runtime._transports._ssh_httpx import ByteStreamNetworkStream
from lightshuttle_runtime._transports._upgrade import SEND_EOF

pytestmark = pytest.mark.anyio


class Scripted(ByteStream):
    """A byte stream whose receive gives ``chunks`` then raises ``end``."""

    def __init__(self, chunks: list[bytes], end: BaseException) -> None:
        self.chunks = chunks
        self.end = end
        self.sent: list[bytes] = []
        self.eof = False
        self.closed = False
        self.alive = True

    def is_alive(self) -> bool:
        return self.alive

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if self.chunks:
            return self.chunks.pop(0)
        if isinstance(self.end, TimeoutError):
            await anyio.sleep_forever()
        raise self.end

    async def send(self, item: bytes) -> None:
        if self.eof:
            raise anyio.ClosedResourceError
        self.sent.append(item)

    async def send_eof(self) -> None:
        self.eof = True

    async def aclose(self) -> None:
        self.closed = True


async def test_reads_then_an_empty_read_at_the_end() -> None:
    inner = Scripted([b"HTTP/1.1"], anyio.EndOfStream())
    stream = ByteStreamNetworkStream(inner)
    assert await stream.read(10) == b"HTTP/1.1"
    assert await stream.read(10) == b""
    await stream.write(b"GET")
    await stream.write(b"")
    assert inner.sent == [b"GET"]
    await stream.aclose()
    assert inner.closed


async def test_a_failure_is_a_read_error_caused_by_ssh() -> None:
    failure = SSHFailure("auth-refused", "Permission denied", "ssh ...", 255)
    broken = anyio.BrokenResourceError(str(failure))
    broken.__cause__ = failure
    stream = ByteStreamNetworkStream(Scripted([], broken))
    with pytest.raises(httpcore.ReadError) as caught:
        await stream.read(10)
    assert caught.value.__cause__ is broken


async def test_timeouts_and_write_errors_are_httpcore_s() -> None:
    inner = Scripted([], TimeoutError())
    stream = ByteStreamNetworkStream(inner)
    with pytest.raises(httpcore.ReadTimeout):
        await stream.read(10, timeout=0.01)
    inner.eof = True
    with pytest.raises(httpcore.WriteError):
        await stream.write(b"x")
    with pytest.raises(httpcore.ConnectError):
        await stream.start_tls(None)


async def test_is_readable_once_the_stream_is_not_alive() -> None:
    inner = Scripted([], anyio.EndOfStream())
    stream = ByteStreamNetworkStream(inner)
    assert stream.get_extra_info("is_readable") is False
    inner.alive = False
    assert stream.get_extra_info("is_readable") is True
    assert stream.get_extra_info("socket") is None


async def test_close_stdin_of_an_upgraded_connection_half_closes_the_stream() -> None:
    inner = Scripted([b"out"], anyio.EndOfStream())
    network = ByteStreamNetworkStream(inner)
    assert network.get_extra_info(SEND_EOF) == inner.send_eof
    response = httpx.Response(101, extensions={"network_stream": network})
    upgraded = upgraded_stream(response)
    await upgraded.send(b"in")
    await upgraded.send_eof()
    assert inner.eof and inner.sent == [b"in"]
    assert await upgraded.receive() == b"out"
    with pytest.raises(anyio.BrokenResourceError):
        await upgraded.send(b"more")
    await upgraded.aclose()
    assert inner.closed

"""SSHPathTransport's choice between dial-stdio and forwarding, against scripted transports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from lightshuttle_runtime._transports._ssh import SSHFailure
from lightshuttle_runtime._transports._ssh_path import SSHPathTransport

pytestmark = pytest.mark.anyio


class Scripted(httpx.AsyncBaseTransport):
    """Answers 200 with its name, or raises ``failure`` (an ``httpx.ConnectError`` caused by
    it, as the built-in transports raise ssh's failures)."""

    def __init__(self, name: str, failure: SSHFailure | None = None) -> None:
        self.name = name
        self.failure = failure
        self.seen: list[bytes] = []
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        self.seen.append(b"".join([chunk async for chunk in request.stream]))
        if self.failure is not None:
            raise httpx.ConnectError("ssh ended", request=request) from self.failure
        return httpx.Response(200, content=self.name.encode())

    async def aclose(self) -> None:
        self.closed = True


def _failure(reason: str) -> SSHFailure:
    return SSHFailure(reason, "sh: 1: docker: not found", "ssh h docker system dial-stdio", 127)


async def _post(transport: httpx.AsyncBaseTransport, content: object = b"body") -> str:
    async with httpx.AsyncClient(transport=transport, base_url="http://docker") as client:
        response = await client.post("/x", content=content)  # type: ignore[arg-type]
        return response.text


async def test_dial_stdio_that_works_is_kept() -> None:
    dial, forward = Scripted("dial"), Scripted("forward")
    transport = SSHPathTransport(dial, lambda: forward)
    assert await _post(transport) == "dial"
    dial.failure = _failure("no-docker")  # decided: a later failure is only raised
    with pytest.raises(httpx.ConnectError):
        await _post(transport)
    assert transport.way == "dial-stdio" and forward.seen == []


async def test_no_docker_switches_to_forwarding_and_resends() -> None:
    dial, forward = Scripted("dial", _failure("no-docker")), Scripted("forward")
    transport = SSHPathTransport(dial, lambda: forward)
    assert await _post(transport, b"the body") == "forward"
    assert forward.seen == [b"the body"] and dial.closed
    assert await _post(transport) == "forward"
    assert transport.way == "forward" and len(dial.seen) == 1
    await transport.aclose()
    assert forward.closed


async def test_another_failure_leaves_the_choice_open() -> None:
    dial, forward = Scripted("dial", _failure("auth-refused")), Scripted("forward")
    transport = SSHPathTransport(dial, lambda: forward)
    with pytest.raises(httpx.ConnectError):
        await _post(transport)
    assert transport.way is None and forward.seen == []
    dial.failure = None
    assert await _post(transport) == "dial"


async def test_a_streamed_body_is_not_sent_twice() -> None:
    dial, forward = Scripted("dial", _failure("no-docker")), Scripted("forward")
    transport = SSHPathTransport(dial, lambda: forward)

    async def body() -> AsyncIterator[bytes]:
        yield b"once"

    with pytest.raises(httpx.ConnectError):
        await _post(transport, body())
    assert forward.seen == [] and transport.way is None

"""SSHPathTransport's choice between dial-stdio and forwarding, against scripted transports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx
import pytest

from lightshuttle_runtime._errors import exception_chain
from lightshuttle_runtime._transports._ssh import SSHFailure
from lightshuttle_runtime._transports._ssh_path import SSHPathTransport

pytestmark = pytest.mark.anyio


class Scripted(httpx.AsyncBaseTransport):
    """Answers 200 with its name, or raises ``failure`` (an ``httpx.ConnectError`` caused by
    it, as the built-in transports raise ssh's failures)."""

    def __init__(
        self, name: str, failure: SSHFailure | None = None, gate: anyio.Event | None = None
    ) -> None:
        self.name = name
        self.failure = failure
        self.gate = gate  # when set, a request waits for it before answering
        self.seen: list[bytes] = []
        self.requests: list[httpx.Request] = []
        self.entered = anyio.Event()
        self.in_flight = 0
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        self.requests.append(request)
        self.seen.append(b"".join([chunk async for chunk in request.stream]))
        self.entered.set()
        if self.gate is not None:
            self.in_flight += 1
            await self.gate.wait()
            self.in_flight -= 1
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


async def test_a_streamed_body_is_never_sent_twice_a_ping_decides() -> None:
    dial, forward = Scripted("dial", _failure("no-docker")), Scripted("forward")
    transport = SSHPathTransport(dial, lambda: forward)

    async def body() -> AsyncIterator[bytes]:
        yield b"once"

    assert await _post(transport, body()) == "forward"
    assert dial.seen == [b""] and forward.seen == [b"once"]  # the ping, then the body once
    assert [request.url.path for request in dial.requests] == ["/_ping"]


async def test_a_resent_request_fails_as_itself() -> None:
    """The forwarded request's own failure is raised, not taken for the dial's no-docker."""
    dial = Scripted("dial", _failure("no-docker"))
    forward = Scripted("forward", _failure("forward-failed"))
    transport = SSHPathTransport(dial, lambda: forward)
    with pytest.raises(httpx.ConnectError) as caught:
        await _post(transport)
    chain = exception_chain(caught.value)
    reasons = [cause.reason for cause in chain if isinstance(cause, SSHFailure)]
    assert reasons == ["forward-failed"]


async def test_closing_while_deciding_starts_no_forwarding() -> None:
    made: list[Scripted] = []
    dial = Scripted("dial", _failure("no-docker"), gate=anyio.Event())
    transport = SSHPathTransport(dial, lambda: made.append(Scripted("forward")) or made[-1])
    async with anyio.create_task_group() as tasks:
        failed = anyio.Event()

        async def first() -> None:
            with pytest.raises(httpx.ConnectError, match="closed"):
                await _post(transport)
            failed.set()

        tasks.start_soon(first)
        await dial.entered.wait()
        await transport.aclose()
        assert dial.gate is not None
        dial.gate.set()
        await failed.wait()
    assert made == [] and dial.closed


async def test_once_decided_requests_do_not_wait_for_each_other() -> None:
    dial = Scripted("dial")
    transport = SSHPathTransport(dial, lambda: Scripted("forward"))
    assert await _post(transport) == "dial"
    dial.gate = anyio.Event()  # every request now waits until released...
    async with anyio.create_task_group() as tasks:
        for _ in range(3):
            tasks.start_soon(_post, transport)
        with anyio.fail_after(5):
            while dial.in_flight < 3:  # ...and all three are in flight at once
                await anyio.sleep(0.01)
        dial.gate.set()

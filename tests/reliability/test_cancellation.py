"""Leaving streams early, 1,000 times over one connection: nothing leaks, nothing waits.

Each test opens 1,000 follow streams (logs and events in turn) through a client limited to one
connection, leaves each one early in its own way (break, cancel, cancel twice, a bare
``async for`` left by ``break``), then checks that an ordinary call still answers within 1 s,
that the process holds no more file descriptors than before, and (pytest's warnings-as-errors)
that no ResourceWarning was raised.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

import anyio
import pytest

from lightshuttle_runtime import DockerClient, EngineStream
from lightshuttle_runtime.testing import FakeEngine, slow, stall_mid_stream

from .conftest import CONTAINER, Script, client_for, frame, open_fds

pytestmark = pytest.mark.anyio

#: Streams per test (the issue asks for 1,000); LS_RELIABILITY_STREAMS overrides it.
STREAMS = int(os.environ.get("LS_RELIABILITY_STREAMS", "1000"))
NEXT_CALL_BOUND = 1.0

Leave = Callable[[EngineStream[object]], Awaitable[None]]


def open_stream(docker: DockerClient, i: int) -> EngineStream[object]:
    if i % 2:
        return docker.events.stream()  # type: ignore[return-value]
    return docker.containers.logs(CONTAINER, tty=False, follow=True)  # type: ignore[return-value]


async def break_out(stream: EngineStream[object]) -> None:
    async with stream:
        async for _item in stream:
            break


async def bare_break(stream: EngineStream[object]) -> None:
    async for _item in stream:
        break


async def cancel_while_reading(stream: EngineStream[object]) -> None:
    """Cancel from another task while the stream waits for its second item."""
    first = anyio.Event()

    async def read() -> None:
        async with stream:
            async for _item in stream:
                first.set()

    async with anyio.create_task_group() as group:
        group.start_soon(read)
        await first.wait()
        group.cancel_scope.cancel()


async def cancel_twice(stream: EngineStream[object]) -> None:
    """Cancel the read, then cancel again while the stream is closing; close it once more."""
    first = anyio.Event()
    scopes: list[anyio.CancelScope] = []

    async def read() -> None:
        with anyio.CancelScope() as outer:
            scopes.append(outer)
            with anyio.CancelScope() as inner:
                scopes.append(inner)
                async with stream:
                    async for _item in stream:
                        first.set()
                    await anyio.sleep_forever()

    async with anyio.create_task_group() as group:
        group.start_soon(read)
        await first.wait()
        outer, inner = scopes
        inner.cancel()
        inner.cancel()
        outer.cancel()
    await stream.aclose()  # already closed: a no-op


async def cancel_on_entry(stream: EngineStream[object]) -> None:
    """Cancel while the request is in flight (the fake answers late)."""
    with anyio.move_on_after(0.001):
        async with stream:
            async for _item in stream:
                pass
    await stream.aclose()


async def settle(fake: FakeEngine, still_open: int) -> None:
    """Wait until the fake has seen every other connection's hang-up (it lives in this process)."""
    with anyio.fail_after(5):
        while fake.connections_open > still_open:
            await anyio.sleep(0.005)


async def leave_many(fake: FakeEngine, sock_path: str, leave: Leave, count: int) -> None:
    async with client_for(sock_path, max_connections=1) as docker:
        assert (await docker.containers.inspect(CONTAINER)).id == CONTAINER
        baseline = open_fds()
        for i in range(count):
            with anyio.fail_after(5):
                await leave(open_stream(docker, i))
        with anyio.fail_after(NEXT_CALL_BOUND):
            assert (await docker.containers.inspect(CONTAINER)).id == CONTAINER
        await settle(fake, 1)
        assert open_fds() <= baseline
    await fake.wait_connections_closed()


@pytest.mark.parametrize(
    "leave",
    [break_out, bare_break, cancel_while_reading, cancel_twice],
    ids=["break", "bare-break", "cancel", "cancel-twice"],
)
async def test_leaving_1000_streams_early(fake: FakeEngine, sock_path: str, leave: Leave) -> None:
    await leave_many(fake, sock_path, leave, STREAMS)


async def test_cancelling_100_streams_before_their_answer(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    script.logs = lambda _r: slow(0.05, stall_mid_stream([frame(1, b"late\n")]))
    script.events = script.logs
    await leave_many(fake, sock_path, cancel_on_entry, STREAMS // 10)

"""The anyio race ``tests/anyio_wakeup_race.py`` describes, reproduced without an engine.

The first test is a canary: it fails once anyio no longer fires a reader on a cancelled read,
and then the tolerance in ``tests/conftest.py`` (and the README's note) should go.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import anyio
from anyio._backends._asyncio import UNIXSocketStream

from tests.anyio_wakeup_race import is_anyio_wakeup_race


def _judged(seen: list[tuple[bool, dict[str, Any]]]) -> Any:
    # judged as the handler is called: asyncio clears a handle's callback once it is cancelled
    return lambda _loop, context: seen.append((is_anyio_wakeup_race(context), context))


async def _cancel_as_data_arrives() -> tuple[list[tuple[bool, dict[str, Any]]], bytes]:
    contexts: list[tuple[bool, dict[str, Any]]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_judged(contexts))
    ours, engine = socket.socketpair(socket.AF_UNIX)
    ours.setblocking(False)
    stream = UNIXSocketStream(ours)
    try:
        scope = anyio.CancelScope()

        async def read() -> None:
            with scope:
                await stream.receive()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(read)
            await anyio.sleep(0.01)  # the read now waits on its future
            engine.send(b"x")  # readable at the next select ...
            loop.call_soon(scope.cancel)  # ... where this runs before the reader's callback
        with anyio.fail_after(5):
            left = await stream.receive()  # the cancelled read took nothing
        return contexts, left
    finally:
        await stream.aclose()
        engine.close()


def test_a_cancelled_read_still_fires_its_reader_and_loses_nothing() -> None:
    contexts, left = asyncio.run(_cancel_as_data_arrives())
    assert left == b"x"
    assert [judged for judged, _ in contexts] == [True], (
        "anyio no longer fires the reader of a cancelled read: remove the tolerance in "
        f"tests/conftest.py and the README's note (contexts: {contexts})"
    )


def test_the_tolerance_matches_nothing_else() -> None:
    async def contexts() -> list[tuple[bool, dict[str, Any]]]:
        seen: list[tuple[bool, dict[str, Any]]] = []
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(_judged(seen))
        done = loop.create_future()
        done.set_result(None)
        loop.call_soon(done.set_result, None)  # a finished (not cancelled) future set twice
        loop.call_soon(int, "not a number")
        await asyncio.sleep(0.01)
        return seen

    seen = asyncio.run(contexts())
    assert len(seen) == 2
    assert [judged for judged, _ in seen] == [False, False]

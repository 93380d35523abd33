"""Streams never starve the pool: a client with default settings serves long-lived streams
outside its ``max_connections`` and bounds every wait for a connection.

Against the FakeEngine, on both built-in transports: 100 follow streams and 100 events streams
stay open (each has received its first item) while 1,000 inspects all complete; with every
ordinary connection busy, the next ordinary call fails after its timeout with
:class:`PoolExhaustedError`, which says how to raise the limit. The live variant (200 follow
streams and 1,000 inspects on Docker and Podman) is in ``test_pool_live.py``.
"""

from __future__ import annotations

import time

import anyio
import pytest

from lightshuttle_runtime import DockerTimeout, PoolExhaustedError, TransportKind
from lightshuttle_runtime.testing import FakeEngine, respond_json, slow

from .conftest import CONTAINER, Script, client_for, inspect_body, open_fds

pytestmark = pytest.mark.anyio

TRANSPORT_KINDS = ["native", "httpx"]


@pytest.mark.parametrize("kind", TRANSPORT_KINDS)
async def test_open_streams_take_none_of_the_ordinary_connections(
    fake: FakeEngine, sock_path: str, kind: TransportKind
) -> None:
    streams, inspects = 200, 1000
    fds = open_fds()
    first_items = 0
    answered = 0
    all_open = anyio.Event()
    async with client_for(sock_path, transport_kind=kind) as docker:  # max_connections=10

        async def follow(i: int) -> None:
            nonlocal first_items
            if i % 2:
                async with docker.events.stream() as events:
                    async for _ in events:
                        first_items += 1
                        if first_items == streams:
                            all_open.set()
                        await anyio.sleep_forever()
            else:
                async with docker.containers.logs(CONTAINER, tty=False, follow=True) as logs:
                    async for _ in logs:
                        first_items += 1
                        if first_items == streams:
                            all_open.set()
                        await anyio.sleep_forever()

        async def inspect() -> None:
            nonlocal answered
            assert (await docker.containers.inspect(CONTAINER)).id == CONTAINER
            answered += 1

        with anyio.fail_after(90):  # starved, the inspects would wait until this fires
            async with anyio.create_task_group() as group:
                for i in range(streams):
                    group.start_soon(follow, i)
                await all_open.wait()  # every stream is open and holds its connection
                started = time.monotonic()
                async with anyio.create_task_group() as calls:
                    for _ in range(inspects):
                        calls.start_soon(inspect)
                took = time.monotonic() - started
                group.cancel_scope.cancel()
    assert first_items == streams, "a stream received nothing"
    assert answered == inspects
    # (about 2 s on an idle machine; the bound leaves room for a loaded one)
    assert took < 60, f"1000 inspects took {took:.1f} s beside {streams} open streams"
    assert fake.peak_connections >= streams
    await fake.wait_connections_closed()
    assert open_fds() <= fds


@pytest.mark.parametrize("kind", TRANSPORT_KINDS)
async def test_a_busy_pool_is_pool_exhausted_after_the_timeout(
    fake: FakeEngine, script: Script, sock_path: str, kind: TransportKind
) -> None:
    script.inspect = lambda _r: slow(3.0, respond_json(inspect_body()))
    held = anyio.Event()
    async with client_for(sock_path, transport_kind=kind, max_connections=1, timeout=0.3) as docker:

        async def hold_the_only_connection() -> None:
            held.set()
            await docker.request("GET", f"/containers/{CONTAINER}/json", timeout=10)

        async with anyio.create_task_group() as group:
            group.start_soon(hold_the_only_connection)
            await held.wait()
            await anyio.sleep(0.1)  # its request is on the wire
            started = time.monotonic()
            with pytest.raises(PoolExhaustedError) as caught:
                await docker.containers.inspect(CONTAINER)
            waited = time.monotonic() - started
            group.cancel_scope.cancel()
    assert isinstance(caught.value, DockerTimeout)
    assert "max_connections" in str(caught.value)
    assert caught.value.timeout == 0.3
    assert caught.value.path == f"/v1.41/containers/{CONTAINER}/json"
    assert 0.25 < waited < 2.0, f"gave up after {waited:.2f} s, not the 0.3 s timeout"

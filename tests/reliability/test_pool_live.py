"""Streams never starve the pool, live: one client with default settings (``max_connections``
10) on Docker and Podman, through both built-in transports, keeps 200 follow streams open —
each has received a line — while 1,000 inspects at once are all answered.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import AsyncIterator

import anyio
import pytest

from lightshuttle_runtime import DockerClient, NotFoundError, TransportKind
from lightshuttle_runtime.models import ContainerCreateRequest
from tests.conftest import Engine

from .conftest import open_fds

pytestmark = [pytest.mark.anyio, pytest.mark.live]

STREAMS, INSPECTS, CONTAINERS = 200, 1000, 4
TICKING = ["sh", "-c", 'trap "exit 0" TERM; while true; do echo tick; sleep 0.2; done']


@contextlib.asynccontextmanager
async def ticking(docker: DockerClient, count: int) -> AsyncIterator[list[str]]:
    """``count`` started containers printing a line every 0.2 s; removed afterwards."""
    label = {"lightshuttle.test": f"pool-{secrets.token_hex(4)}"}
    ids: list[str] = []
    try:
        for _ in range(count):
            created = await docker.containers.create(
                ContainerCreateRequest(image="busybox:local", cmd=TICKING, labels=label)
            )
            ids.append(created.id)
            await docker.containers.start(created.id)
        yield ids
    finally:
        with anyio.CancelScope(shield=True):
            for container in ids:
                with contextlib.suppress(NotFoundError):
                    await docker.containers.remove(container, force=True)


@pytest.mark.parametrize("kind", ["native", "httpx"])
async def test_200_follow_streams_and_1000_inspects_at_once(
    engine: Engine, kind: TransportKind
) -> None:
    fds = open_fds()
    opened = 0
    answered = 0
    all_open = anyio.Event()
    async with (
        DockerClient(engine.host, transport_kind=kind) as docker,
        ticking(docker, CONTAINERS) as containers,
    ):

        async def follow(container: str) -> None:
            nonlocal opened
            async with docker.containers.logs(container, tty=False, follow=True, tail=0) as logs:
                async for frame in logs:
                    assert frame.data == b"tick\n"
                    opened += 1
                    if opened == STREAMS:
                        all_open.set()
                    break  # leaves the stream open until the task is cancelled
                await anyio.sleep_forever()

        async def inspect(container: str) -> None:
            nonlocal answered
            assert (await docker.containers.inspect(container)).id == container
            answered += 1

        with anyio.fail_after(120):
            async with anyio.create_task_group() as group:
                for i in range(STREAMS):
                    group.start_soon(follow, containers[i % CONTAINERS])
                await all_open.wait()
                started = time.monotonic()
                async with anyio.create_task_group() as calls:
                    for i in range(INSPECTS):
                        calls.start_soon(inspect, containers[i % CONTAINERS])
                took = time.monotonic() - started
                group.cancel_scope.cancel()
    assert opened == STREAMS, "a follow stream received nothing"
    assert answered == INSPECTS
    assert took < 60, f"{INSPECTS} inspects took {took:.1f} s beside {STREAMS} open streams"
    assert open_fds() <= fds

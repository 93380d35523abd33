"""Load: 100 follow streams and 1,000 inspects at once; descriptors and memory come back.

The bulk runs against the FakeEngine (fast and deterministic): every stream and every inspect
completes, then the process holds no more file descriptors than before and its code (the
client and httpx) holds no more memory (tracemalloc, after a warm-up round of the same size).
A smaller live variant runs on Docker and Podman.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import tracemalloc
from collections.abc import AsyncIterator

import anyio
import pytest

from lightshuttle_runtime import DockerClient, NotFoundError, TransportKind
from lightshuttle_runtime.models import ContainerCreateRequest
from lightshuttle_runtime.testing import FakeEngine, stream_chunks
from tests.conftest import Engine

from .conftest import CONTAINER, Script, client_for, event, frame, open_fds

pytestmark = pytest.mark.anyio

FOLLOWERS = int(os.environ.get("LS_RELIABILITY_FOLLOWERS", "100"))
INSPECTS = int(os.environ.get("LS_RELIABILITY_INSPECTS", "1000"))
#: Python memory that may stay allocated after a load like one already run (free lists...).
LIVE_IMAGE = "busybox:local"


async def load(path: str, followers: int, inspects: int) -> tuple[int, int]:
    """Run ``followers`` follow streams and ``inspects`` inspects at once on a fresh client.

    Returns:
        (frames and events read, inspects answered).
    """
    counts = [0, 0]
    async with client_for(path, max_connections=followers + 20) as docker:

        async def follow(i: int) -> None:
            if i % 2:
                async with docker.events.stream() as events:
                    async for _message in events:
                        counts[0] += 1
            else:
                async with docker.containers.logs(CONTAINER, tty=False, follow=True) as logs:
                    async for _frame in logs:
                        counts[0] += 1

        async def inspect() -> None:
            assert (await docker.containers.inspect(CONTAINER)).id == CONTAINER
            counts[1] += 1

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for i in range(followers):
                    group.start_soon(follow, i)
                for _ in range(inspects):
                    group.start_soon(inspect)
    return counts[0], counts[1]


async def serve_and_load(followers: int, inspects: int) -> tuple[int, int]:
    """A FakeEngine whose streams send three items 50 ms apart, under ``load``."""
    script = Script(
        logs=lambda _r: stream_chunks(
            [frame(1, b"a\n"), frame(2, b"b\n"), frame(1, b"c\n")], interval=0.05
        ),
        events=lambda _r: stream_chunks(
            [event("create"), event("start"), event("die")], interval=0.05
        ),
    )
    folder = tempfile.mkdtemp(prefix="ls-load-")
    path = os.path.join(folder, "engine.sock")
    try:
        async with FakeEngine(path, script.answer) as fake:
            result = await load(path, followers, inspects)
            await fake.wait_connections_closed()
            assert fake.peak_connections >= followers
    finally:
        os.rmdir(folder)
    return result


#: Where a leak of the client would be allocated: its own code and the HTTP layer it drives
#: (the event loop's and the allocator's own tables, which grow once and then jitter under
#: load, are not the client's and are left out).
CLIENT_CODE = [
    tracemalloc.Filter(True, "*/lightshuttle_runtime/*"),
    tracemalloc.Filter(True, "*/httpx/*"),
]


#: Bytes the client's code may hold more after a measured run (it measured 0): less than one
#: small object per follow stream, so a per-request leak fails.
CLIENT_SLACK = 4 * 1024


def client_memory() -> int:
    """Bytes currently held by allocations made in the client's code."""
    open_fds()  # collects garbage
    snapshot = tracemalloc.take_snapshot().filter_traces(CLIENT_CODE)
    return sum(stat.size for stat in snapshot.statistics("filename"))


async def test_100_follow_streams_and_1000_inspects_at_once() -> None:
    fds = open_fds()
    tracemalloc.start()
    try:
        # A warm-up at full size first: imports and caches, filled once.
        assert await serve_and_load(FOLLOWERS, INSPECTS) == (3 * FOLLOWERS, INSPECTS)
        before = client_memory()
        assert await serve_and_load(FOLLOWERS, INSPECTS) == (3 * FOLLOWERS, INSPECTS)
        after = client_memory()
    finally:
        tracemalloc.stop()
    assert open_fds() <= fds
    assert after - before < CLIENT_SLACK, f"{after - before} bytes still held by the client"


# -- live --------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def ticking_container(docker: DockerClient, name: str) -> AsyncIterator[str]:
    """A container that, once started, prints five lines 0.3 s apart and exits; removed after."""
    with contextlib.suppress(NotFoundError):
        await docker.containers.remove(name, force=True)
    cmd = ["sh", "-c", "for i in 1 2 3 4 5; do echo tick $i; sleep 0.3; done"]
    created = await docker.containers.create(
        ContainerCreateRequest(image=LIVE_IMAGE, cmd=cmd), name=name
    )
    try:
        yield created.id
    finally:
        with anyio.CancelScope(shield=True), contextlib.suppress(NotFoundError):
            await docker.containers.remove(name, force=True)


@pytest.mark.live
@pytest.mark.both_transports
async def test_live_follow_streams_and_inspects_at_once(
    engine: Engine, transport_kind: TransportKind
) -> None:
    followers, inspects = 10, 100
    fds = open_fds()
    async with (
        DockerClient(engine.host, transport_kind=transport_kind) as docker,  # default pool
        ticking_container(docker, "ls-rel-load") as container,
    ):
        lines: list[bytes] = []

        async def follow() -> None:
            async with docker.containers.logs(container, tty=False, follow=True) as logs:
                lines.append(b"".join([f.data async for f in logs]))

        async def inspect() -> None:
            assert (await docker.containers.inspect(container)).id == container

        with anyio.fail_after(60):
            await docker.containers.start(container)
            async with anyio.create_task_group() as group:
                for _ in range(followers):
                    group.start_soon(follow)
                for _ in range(inspects):
                    group.start_soon(inspect)
    expected = b"".join(b"tick %d\n" % i for i in range(1, 6))
    assert lines == [expected] * followers
    assert open_fds() <= fds

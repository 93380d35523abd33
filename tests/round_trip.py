"""The runtime round trip every way of reaching an engine is checked with (unix, tcp, TLS,
ssh): start with a health check, wait until healthy, follow the logs, exec, stop, remove."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from lightshuttle_runtime import DockerClient
from lightshuttle_runtime.runtime import (
    ContainerNotFoundError,
    ContainerSpec,
    DockerRuntime,
    HealthcheckSpec,
    Healthy,
    LogStream,
    Stopped,
)
from lightshuttle_runtime.testing import CassetteTransport
from lightshuttle_runtime.testing.pytest_plugin import cassette_test_name, record_mode

TESTS = Path(__file__).parent
IMAGE = "busybox:local"
#: Seconds the whole round trip may take.
LIMIT = 60


async def round_trip(client: DockerClient, name: str) -> None:
    """The round trip on the container ``name`` (removed at the end, whatever happens)."""
    runtime = DockerRuntime(client)
    spec = ContainerSpec(
        name=name,
        image=IMAGE,
        command=[
            "sh",
            "-c",
            'trap "echo bye; exit 0" TERM; echo hello; touch /tmp/ready; '
            "while true; do sleep 0.1; done",
        ],
        healthcheck=HealthcheckSpec(
            test="test -f /tmp/ready",
            interval=timedelta(milliseconds=200),
            timeout=timedelta(seconds=5),
            retries=3,
        ),
    )
    try:
        with anyio.fail_after(LIMIT):
            container = await runtime.start(spec)
            await runtime.wait_healthy(container, timedelta(seconds=LIMIT))
            assert await runtime.inspect(container) == Healthy()
            async with runtime.logs(container, follow=True) as logs:
                first = await logs.__anext__()
                assert (first.stream, first.data) == (LogStream.STDOUT, b"hello\n")
                result = await client.exec.run(container, ["sh", "-c", "echo out; echo err >&2"])
                assert (result.exit_code, result.stdout, result.stderr) == (0, b"out\n", b"err\n")
                await runtime.stop(container, timedelta(seconds=10))
                # The follow stream ends with the container (not left early).
                rest = b"".join([chunk.data async for chunk in logs])
            assert rest.endswith(b"bye\n")
            assert await runtime.inspect(container) == Stopped(0)
            await runtime.remove(name)
            with pytest.raises(ContainerNotFoundError):
                await runtime.inspect(container)
    finally:
        with anyio.CancelScope(shield=True):
            await runtime.remove(name)


@asynccontextmanager
async def recorded_client(
    request: pytest.FixtureRequest,
    variant: str,
    host: str,
    *,
    replay: bool,
    anyio_backend: str,
    **live: Any,
) -> AsyncIterator[DockerClient]:
    """A client of ``host`` through this test's cassette
    (``tests/cassettes/<module>/<test>[<variant>].json``): replaying it (no engine), recording
    it live when pytest runs with ``--docker-record-mode`` (asyncio only), else plainly live.
    ``live`` is passed to the live ``DockerClient`` (``tls=``, ``ssh_options=``...)."""
    module = request.node.path.relative_to(TESTS).with_suffix("")
    name = cassette_test_name(request.node, exclude=("anyio_backend", "variant"))
    path = TESTS / "cassettes" / module / f"{name}[{variant}].json"
    cassette: CassetteTransport | None = None
    if replay:
        if not path.exists():
            pytest.skip(f"no cassette {path.relative_to(TESTS.parent)} yet: record it live")
        cassette = CassetteTransport(path, save_on_close=False)
    else:
        mode = record_mode(request.config)
        if mode != "none" and anyio_backend == "asyncio":
            cassette = CassetteTransport(
                path,
                record_mode=mode,
                transport=lambda: DockerClient(host, **live).transport,
                save_on_close=False,
            )
    if cassette is not None:
        async with DockerClient(host, transport=cassette) as client:
            yield client
        # Reached only when the block passed (this runs inside the test, before its report).
        if cassette.recording:
            cassette.save()
        else:
            cassette.assert_all_played()
    else:
        async with DockerClient(host, **live) as client:
            yield client

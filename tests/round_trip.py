"""The runtime round trip every way of reaching an engine is checked with (unix, tcp, TLS,
ssh): start with a health check, wait until healthy, follow the logs, exec, stop, remove."""

from __future__ import annotations

from datetime import timedelta

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

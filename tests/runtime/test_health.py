"""wait_healthy is driven by events: it does not need the safety poll to notice health."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lightshuttle_runtime import DockerClient
from lightshuttle_runtime.models import ContainerInspect, ContainerState, Health
from lightshuttle_runtime.runtime import (
    ContainerExitedError,
    ContainerSpec,
    ContainerUnhealthyError,
    DockerRuntime,
    HealthcheckSpec,
    _health,
)

pytestmark = pytest.mark.anyio

NAME = "ls-rt-health-events"


def _spec(command: str, check: str, start_period: float = 0) -> ContainerSpec:
    return ContainerSpec(
        name=NAME,
        image="busybox:local",
        command=["sh", "-c", command],
        healthcheck=HealthcheckSpec(
            test=check,
            interval=timedelta(milliseconds=200),
            timeout=timedelta(seconds=2),
            retries=1,
            start_period=timedelta(seconds=start_period),
        ),
    )


@pytest.mark.usefixtures("no_safety_poll")
async def test_healthy_is_noticed_through_events(docker: DockerClient) -> None:
    runtime = DockerRuntime(docker)
    await runtime.remove(NAME)
    # Failed checks inside the start period do not count, so the first success decides.
    container = await runtime.start(
        _spec("sleep 1; touch /tmp/ok; sleep 60", "test -f /tmp/ok", start_period=20)
    )
    try:
        await runtime.wait_healthy(container, timedelta(seconds=30))
    finally:
        await runtime.remove(NAME)


@pytest.mark.usefixtures("no_safety_poll")
async def test_exit_is_noticed_through_events(docker: DockerClient) -> None:
    runtime = DockerRuntime(docker)
    await runtime.remove(NAME)
    container = await runtime.start(_spec("sleep 1; exit 4", "false"))
    try:
        with pytest.raises((ContainerExitedError, ContainerUnhealthyError)) as caught:
            await runtime.wait_healthy(container, timedelta(seconds=30))
    finally:
        await runtime.remove(NAME)
    if isinstance(caught.value, ContainerExitedError):
        assert caught.value.exit_code == 4


def _inspect(status: str, health: str | None, exit_code: int = 0) -> ContainerInspect:
    return ContainerInspect(
        id="c" * 64,
        state=ContainerState(
            status=status,
            exit_code=exit_code,
            health=Health(status=health) if health else None,
        ),
    )


def test_is_ready_rules() -> None:
    assert _health.is_ready(_inspect("running", "healthy"))
    assert not _health.is_ready(_inspect("running", "starting"))
    assert _health.is_ready(_inspect("running", None))
    assert not _health.is_ready(_inspect("created", None))
    with pytest.raises(ContainerUnhealthyError):
        _health.is_ready(_inspect("running", "unhealthy"))
    with pytest.raises(ContainerExitedError) as caught:
        _health.is_ready(_inspect("exited", "starting", exit_code=9))
    assert caught.value.exit_code == 9

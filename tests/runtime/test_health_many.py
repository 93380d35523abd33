"""A project coming up: ``wait_healthy`` on 50 containers at once, on one client with default
settings, on Docker and Podman through both built-in transports. Each wait holds an events
stream; none may starve the inspects the others need, so every wait returns soon (``BOUND``)
after its container's first successful health check (the end of that probe, as the engine logs
it) or after its own start, whichever is later. The containers start ten at a time, each
waited for as soon as it is started, as a project comes up.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import anyio
import pytest

from lightshuttle_runtime import DockerClient, TransportKind
from lightshuttle_runtime.runtime import ContainerSpec, DockerRuntime, HealthcheckSpec
from tests.conftest import Engine

pytestmark = [pytest.mark.anyio, pytest.mark.live]

COUNT = 50
#: Healthy after about 3 s; probes every second (Podman's scheduler ticks once a second).
COMMAND = ["sh", "-c", 'trap "exit 0" TERM; sleep 3; touch /tmp/ok; while true; do sleep 1; done']
CHECK = HealthcheckSpec(
    test="test -f /tmp/ok",
    interval=timedelta(seconds=1),
    timeout=timedelta(seconds=5),
    retries=1,
    start_period=timedelta(seconds=60),  # failed probes before /tmp/ok do not count
)


#: How late a wait may return. Issue 9 asks for one second. On a quiet machine (2026-12-08,
#: since Docker's ``health_status: healthy`` ends a wait without another inspect) the slowest of
#: the 50 came 0.07-0.17 s late on Docker 20.10 (before: 0.43-1.75 s, its inspects answered up
#: to 0.8 s late), 0.01-0.02 s on Docker 28.5 and 0.43-0.92 s on Podman 4.3. Podman's is its
#: own answers: with 50 checks running an inspect takes up to ~1 s (p90 0.41 s; ping stays at
#: 1 ms), its file events arrive 0-250 ms late (it polls the file), and each check is a whole
#: `podman healthcheck run` process (~67 ms of CPU; engines-up's ticker stands in for systemd's
#: timers). Loaded (the rest of the suite beside it), every engine was 1.85-3.0 s late, so the
#: bound guards against starvation, whose waits (the fault this test was written for) ended
#: 30 s late, rather than asserting the quiet machine's second.
BOUND = timedelta(seconds=10)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("kind", ["native", "httpx"])
async def test_wait_healthy_on_50_containers_at_once(engine: Engine, kind: TransportKind) -> None:
    prefix = f"ls-hm-{secrets.token_hex(3)}"
    names = [f"{prefix}-{i}" for i in range(COUNT)]
    lags: dict[str, timedelta] = {}
    async with DockerClient(engine.host, transport_kind=kind) as docker:
        runtime = DockerRuntime(docker)
        ids: dict[str, str] = {}
        try:
            with anyio.fail_after(180):
                limit = anyio.CapacityLimiter(10)

                async def come_up(name: str) -> None:
                    async with limit:  # starts 10 at a time; the waits all run at once
                        spec = ContainerSpec(
                            name, "busybox:local", command=COMMAND, healthcheck=CHECK
                        )
                        ids[name] = await runtime.start(spec)
                    began = datetime.now(UTC)
                    await runtime.wait_healthy(ids[name], timedelta(seconds=90))
                    returned = datetime.now(UTC)
                    info = await docker.containers.inspect(ids[name])
                    health = info.state.health if info.state is not None else None
                    ends = [
                        probe.end
                        for probe in (health.log or [] if health is not None else [])
                        if probe.exit_code == 0 and probe.end is not None
                    ]
                    assert ends, f"{name}: wait_healthy returned before any successful probe"
                    # healthy before the wait began: the wait's first inspect must see it
                    lags[name] = returned - max(min(ends), began)

                async with anyio.create_task_group() as group:
                    for name in names:
                        group.start_soon(come_up, name)
        finally:
            with anyio.CancelScope(shield=True):
                for name in names:
                    await runtime.remove(name)
    assert len(lags) == COUNT  # every wait returned (none starved into OperationTimedOut)
    slowest = max(lags, key=lambda name: lags[name])
    late = f"{slowest} returned {lags[slowest].total_seconds():.2f} s after it turned healthy"
    print(f"\nwait_healthy x{COUNT} {engine.name}/{kind}: the slowest of them {late}")
    assert lags[slowest] < BOUND, late

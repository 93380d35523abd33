"""DockerRuntime on the real engines (Docker and Podman, via the ``docker`` fixture).

Replay-friendly: fixed container names ``ls-rt-<scenario>`` (leftovers removed first), no
random values, no wall-clock assertions, no timestamps in request parameters. Health checks
run every 200 ms (Podman's ticker here runs them once a second).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, timedelta

import anyio
import pytest

from lightshuttle_runtime import ConflictError, DockerClient, DockerError, NotFoundError
from lightshuttle_runtime.runtime import (
    LABEL_PROJECT,
    LABEL_RESOURCE,
    ContainerExitedError,
    ContainerId,
    ContainerNotFoundError,
    ContainerSpec,
    ContainerUnhealthyError,
    DockerRuntime,
    HealthcheckSpec,
    Healthy,
    ImagePullError,
    LogChunk,
    LogStream,
    OperationTimedOut,
    PortSpec,
    Running,
    StartError,
    Stopped,
    Unhealthy,
    VolumeSpec,
)

#: Every live run goes through both built-in transports (native and httpx's stock one).
pytestmark = [pytest.mark.anyio, pytest.mark.both_transports]

IMAGE = "busybox:local"
PROJECT = "ls-tests"
#: Seconds any single live step may take before the test fails instead of hanging.
LIMIT = 60
#: A shell loop that exits 0 on SIGTERM within ~0.1 s (the trap runs between sleeps).
SERVE = 'trap "echo bye; exit 0" TERM; {body}; while true; do sleep 0.1; done'


def serve(body: str = "true") -> list[str]:
    return ["sh", "-c", SERVE.format(body=body)]


def check(
    test: str | Sequence[str], *, retries: int = 1, start_period: timedelta = timedelta(0)
) -> HealthcheckSpec:
    return HealthcheckSpec(
        test=test,
        interval=timedelta(milliseconds=200),
        timeout=timedelta(seconds=5),
        retries=retries,
        start_period=start_period,
    )


@pytest.fixture
def runtime(docker: DockerClient) -> DockerRuntime:
    return DockerRuntime(docker)


@asynccontextmanager
async def fresh(
    runtime: DockerRuntime, name: str, project: str | None = None
) -> AsyncIterator[str]:
    """``name``, free of leftovers, removed again at the end (with ``project``'s network)."""
    await runtime.remove(name)
    try:
        yield name
    finally:
        with anyio.CancelScope(shield=True):
            await runtime.remove(name)
            if project is not None:
                await runtime.teardown_project_network(project)


async def read_logs(runtime: DockerRuntime, container: ContainerId) -> list[LogChunk]:
    with anyio.fail_after(LIMIT):
        async with runtime.logs(container, follow=False) as logs:
            return [chunk async for chunk in logs]


def joined(chunks: Sequence[LogChunk], stream: LogStream) -> bytes:
    return b"".join(chunk.data for chunk in chunks if chunk.stream is stream)


def assert_stamped(chunks: Sequence[LogChunk]) -> None:
    """Every chunk has an aware UTC timestamp, in order within its stream."""
    for stream in LogStream:
        times = [chunk.timestamp for chunk in chunks if chunk.stream is stream]
        assert all(t.utcoffset() == timedelta(0) and t.tzinfo is UTC for t in times), times
        assert times == sorted(times)


async def wait_exit(docker: DockerClient, container: ContainerId) -> int:
    with anyio.fail_after(LIMIT):
        return (await docker.containers.wait(container)).status_code


# -- the round trip ----------------------------------------------------------------------------


async def test_round_trip(runtime: DockerRuntime, docker: DockerClient) -> None:
    async with fresh(runtime, "ls-rt-roundtrip", PROJECT) as name:
        spec = ContainerSpec(
            name=name,
            image=IMAGE,
            project=PROJECT,
            resource="roundtrip",
            env={"GREETING": "hello"},
            working_dir="/tmp",
            command=serve('echo "$GREETING from $PWD"; echo oops >&2; touch /tmp/ready'),
            healthcheck=check("test -f /tmp/ready && echo ready"),
        )
        container = await runtime.start(spec)
        assert isinstance(await runtime.inspect(container), Running | Healthy)

        await runtime.wait_healthy(container, timedelta(seconds=LIMIT))
        assert await runtime.inspect(container) == Healthy()

        chunks = await read_logs(runtime, container)
        assert joined(chunks, LogStream.STDOUT) == b"hello from /tmp\n"
        assert joined(chunks, LogStream.STDERR) == b"oops\n"
        assert_stamped(chunks)

        managed = await docker.containers.list(filters={"label": [f"{LABEL_PROJECT}={PROJECT}"]})
        assert [c.id for c in managed if c.names == [f"/{name}"]] == [container]
        (summary,) = (c for c in managed if c.id == container)
        assert summary.labels is not None
        assert summary.labels[LABEL_RESOURCE] == "roundtrip"

        await runtime.stop(container, timedelta(seconds=10))
        assert await runtime.inspect(container) == Stopped(0)
        assert joined(await read_logs(runtime, container), LogStream.STDOUT).endswith(b"bye\n")

        await runtime.remove(name)
        with pytest.raises(ContainerNotFoundError):
            await runtime.inspect(container)
        await runtime.teardown_project_network(PROJECT)


async def test_the_spec_is_applied(runtime: DockerRuntime, docker: DockerClient) -> None:
    async with fresh(runtime, "ls-rt-spec") as name:
        spec = ContainerSpec(
            name=name,
            image=IMAGE,
            entrypoint=["/bin/sh", "-c"],
            command=['echo "$A"; exec sleep 60'],
            env={"A": "a=1"},
            working_dir="/srv",
            ports=[PortSpec(8080), PortSpec(9090, protocol="udp")],
            volumes=[VolumeSpec("/scratch"), VolumeSpec("/host-etc", "/etc", read_only=True)],
        )
        container = await runtime.start(spec)
        info = await docker.containers.inspect(container)
        assert info.config.entrypoint == ["/bin/sh", "-c"]
        assert info.config.cmd == ['echo "$A"; exec sleep 60']
        assert info.config.env is not None and "A=a=1" in info.config.env
        assert info.config.working_dir == "/srv"
        assert info.network_settings is not None and info.network_settings.ports is not None
        for port in ("8080/tcp", "9090/udp"):
            bindings = info.network_settings.ports[port]
            assert bindings, port
            assert {b.host_ip for b in bindings} == {"127.0.0.1"}
            assert all(b.host_port for b in bindings)
        mounts = {m.destination: m for m in info.mounts or []}
        assert mounts["/scratch"].type == "volume"
        assert mounts["/host-etc"].type == "bind"
        assert mounts["/host-etc"].source == "/etc"
        assert mounts["/host-etc"].rw is False
        with anyio.fail_after(LIMIT):
            async with runtime.logs(container, follow=True) as logs:
                first = await logs.__anext__()
        assert (first.stream, first.data) == (LogStream.STDOUT, b"a=1\n")


async def test_host_port_0_lets_the_engine_pick_a_free_port(
    runtime: DockerRuntime, docker: DockerClient
) -> None:
    # -p 127.0.0.1:0:80: as docker run, host port 0 is the engine's choice of a free port,
    # read back from inspect's NetworkSettings.Ports
    async with fresh(runtime, "ls-rt-port0") as name:
        spec = ContainerSpec(
            name=name, image=IMAGE, command=["sleep", "60"], ports=[PortSpec(80, 0, "127.0.0.1")]
        )
        container = await runtime.start(spec)
        info = await docker.containers.inspect(container)
        assert info.network_settings is not None and info.network_settings.ports is not None
        bindings = info.network_settings.ports["80/tcp"]
        assert bindings and {b.host_ip for b in bindings} == {"127.0.0.1"}
        assert all(b.host_port and 0 < int(b.host_port) <= 65535 for b in bindings), bindings


# -- idempotence, not found, conflicts -----------------------------------------------------------


async def test_stop_and_remove_are_idempotent(runtime: DockerRuntime) -> None:
    async with fresh(runtime, "ls-rt-idempotent") as name:
        container = await runtime.start(ContainerSpec(name=name, image=IMAGE, command=serve()))
        await runtime.stop(container, timedelta(seconds=10))
        await runtime.stop(container, timedelta(seconds=10))  # 304: already stopped
        assert await runtime.inspect(container) == Stopped(0)
        await runtime.remove(name)
        await runtime.remove(name)  # 404: already gone
        await runtime.stop(container, timedelta(seconds=1))  # 404: gone
        with pytest.raises(ContainerNotFoundError):
            await runtime.inspect(container)


async def test_remove_kills_a_running_container(runtime: DockerRuntime) -> None:
    async with fresh(runtime, "ls-rt-remove-running") as name:
        container = await runtime.start(ContainerSpec(name=name, image=IMAGE, command=serve()))
        await runtime.remove(name)
        with pytest.raises(ContainerNotFoundError):
            await runtime.inspect(container)


async def test_inspect_of_a_missing_container_is_not_found(runtime: DockerRuntime) -> None:
    async with fresh(runtime, "ls-rt-missing") as name:
        with pytest.raises(ContainerNotFoundError, match=name) as caught:
            await runtime.inspect(ContainerId(name))
        assert isinstance(caught.value.__cause__, NotFoundError)
        with pytest.raises(ContainerNotFoundError):
            await read_logs(runtime, ContainerId(name))


async def test_a_name_conflict_is_a_start_error(runtime: DockerRuntime) -> None:
    async with fresh(runtime, "ls-rt-conflict") as name:
        spec = ContainerSpec(name=name, image=IMAGE, command=serve())
        first = await runtime.start(spec)
        with pytest.raises(StartError, match=name) as caught:
            await runtime.start(spec)
        # Docker answers 409; Podman 500 "already in use": both are a ConflictError.
        assert isinstance(caught.value.__cause__, ConflictError)
        assert await runtime.inspect(first) == Running()


# -- health ---------------------------------------------------------------------------------


async def test_a_failing_healthcheck_is_unhealthy(runtime: DockerRuntime) -> None:
    async with fresh(runtime, "ls-rt-unhealthy") as name:
        spec = ContainerSpec(
            name=name,
            image=IMAGE,
            command=serve(),
            healthcheck=check("echo probe failed; exit 1"),
        )
        container = await runtime.start(spec)
        with pytest.raises(ContainerUnhealthyError, match="probe failed") as caught:
            await runtime.wait_healthy(container, timedelta(seconds=LIMIT))
        assert caught.value.health_output == "probe failed"
        assert await runtime.inspect(container) == Unhealthy()


async def test_a_container_exiting_before_healthy_reports_its_exit_code(
    runtime: DockerRuntime,
) -> None:
    async with fresh(runtime, "ls-rt-exits") as name:
        spec = ContainerSpec(
            name=name,
            image=IMAGE,
            command=["sh", "-c", "echo giving up; sleep 0.3; exit 3"],
            # Failures inside the start period do not count: it is "starting" when it exits.
            healthcheck=check("test -f /tmp/ready", start_period=timedelta(hours=1)),
        )
        container = await runtime.start(spec)
        with pytest.raises(ContainerExitedError, match="code 3") as caught:
            await runtime.wait_healthy(container, timedelta(seconds=LIMIT))
        assert caught.value.exit_code == 3
        assert await runtime.inspect(container) == Stopped(3)


async def test_wait_healthy_without_a_healthcheck_returns_once_running(
    runtime: DockerRuntime,
) -> None:
    async with fresh(runtime, "ls-rt-no-check") as name:
        container = await runtime.start(ContainerSpec(name=name, image=IMAGE, command=serve()))
        await runtime.wait_healthy(container, timedelta(seconds=LIMIT))
        assert await runtime.inspect(container) == Running()


async def test_wait_healthy_times_out(runtime: DockerRuntime) -> None:
    async with fresh(runtime, "ls-rt-timeout") as name:
        # Failures inside the start period do not count: the check stays "starting".
        spec = ContainerSpec(
            name=name,
            image=IMAGE,
            command=serve(),
            healthcheck=check("false", start_period=timedelta(hours=1)),
        )
        container = await runtime.start(spec)
        limit = timedelta(milliseconds=800)
        with pytest.raises(OperationTimedOut) as caught:
            await runtime.wait_healthy(container, limit)
        assert caught.value.operation == "wait_healthy"
        assert caught.value.duration == limit
        assert container[:12] in str(caught.value)
        assert await runtime.inspect(container) == Running()


# -- logs -------------------------------------------------------------------------------------


async def test_stdout_and_stderr_are_separated(
    runtime: DockerRuntime, docker: DockerClient
) -> None:
    async with fresh(runtime, "ls-rt-streams") as name:
        script = "echo out1; echo err1 >&2; echo out2; echo err2 >&2; printf '\\001\\303\\251\\n'"
        container = await runtime.start(
            ContainerSpec(name=name, image=IMAGE, command=["sh", "-c", script])
        )
        assert await wait_exit(docker, container) == 0
        chunks = await read_logs(runtime, container)
        # Bytes pass through unchanged (Docker's json-file log driver stores lines as JSON
        # strings, so it would replace invalid UTF-8 by U+FFFD: these bytes are valid UTF-8).
        assert joined(chunks, LogStream.STDOUT) == b"out1\nout2\n\x01\xc3\xa9\n"
        assert joined(chunks, LogStream.STDERR) == b"err1\nerr2\n"
        assert_stamped(chunks)


async def test_a_tty_containers_logs(runtime: DockerRuntime, docker: DockerClient) -> None:
    async with fresh(runtime, "ls-rt-tty") as name:
        container = await runtime.start(
            ContainerSpec(
                name=name,
                image=IMAGE,
                tty=True,
                command=["sh", "-c", "echo on a tty; echo also stderr >&2"],
            )
        )
        assert await wait_exit(docker, container) == 0
        chunks = await read_logs(runtime, container)
        # A TTY merges the streams and turns \n into \r\n.
        assert {chunk.stream for chunk in chunks} == {LogStream.STDOUT}
        assert joined(chunks, LogStream.STDOUT) == b"on a tty\r\nalso stderr\r\n"
        assert_stamped(chunks)


async def test_follow_ends_when_the_container_is_stopped(runtime: DockerRuntime) -> None:
    async with fresh(runtime, "ls-rt-follow-stop") as name:
        container = await runtime.start(
            ContainerSpec(name=name, image=IMAGE, command=serve("echo ready"))
        )
        seen: list[bytes] = []
        with anyio.fail_after(LIMIT):
            async with runtime.logs(container, follow=True) as logs:
                async for chunk in logs:
                    seen.append(chunk.data)
                    if chunk.data == b"ready\n":
                        await runtime.stop(container, timedelta(seconds=10))
        assert seen == [b"ready\n", b"bye\n"]


async def test_follow_ends_when_the_container_exits(runtime: DockerRuntime) -> None:
    async with fresh(runtime, "ls-rt-follow-exit") as name:
        script = "for i in 1 2 3; do echo line $i; sleep 0.2; done; echo done >&2"
        container = await runtime.start(
            ContainerSpec(name=name, image=IMAGE, command=["sh", "-c", script])
        )
        with anyio.fail_after(LIMIT):
            async with runtime.logs(container, follow=True) as logs:
                chunks = [chunk async for chunk in logs]
        assert joined(chunks, LogStream.STDOUT) == b"line 1\nline 2\nline 3\n"
        assert joined(chunks, LogStream.STDERR) == b"done\n"


async def test_leaving_a_follow_early_closes_it(runtime: DockerRuntime) -> None:
    async with fresh(runtime, "ls-rt-follow-break") as name:
        container = await runtime.start(
            ContainerSpec(name=name, image=IMAGE, command=serve("echo first"))
        )
        with anyio.fail_after(LIMIT):
            async with runtime.logs(container, follow=True) as logs:
                async for chunk in logs:
                    assert chunk.data == b"first\n"
                    break
        # The container is untouched, and the runtime still works.
        assert await runtime.inspect(container) == Running()


# -- images -----------------------------------------------------------------------------------


async def test_a_missing_image_is_an_image_pull_error(runtime: DockerRuntime) -> None:
    async with fresh(runtime, "ls-rt-no-image") as name:
        # No registry answers here: Docker fails with 500 before the stream, Podman in-band.
        spec = ContainerSpec(name=name, image="localhost:5999/ls-rt/missing:1")
        with anyio.fail_after(LIMIT), pytest.raises(ImagePullError, match="missing") as caught:
            await runtime.start(spec)
        assert isinstance(caught.value.__cause__, DockerError)
        with pytest.raises(ContainerNotFoundError):
            await runtime.inspect(ContainerId(name))


async def test_the_engines_own_healthcheck_form_and_logs_tail_and_since(
    runtime: DockerRuntime, docker: DockerClient
) -> None:
    """docker-py's ``["CMD", ...]`` is sent as it is (it was doubled and never got healthy)."""
    async with fresh(runtime, "ls-t-rt-cmd-form") as name:
        spec = ContainerSpec(
            name=name,
            image=IMAGE,
            command=serve("echo one; echo two; echo three"),
            healthcheck=check(["CMD", "true"]),
        )
        container = await runtime.start(spec)
        await runtime.wait_healthy(container, timedelta(seconds=LIMIT))
        info = await docker.containers.inspect(container)
        assert info.config.healthcheck is not None
        assert info.config.healthcheck.test == ["CMD", "true"]
        assert info.state.started_at is not None
        with anyio.fail_after(LIMIT):
            async with runtime.logs(container, False, tail=1) as logs:
                last = [chunk.data async for chunk in logs]
            since = info.state.started_at.replace(microsecond=0) - timedelta(seconds=1)
            async with runtime.logs(container, False, since=since) as logs:
                everything = [chunk.data async for chunk in logs]
        assert last == [b"three\n"]
        assert b"".join(everything) == b"one\ntwo\nthree\n"

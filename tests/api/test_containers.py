"""Container endpoints against the real engines, each test once on Docker and once on Podman.

The tests are replay-friendly (they will also run from recorded cassettes): fixed container
names ``ls-test-...`` whose leftovers are removed first, no random values, no clock-dependent
query parameters, no assertions on timing.

Engine differences met here:
- a name in use: Docker 409, Podman 500 "... already in use" (both ConflictError);
- kill of a stopped container: Docker 409, Podman 500 "container state improper" (both
  ConflictError);
- log timestamps: Docker RFC3339 with 9 fraction digits, Podman whole seconds;
- error messages differ in wording ("No such container: x" vs "no container with name or ID").
"""

from __future__ import annotations

import contextlib
import io
import itertools
import tarfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, timedelta

import anyio
import httpx
import msgspec
import pytest

from lightshuttle_runtime import (
    ConflictError,
    DockerClient,
    EndpointNotFoundError,
    EngineError,
    Frame,
    InvalidArgumentError,
    NotFoundError,
    StampedFrame,
)
from lightshuttle_runtime.models import (
    ChangeKind,
    ContainerCreateRequest,
    ContainerStats,
    ContainerUpdateRequest,
    RestartPolicy,
)
from tests.api.test_images import tiny_rootfs
from tests.conftest import Engine

pytestmark = pytest.mark.anyio

IMAGE = "busybox:local"
CHATTY = ["sh", "-c", "echo out; echo err >&2; sleep 30"]
# Bounds a wait or a followed stream, so a regression fails instead of hanging.
PATIENCE = 60


@contextlib.asynccontextmanager
async def container(
    docker: DockerClient,
    name: str,
    cmd: Sequence[str] = CHATTY,
    *,
    tty: bool = False,
    labels: dict[str, str] | None = None,
    image: str = IMAGE,
) -> AsyncIterator[str]:
    """A fresh container ``name`` (a leftover of that name is removed first); removed after."""
    await remove_if_present(docker, name)
    created = await docker.containers.create(
        ContainerCreateRequest(image=image, cmd=list(cmd), tty=tty, labels=labels), name=name
    )
    try:
        yield created.id
    finally:
        with anyio.CancelScope(shield=True):
            await remove_if_present(docker, name)


async def remove_if_present(docker: DockerClient, name: str) -> None:
    with contextlib.suppress(NotFoundError):
        await docker.containers.remove(name, force=True)


def joined(frames: Sequence[Frame | StampedFrame], stream: int) -> bytes:
    return b"".join(frame.data for frame in frames if frame.stream == stream)


async def test_create_start_inspect_stop_remove(docker: DockerClient) -> None:
    name = "ls-test-roundtrip"
    async with container(docker, name, labels={"ls-test": "roundtrip"}) as container_id:
        created = await docker.containers.inspect(name)
        assert created.id == container_id
        assert created.name == f"/{name}"  # both engines keep the leading slash
        assert created.state.status == "created" and not created.state.running
        assert created.config.cmd == CHATTY
        assert created.config.labels == {"ls-test": "roundtrip"}

        assert await docker.containers.start(name) is True
        running = await docker.containers.inspect(container_id)
        assert running.state.status == "running" and running.state.running
        assert running.state.pid is not None and running.state.pid > 0

        # t=0: no grace period (sh as PID 1 ignores SIGTERM), so the engine kills at once
        assert await docker.containers.stop(name, t=0) is True
        stopped = await docker.containers.inspect(name)
        assert stopped.state.status == "exited" and not stopped.state.running
        assert stopped.state.exit_code == 137  # 128 + SIGKILL

        await docker.containers.remove(name)
        with pytest.raises(NotFoundError):
            await docker.containers.inspect(name)


async def test_start_twice_is_false_the_second_time(docker: DockerClient) -> None:
    async with container(docker, "ls-test-start-twice"):
        assert await docker.containers.start("ls-test-start-twice") is True
        assert await docker.containers.start("ls-test-start-twice") is False  # 304


async def test_stop_twice_is_false_the_second_time(docker: DockerClient) -> None:
    async with container(docker, "ls-test-stop-twice"):
        await docker.containers.start("ls-test-stop-twice")
        assert await docker.containers.stop("ls-test-stop-twice", t=0) is True
        assert await docker.containers.stop("ls-test-stop-twice", t=0) is False  # 304


async def test_kill(docker: DockerClient) -> None:
    name = "ls-test-kill"
    async with container(docker, name):
        await docker.containers.start(name)
        await docker.containers.kill(name)
        with anyio.fail_after(PATIENCE):
            exited = await docker.containers.wait(name)
        assert exited.status_code == 137
        assert (await docker.containers.inspect(name)).state.status == "exited"
        # Docker answers 409, Podman 500 "container state improper": both a ConflictError
        with pytest.raises(ConflictError, match=r"not running|can only kill running"):
            await docker.containers.kill(name)


@pytest.mark.both_transports
async def test_kill_with_a_signal(docker: DockerClient) -> None:
    name = "ls-test-kill-signal"
    trap = ["sh", "-c", "trap 'exit 7' USR1; echo ready; while :; do sleep 0.1; done"]
    async with container(docker, name, trap):
        async with docker.containers.waiter(name, condition="next-exit") as exited:
            await docker.containers.start(name)
            with anyio.fail_after(PATIENCE):
                # "ready" is printed once the trap is set
                async with docker.containers.logs(name, tty=False, follow=True) as stream:
                    async for frame in stream:
                        if b"ready" in frame.data:
                            break
                await docker.containers.kill(name, signal="SIGUSR1")
                result = await exited.result()
        assert result.status_code == 7


@pytest.mark.parametrize("verb", ["inspect", "remove", "start", "stop", "kill"])
async def test_missing_container_is_not_found(docker: DockerClient, verb: str) -> None:
    name = "ls-test-never-created"
    await remove_if_present(docker, name)
    with pytest.raises(NotFoundError) as caught:
        await getattr(docker.containers, verb)(name)
    error = caught.value
    assert error.status == 404
    assert name in error.message
    assert error.path is not None and error.path.endswith(
        f"/containers/{name}"
        + {"inspect": "/json", "remove": "", "start": "/start", "stop": "/stop", "kill": "/kill"}[
            verb
        ]
    )


async def test_name_in_use_is_a_conflict(docker: DockerClient, engine: Engine) -> None:
    name = "ls-test-name-in-use"
    async with container(docker, name):
        with pytest.raises(ConflictError) as caught:
            await docker.containers.create(ContainerCreateRequest(image=IMAGE), name=name)
    # Docker: 409 "Conflict. The container name ... is already in use";
    # Podman: 500 "container create: ... already in use".
    assert caught.value.status == (500 if engine.is_podman else 409)
    assert "already in use" in caught.value.message
    assert caught.value.method == "POST"


async def test_create_from_a_missing_image_is_not_found(docker: DockerClient) -> None:
    await remove_if_present(docker, "ls-test-no-image")
    with pytest.raises(NotFoundError, match=r"(?i)no such image|image not known"):
        await docker.containers.create(
            ContainerCreateRequest(image="ls-test-missing:none"), name="ls-test-no-image"
        )


async def test_invalid_name_is_rejected_before_sending(docker: DockerClient) -> None:
    with pytest.raises(InvalidArgumentError, match="container name"):
        await docker.containers.create(ContainerCreateRequest(image=IMAGE), name="-bad name")


async def test_list_with_a_label_filter(docker: DockerClient) -> None:
    label = "ls-test.group"
    async with (
        container(docker, "ls-test-list-a", labels={label: "a"}) as a_id,
        container(docker, "ls-test-list-b", labels={label: "b"}),
    ):
        only_a = await docker.containers.list(all_=True, filters={"label": [f"{label}=a"]})
        assert [(summary.id, summary.names) for summary in only_a] == [(a_id, ["/ls-test-list-a"])]
        assert only_a[0].labels == {label: "a"}
        assert only_a[0].state == "created"

        both = await docker.containers.list(all_=True, filters={"label": label})
        assert sorted(name for summary in both for name in summary.names or []) == [
            "/ls-test-list-a",
            "/ls-test-list-b",
        ]
        # without all_, created (never started) containers are not listed
        assert await docker.containers.list(filters={"label": [f"{label}=a"]}) == []


async def test_wait_not_running_returns_the_exit_code(docker: DockerClient) -> None:
    name = "ls-test-wait"
    async with container(docker, name, ["sh", "-c", "exit 3"]):
        await docker.containers.start(name)
        with anyio.fail_after(PATIENCE):
            result = await docker.containers.wait(name, condition="not-running")
        assert result.status_code == 3
        assert result.error is None or not result.error.message


async def test_wait_next_exit_registered_before_start(docker: DockerClient) -> None:
    name = "ls-test-wait-next"
    async with container(docker, name, ["sh", "-c", "exit 5"]):
        async with docker.containers.waiter(name, condition="next-exit") as exited:
            await docker.containers.start(name)
            with anyio.fail_after(PATIENCE):
                result = await exited.result()
        assert result.status_code == 5


async def test_wait_on_a_missing_container_is_not_found(docker: DockerClient) -> None:
    await remove_if_present(docker, "ls-test-never-created")
    with pytest.raises(NotFoundError):
        await docker.containers.wait("ls-test-never-created")


async def run_to_exit(docker: DockerClient, name: str) -> None:
    async with docker.containers.waiter(name, condition="next-exit") as exited:
        await docker.containers.start(name)
        with anyio.fail_after(PATIENCE):
            await exited.result()


@pytest.mark.both_transports
async def test_logs_separate_stdout_and_stderr(docker: DockerClient) -> None:
    name = "ls-test-logs"
    async with container(docker, name, ["sh", "-c", "echo out; echo err >&2; echo two"]):
        await run_to_exit(docker, name)
        async with docker.containers.logs(name, tty=False) as stream:
            frames = [frame async for frame in stream]
        assert all(isinstance(frame, Frame) for frame in frames)
        # the order between stdout and stderr is not kept by either engine
        assert joined(frames, 1) == b"out\ntwo\n"
        assert joined(frames, 2) == b"err\n"

        async with docker.containers.logs(name, tty=False, stderr=False) as stream:
            assert [frame async for frame in stream] == [Frame(1, b"out\n"), Frame(1, b"two\n")]


@pytest.mark.both_transports
async def test_logs_tail(docker: DockerClient) -> None:
    name = "ls-test-logs-tail"
    async with container(docker, name, ["sh", "-c", "echo one; echo two; echo three"]):
        await run_to_exit(docker, name)
        async with docker.containers.logs(name, tty=False, tail=2) as stream:
            assert [frame async for frame in stream] == [Frame(1, b"two\n"), Frame(1, b"three\n")]
        async with docker.containers.logs(name, tty=False, tail=0) as stream:
            assert [frame async for frame in stream] == []


@pytest.mark.both_transports
async def test_logs_of_a_tty_container_are_raw(docker: DockerClient) -> None:
    name = "ls-test-logs-tty"
    async with container(docker, name, ["sh", "-c", "echo out; echo err >&2"], tty=True):
        await run_to_exit(docker, name)
        assert (await docker.containers.inspect(name)).config.tty is True
        async with docker.containers.logs(name, tty=True) as stream:
            frames = [frame async for frame in stream]
        # a TTY merges both streams into stdout, with the terminal's \r\n line ends
        assert {frame.stream for frame in frames} == {1}
        assert joined(frames, 1) == b"out\r\nerr\r\n"


@pytest.mark.both_transports
async def test_logs_find_the_body_format_themselves(docker: DockerClient) -> None:
    """Without ``tty=``, logs inspect the container first: raw for a TTY, frames without."""
    tty_name, plain_name = "ls-test-logs-own-tty", "ls-test-logs-own-plain"
    script = ["sh", "-c", "echo out; echo err >&2"]
    async with (
        container(docker, tty_name, script, tty=True),
        container(docker, plain_name, script),
    ):
        await run_to_exit(docker, tty_name)
        await run_to_exit(docker, plain_name)
        async with docker.containers.logs(tty_name) as stream:
            tty_frames = [frame async for frame in stream]
        started = (await docker.containers.inspect(plain_name)).state.started_at
        assert started is not None
        # since= takes an aware datetime as well as UNIX seconds
        async with docker.containers.logs(plain_name, since=started - timedelta(minutes=1)) as s:
            plain_frames = [frame async for frame in s]
    assert joined(tty_frames, 1) == b"out\r\nerr\r\n"
    assert joined(plain_frames, 1) == b"out\n" and joined(plain_frames, 2) == b"err\n"


@pytest.mark.both_transports
async def test_logs_with_timestamps(docker: DockerClient, engine: Engine) -> None:
    name = "ls-test-logs-time"
    async with container(docker, name, ["sh", "-c", "echo out; echo err >&2; echo two"]):
        await run_to_exit(docker, name)
        state = (await docker.containers.inspect(name)).state
        async with docker.containers.logs(name, tty=False, timestamps=True) as stream:
            frames = [frame async for frame in stream]
    assert all(isinstance(frame, StampedFrame) for frame in frames)
    assert joined(frames, 1) == b"out\ntwo\n"
    assert joined(frames, 2) == b"err\n"
    assert state.started_at is not None and state.finished_at is not None
    # The engine stamps a line when it reads it, which may be a little after the exit it
    # records: only check that the stamps are this run's, not the reader's clock or zero.
    slack = timedelta(seconds=5)
    started = state.started_at - slack
    finished = state.finished_at + slack
    for frame in frames:
        assert frame.timestamp.tzinfo is UTC
        assert started <= frame.timestamp <= finished
    if engine.is_podman:
        # Podman 4 writes whole seconds ("2026-11-30T09:33:32Z ")
        assert all(frame.timestamp.microsecond == 0 for frame in frames)
    else:
        # Docker writes nine fraction digits; three lines all on a whole second would be a fluke
        assert any(frame.timestamp.microsecond != 0 for frame in frames)


@pytest.mark.both_transports
async def test_logs_follow_ends_when_the_container_exits(docker: DockerClient) -> None:
    name = "ls-test-logs-follow"
    async with container(docker, name, ["sh", "-c", "echo one; sleep 1; echo two >&2; exit 3"]):
        await docker.containers.start(name)
        with anyio.fail_after(PATIENCE):
            async with docker.containers.logs(name, tty=False, follow=True) as stream:
                frames = [frame async for frame in stream]
        assert frames == [Frame(1, b"one\n"), Frame(2, b"two\n")]
        assert (await docker.containers.inspect(name)).state.exit_code == 3


async def test_logs_of_a_missing_container_is_not_found(docker: DockerClient) -> None:
    await remove_if_present(docker, "ls-test-never-created")
    with pytest.raises(NotFoundError):
        async with docker.containers.logs("ls-test-never-created", tty=False) as stream:
            async for _ in stream:
                pass


async def test_logs_needs_stdout_or_stderr(docker: DockerClient) -> None:
    with pytest.raises(InvalidArgumentError, match="stdout=True or stderr=True"):
        docker.containers.logs("ls-test-logs", tty=False, stdout=False, stderr=False)


# -- restart, pause/unpause, rename, update, top, changes, export, prune -------------------

OPS = "lsapi-ops"
SLEEPER = ["sleep", "600"]


async def test_pause_unpause_restart(docker: DockerClient, engine: Engine) -> None:
    async with container(docker, OPS, SLEEPER) as container_id:
        await docker.containers.start(container_id)
        await docker.containers.pause(container_id)
        paused = await docker.containers.inspect(container_id)
        assert paused.state.paused and paused.state.status == "paused"
        # pausing twice: Docker 409, Podman 500 "... state improper" (both ConflictError)
        with pytest.raises(ConflictError):
            await docker.containers.pause(container_id)
        await docker.containers.unpause(container_id)
        resumed = await docker.containers.inspect(container_id)
        assert resumed.state.running and not resumed.state.paused
        # unpausing a running one: Docker 20.10 500 "is not paused", Podman 500/409
        with pytest.raises(EngineError):
            await docker.containers.unpause(container_id)
        await docker.containers.restart(container_id, t=0)
        restarted = await docker.containers.inspect(container_id)
        assert restarted.state.running
        assert restarted.state.started_at is not None and resumed.state.started_at is not None
        assert restarted.state.started_at > resumed.state.started_at


async def test_restart_a_stopped_container_starts_it(docker: DockerClient) -> None:
    async with container(docker, OPS, SLEEPER) as container_id:
        await docker.containers.restart(container_id, t=0)
        assert (await docker.containers.inspect(container_id)).state.running


async def test_rename(docker: DockerClient) -> None:
    renamed = f"{OPS}-renamed"
    await remove_if_present(docker, renamed)
    async with container(docker, OPS, SLEEPER) as container_id:
        try:
            await docker.containers.rename(container_id, renamed)
            assert (await docker.containers.inspect(renamed)).id == container_id
            with pytest.raises(NotFoundError):
                await docker.containers.inspect(OPS)
        finally:
            with anyio.CancelScope(shield=True):
                await remove_if_present(docker, renamed)


async def test_rename_to_a_name_in_use_is_a_conflict(docker: DockerClient) -> None:
    async with (
        container(docker, OPS, SLEEPER) as first,
        container(docker, f"{OPS}-other", SLEEPER),
    ):
        with pytest.raises(ConflictError):
            await docker.containers.rename(first, f"{OPS}-other")


async def test_update_resources_and_restart_policy(docker: DockerClient, engine: Engine) -> None:
    update = ContainerUpdateRequest(
        memory=64 * 2**20,
        memory_swap=128 * 2**20,
        cpu_shares=512,
        restart_policy=RestartPolicy(name="on-failure", maximum_retry_count=3),
    )
    async with container(docker, OPS, SLEEPER) as container_id:
        await docker.containers.start(container_id)
        if engine.is_podman:  # Podman 4.3's compat API has no /containers/{id}/update
            with pytest.raises(EndpointNotFoundError, match="does not implement"):
                await docker.containers.update(container_id, update)
            return
        answer = await docker.containers.update(container_id, update)
        assert answer.warnings in (None, [])
        host = (await docker.containers.inspect(container_id)).host_config
        assert host.memory == 64 * 2**20 and host.memory_swap == 128 * 2**20
        assert host.cpu_shares == 512
        assert host.restart_policy is not None
        assert host.restart_policy.name == "on-failure"
        assert host.restart_policy.maximum_retry_count == 3


async def test_top_lists_the_processes(docker: DockerClient, engine: Engine) -> None:
    async with container(docker, OPS, SLEEPER) as container_id:
        await docker.containers.start(container_id)
        top = await docker.containers.top(container_id)
        assert top.processes and any("sleep 600" in " ".join(row) for row in top.processes)
        if engine.is_podman:  # Podman 4.3: the container's ps, header and rows unsplit
            assert len(top.titles) == 1 and top.titles[0].split() == ["PID", "USER", "COMMAND"]
        else:  # Docker: the host's `ps -ef`, one title per column
            assert {"PID", "CMD"} <= set(top.titles)
            assert all(len(row) == len(top.titles) for row in top.processes)


async def test_top_of_a_stopped_container_is_a_conflict(docker: DockerClient) -> None:
    # Docker 409; Podman 4.3 a 200 without a body, which the client reports the same way
    async with container(docker, OPS, SLEEPER) as container_id:
        with pytest.raises(ConflictError):
            await docker.containers.top(container_id)


async def _exited_writer(docker: DockerClient, container_id: str) -> None:
    await docker.containers.start(container_id)
    with anyio.fail_after(PATIENCE):
        assert (await docker.containers.wait(container_id)).status_code == 0


WRITER = ["sh", "-c", "echo hi > /lsapi-added; rm /etc/hostname.bak 2>/dev/null; true"]


async def test_changes_name_added_files(docker: DockerClient) -> None:
    async with container(docker, OPS, WRITER) as container_id:
        assert await docker.containers.changes(container_id) == []  # Docker sends null
        await _exited_writer(docker, container_id)
        changes = {change.path: change.kind for change in await docker.containers.changes(OPS)}
        assert changes["/lsapi-added"] is ChangeKind.ADDED


async def test_export_is_the_whole_filesystem_as_tar(docker: DockerClient, engine: Engine) -> None:
    # A one-file image keeps the recorded tar small (busybox's would be 2 MB).
    image = "lsapi-export:latest"  # Podman ignores an import's tag: use latest on both
    async with docker.images.import_image(tiny_rootfs(), repo="lsapi-export") as progress:
        [_ async for _ in progress]
    try:
        async with (
            container(docker, OPS, ["/hello.txt"], image=image) as container_id,
            docker.containers.export(container_id) as chunks,
        ):
            data = b"".join([chunk async for chunk in chunks])
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            hello = tar.extractfile("hello.txt")
            assert hello is not None and hello.read() == b"lightshuttle import test\n"
            names = set(tar.getnames())
        # Docker adds the files it mounts (/etc/hosts...); Podman 4.3 does not (never started)
        assert ("etc/hosts" in names) is not engine.is_podman
    finally:
        with anyio.CancelScope(shield=True), contextlib.suppress(NotFoundError):
            await docker.images.remove(image, force=True)


async def test_export_of_a_missing_container_is_not_found(docker: DockerClient) -> None:
    with pytest.raises(NotFoundError):
        async with docker.containers.export("lsapi-missing") as chunks:
            async for _ in chunks:
                pass


async def test_prune_removes_only_stopped_matches(docker: DockerClient) -> None:
    label = {"lsapi.test": "prune"}
    async with container(docker, f"{OPS}-keep", SLEEPER, labels=label) as running:
        await docker.containers.start(running)
        async with (
            container(docker, f"{OPS}-gone", SLEEPER, labels=label) as stopped,
            container(docker, f"{OPS}-other", SLEEPER) as unlabelled,
        ):
            pruned = await docker.containers.prune(filters={"label": "lsapi.test=prune"})
            assert pruned.containers_deleted == [stopped]
            assert pruned.space_reclaimed >= 0
            await docker.containers.inspect(running)
            await docker.containers.inspect(unlabelled)
            with pytest.raises(NotFoundError):
                await docker.containers.inspect(stopped)


async def test_lifecycle_calls_on_a_missing_container(docker: DockerClient, engine: Engine) -> None:
    missing = "lsapi-missing"
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: docker.containers.restart(missing),
        lambda: docker.containers.pause(missing),
        lambda: docker.containers.unpause(missing),
        lambda: docker.containers.rename(missing, f"{missing}-2"),
        lambda: docker.containers.update(missing, ContainerUpdateRequest(cpu_shares=512)),
        lambda: docker.containers.top(missing),
    ]
    for call in calls:
        with pytest.raises(NotFoundError):
            await call()
    # Podman 4.3 answers changes of a missing container with 500 "... layer not known"
    with pytest.raises(EngineError if engine.is_podman else NotFoundError):
        await docker.containers.changes(missing)
    with pytest.raises(NotFoundError):
        await docker.containers.remove(missing)
    await docker.containers.remove(missing, missing_ok=True)  # no error: nothing was there


async def test_bad_input_is_refused_before_sending(offline: DockerClient) -> None:
    with pytest.raises(InvalidArgumentError, match="t must not be negative"):
        await offline.containers.restart("x", t=-1)
    with pytest.raises(InvalidArgumentError):
        await offline.containers.rename("x", "bad name!")
    with pytest.raises(InvalidArgumentError):
        await offline.containers.prune(filters={"label": 3})  # type: ignore[dict-item]


def test_update_request_encodes_api_names() -> None:
    body = msgspec.json.decode(
        msgspec.json.encode(
            ContainerUpdateRequest(
                nano_cpus=500_000_000, restart_policy=RestartPolicy(name="always")
            )
        )
    )
    assert body == {"NanoCpus": 500_000_000, "RestartPolicy": {"Name": "always"}}


# -- stats ---------------------------------------------------------------------------------

BUSY = ["sh", "-c", "while :; do :; done"]


async def test_stats_one_sample_of_a_busy_container(docker: DockerClient, engine: Engine) -> None:
    async with container(docker, OPS, BUSY) as container_id:
        await docker.containers.start(container_id)
        sample = await docker.containers.stats(container_id)
        assert sample.read is not None
        if engine.is_podman:  # Podman 4.3 answers one sample, as for one_shot
            assert sample.preread is None and sample.precpu_stats.cpu_usage.total_usage == 0
        else:  # Docker takes two samples: a CPU delta
            assert sample.preread is not None and sample.read > sample.preread
            assert sample.precpu_stats.cpu_usage.total_usage > 0
        assert sample.cpu_stats.cpu_usage.total_usage > 0
        assert sample.cpu_percent > 0.0
        assert 0 < sample.memory_usage <= sample.memory_stats.usage
        assert 0.0 < sample.memory_percent < 100.0
        assert sample.pids_stats.current >= 1
        # Docker names the container with its leading slash, Podman 4.3 without
        assert sample.name.lstrip("/") == OPS


async def test_stats_one_shot_has_no_previous_sample(docker: DockerClient) -> None:
    async with container(docker, OPS, BUSY) as container_id:
        await docker.containers.start(container_id)
        sample = await docker.containers.stats(container_id, one_shot=True)
        assert sample.cpu_stats.cpu_usage.total_usage > 0
        assert sample.precpu_stats.cpu_usage.total_usage == 0
        assert sample.precpu_stats.system_cpu_usage == 0
        # against no previous sample the CLI's formula measures the host's whole uptime
        assert 0.0 <= sample.cpu_percent < 100.0 * max(sample.cpu_stats.online_cpus, 1)


@pytest.mark.both_transports
async def test_stats_stream_yields_consecutive_samples(docker: DockerClient) -> None:
    async with container(docker, OPS, BUSY) as container_id:
        await docker.containers.start(container_id)
        samples = []
        with anyio.fail_after(PATIENCE):
            async with docker.containers.stats_stream(container_id) as stream:
                async for sample in stream:
                    samples.append(sample)
                    if len(samples) == 3:
                        break
        for before, after in itertools.pairwise(samples):
            assert after.read is not None and before.read is not None
            assert after.read > before.read
            assert (
                after.precpu_stats.cpu_usage.total_usage == before.cpu_stats.cpu_usage.total_usage
            )
        assert samples[-1].cpu_percent > 0.0


async def test_stats_of_a_missing_container_is_not_found(docker: DockerClient) -> None:
    with pytest.raises(NotFoundError):
        await docker.containers.stats("lsapi-missing")
    with pytest.raises(NotFoundError):
        async with docker.containers.stats_stream("lsapi-missing") as stream:
            async for _ in stream:
                pass


def test_stats_percentages_as_docker_stats_computes_them() -> None:
    sample = msgspec.json.decode(
        b"""{"cpu_stats": {"cpu_usage": {"total_usage": 3000}, "system_cpu_usage": 20000,
             "online_cpus": 4},
             "precpu_stats": {"cpu_usage": {"total_usage": 1000}, "system_cpu_usage": 10000},
             "memory_stats": {"usage": 5000, "limit": 20000,
             "stats": {"inactive_file": 1000}}}""",
        type=ContainerStats,
    )
    assert sample.cpu_percent == 2000 / 10000 * 4 * 100  # 80 %: 0.8 of one CPU
    assert sample.memory_usage == 4000  # the inactive page cache does not count
    assert sample.memory_percent == 20.0
    v1 = msgspec.structs.replace(
        sample.memory_stats, stats={"total_inactive_file": 500, "inactive_file": 9}
    )
    assert msgspec.structs.replace(sample, memory_stats=v1).memory_usage == 4500
    # cgroup v1 without online_cpus: the per-CPU list's length counts
    per_cpu = msgspec.structs.replace(
        sample.cpu_stats,
        online_cpus=0,
        cpu_usage=msgspec.structs.replace(sample.cpu_stats.cpu_usage, percpu_usage=[1, 2]),
    )
    assert msgspec.structs.replace(sample, cpu_stats=per_cpu).cpu_percent == 40.0
    assert ContainerStats().cpu_percent == 0.0 and ContainerStats().memory_percent == 0.0


async def test_wait_and_waiter_share_the_engines_default_condition() -> None:
    sent: list[str | None] = []

    def engine(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.params.get("condition"))
        return httpx.Response(200, json={"StatusCode": 0})

    async with DockerClient(transport=httpx.MockTransport(engine), api_version="1.41") as docker:
        await docker.containers.wait("c")
        async with docker.containers.waiter("c") as exited:
            await exited.result()
    assert sent == ["not-running", "not-running"]

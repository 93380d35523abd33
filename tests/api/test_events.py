"""GET /events and registered waits, on Docker and Podman."""

from __future__ import annotations

import contextlib
from datetime import UTC

import anyio
import pytest

from lightshuttle_runtime import DockerClient, InvalidArgumentError, NotFoundError
from lightshuttle_runtime.models import ContainerCreateRequest, EventMessage
from tests.conftest import Engine

#: Every live run goes through both built-in transports (native and httpx's stock one).
pytestmark = [pytest.mark.anyio, pytest.mark.both_transports]

NAME = "ls-test-events"


async def _fresh(docker: DockerClient, cmd: list[str]) -> str:
    with contextlib.suppress(NotFoundError):
        await docker.containers.remove(NAME, force=True)
    created = await docker.containers.create(
        ContainerCreateRequest(image="busybox:local", cmd=cmd), name=NAME
    )
    return created.id


async def test_events_follow_a_container_lifecycle(docker: DockerClient) -> None:
    container = await _fresh(docker, ["sh", "-c", "exit 7"])
    seen: list[EventMessage] = []
    with anyio.fail_after(30):
        async with docker.events.stream(
            filters={"type": ["container"], "container": [container]}
        ) as events:
            await docker.containers.start(container)
            async for event in events:
                seen.append(event)
                if event.action == "die":
                    break
    await docker.containers.remove(container, force=True)
    actions = [event.action for event in seen]
    assert "start" in actions and actions[-1] == "die"
    die = seen[-1]
    assert die.type == "container"
    assert die.actor.id == container
    assert die.actor.attributes["exitCode"] == "7"
    assert die.actor.attributes["name"] == NAME
    assert die.time_nano // 1_000_000_000 == die.time_unix
    assert die.time.tzinfo is UTC and int(die.time.timestamp()) == die.time_unix


async def test_events_past_window(docker: DockerClient, engine: Engine) -> None:
    container = await _fresh(docker, ["true"])
    async with docker.containers.waiter(container, condition="next-exit") as exited:
        await docker.containers.start(container)
        await exited.result()
    info = await docker.containers.inspect(container)
    await docker.containers.remove(container, force=True)
    # The window comes from the engine's own times, so a replayed run sends the same query.
    assert info.created is not None and info.state.finished_at is not None
    since = info.created.timestamp() - 1
    until = info.state.finished_at.timestamp() + 1
    with anyio.fail_after(30):
        async with docker.events.stream(
            since=int(since), until=int(until) + 1, filters={"container": [container]}
        ) as events:
            actions = [event.action async for event in events]
    # Both engines replay the window and end the stream; Podman adds its own actions
    # (init, cleanup) around Docker's create/start/die.
    assert actions[0] == "create" and "start" in actions and "die" in actions
    if not engine.is_podman:
        assert actions[:3] == ["create", "start", "die"]


async def test_waiter_catches_a_fast_exit(docker: DockerClient) -> None:
    container = await _fresh(docker, ["sh", "-c", "exit 3"])
    with anyio.fail_after(30):
        async with docker.containers.waiter(container, condition="next-exit") as exited:
            await docker.containers.start(container)
            result = await exited.result()
    await docker.containers.remove(container, force=True)
    assert result.status_code == 3


async def test_wait_on_a_missing_container(docker: DockerClient) -> None:
    with pytest.raises(NotFoundError):
        await docker.containers.wait("ls-test-no-such-container")


def test_events_reject_bad_filters() -> None:
    client = DockerClient("unix:///nonexistent.sock")
    with pytest.raises(InvalidArgumentError, match="filter 'type'"):
        client.events.stream(filters={"type": [1]})  # type: ignore[list-item]

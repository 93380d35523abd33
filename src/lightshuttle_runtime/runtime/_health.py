"""Waiting for a container to become healthy, driven by engine events.

The wait subscribes to the container's events first, then inspects once (so a change
between the two is not missed), then re-inspects on every relevant event. A slow
poll runs beside it in case the event stream fails or an engine does not send an event.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from .._client import DockerClient
from .._errors import DockerError
from .._stream import EngineStream
from ..models import ContainerInspect, EventMessage
from ._errors import ContainerExitedError, ContainerRuntimeError, ContainerUnhealthyError
from ._status import (
    container_label,
    container_status,
    has_healthcheck,
    health_note,
    last_health_output,
)
from ._types import Healthy, Running, Stopped, Unhealthy

__all__ = ["await_healthy", "is_ready"]

#: Seconds between safety polls; events normally answer long before.
SAFETY_POLL = 1.0
#: Docker sends ``health_status: healthy``; Podman sends ``health_status`` on every check.
_RELEVANT = ("health_status", "die", "destroy", "start", "restart", "oom", "kill")

Inspect = Callable[[str], Awaitable[ContainerInspect]]


def is_ready(info: ContainerInspect) -> bool:
    """Whether the wait is over: healthy, or running without a health check.

    Raises:
        ContainerExitedError: the container has exited (exit code, last health output).
        ContainerUnhealthyError: its health check reports it unhealthy.
    """
    status = container_status(info)
    if isinstance(status, Stopped):
        raise ContainerExitedError(
            f"container {container_label(info)} exited with code {status.exit_code} before it "
            f"was healthy{health_note(info)}",
            exit_code=status.exit_code,
            health_output=last_health_output(info),
        )
    if isinstance(status, Unhealthy):
        raise ContainerUnhealthyError(
            f"container {container_label(info)} is unhealthy: its health check failed"
            f"{health_note(info)}",
            health_output=last_health_output(info),
        )
    if isinstance(status, Healthy):
        return True
    return isinstance(status, Running) and not has_healthcheck(info)


async def await_healthy(client: DockerClient, container_id: str, inspect: Inspect) -> None:
    """Return once ``container_id`` is ready (see :func:`is_ready`); no time limit of its own.

    Raises:
        ContainerExitedError, ContainerUnhealthyError: as :func:`is_ready`.
        ContainerNotFoundError, InspectError: from ``inspect``.
    """
    events = client.events.stream(filters={"type": ["container"], "container": [container_id]})
    await _subscribe(events)
    async with events:
        if is_ready(await inspect(container_id)):
            return
        failure: ContainerRuntimeError | None = None
        send, receive = anyio.create_memory_object_stream[None](1)
        async with anyio.create_task_group() as tasks, send, receive:
            tasks.start_soon(_forward_events, events, send.clone())
            tasks.start_soon(_tick, send.clone())
            async for _ in receive:
                try:
                    ready = is_ready(await inspect(container_id))
                except ContainerRuntimeError as exc:
                    failure, ready = exc, True
                if ready:
                    tasks.cancel_scope.cancel()
                    break
        if failure is not None:
            raise failure


async def _subscribe(events: EngineStream[EventMessage]) -> None:
    try:
        await events.open()
    except DockerError:
        await events.aclose()  # no events (refused or failed): the safety poll carries on alone


async def _forward_events(
    events: EngineStream[EventMessage], wake: MemoryObjectSendStream[None]
) -> None:
    async with wake:
        try:
            async for event in events:
                if event.action.startswith(_RELEVANT):
                    _nudge(wake)
        except DockerError:
            return  # the event stream failed; the safety poll carries on alone


async def _tick(wake: MemoryObjectSendStream[None]) -> None:
    async with wake:
        while True:
            await anyio.sleep(SAFETY_POLL)
            _nudge(wake)


def _nudge(wake: MemoryObjectSendStream[None]) -> None:
    # One pending nudge is enough: the waiter re-inspects and sees the latest state. The
    # waiter may also have finished already (its end closes the receiving side before the
    # cancelled tasks reach a checkpoint).
    with contextlib.suppress(anyio.WouldBlock, anyio.BrokenResourceError):
        wake.send_nowait(None)

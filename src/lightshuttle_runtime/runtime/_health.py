"""Waiting for a container to become healthy, driven by engine events.

The wait subscribes to the container's events first, then inspects once (so a change
between the two is not missed), then re-inspects on every relevant event. Docker's
``health_status: healthy`` is the engine's word that the result is stored, so the wait ends on
it without another inspect (which a busy engine may answer late). A slow poll runs beside the
events in case the stream fails or an engine does not send an event.

Podman (4.3) announces a probe twice, ``health_status`` as it starts and ``exec_died`` as its
command ends, and stores the result a moment after the second: a re-inspect that does not show
the announced probe yet is repeated a few times, briefly, instead of waiting for the next one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

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
#: Docker's word, once it has stored a healthy result (Podman 4.3 sends a bare ``health_status``).
_HEALTHY = "health_status: healthy"
#: Podman's end of an exec, a probe's among them (Docker's ``exec_die`` is not needed: Docker
#: sends ``health_status: healthy`` once the result is stored).
_PROBE_ENDED = "exec_died"
#: Docker sends ``health_status: healthy``; Podman sends ``health_status`` on every check.
_RELEVANT = ("health_status", _PROBE_ENDED, "die", "destroy", "start", "restart", "oom", "kill")
#: Seconds between re-reads while an announced probe's result is not stored yet.
SETTLE = (0.05, 0.1, 0.2, 0.4)
#: How much earlier than its ``exec_died`` a probe's stored end may be (both the engine's clock).
_CLOCK_SLACK = timedelta(milliseconds=50)

Inspect = Callable[[str], Awaitable[ContainerInspect]]


@dataclass
class _Announced:
    """When the latest exec the engine announced ended (engine clock); cleared when the
    re-reads give up on it, so an exec that was no probe costs them once."""

    probe_end: datetime | None = None


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
        announced = _Announced()
        send, receive = anyio.create_memory_object_stream[None](1)
        async with anyio.create_task_group() as tasks, send, receive:
            tasks.start_soon(_forward_events, events, send.clone(), announced, tasks.cancel_scope)
            tasks.start_soon(_tick, send.clone())
            async for _ in receive:
                try:
                    ready = await _is_ready_settled(container_id, inspect, announced)
                except ContainerRuntimeError as exc:
                    failure, ready = exc, True
                if ready:
                    tasks.cancel_scope.cancel()
                    break
        if failure is not None:
            raise failure


async def _is_ready_settled(container_id: str, inspect: Inspect, announced: _Announced) -> bool:
    """:func:`is_ready` on a fresh inspect, re-read (``SETTLE``) while it lacks the last probe
    the engine announced; an exec that was no probe is forgotten after the last re-read."""
    expected = announced.probe_end
    info = await inspect(container_id)
    for pause in SETTLE:
        if is_ready(info):
            return True
        if _stored(info, expected):
            break
        await anyio.sleep(pause)
        info = await inspect(container_id)
    else:
        if announced.probe_end == expected:  # not a later exec announced meanwhile
            announced.probe_end = None
    return is_ready(info)


def _stored(info: ContainerInspect, probe_end: datetime | None) -> bool:
    health = info.state.health
    if probe_end is None or health is None:
        return True
    since = probe_end - _CLOCK_SLACK
    return any(probe.end is not None and probe.end >= since for probe in health.log or ())


async def _subscribe(events: EngineStream[EventMessage]) -> None:
    try:
        await events.open()
    except DockerError:
        await events.aclose()  # no events (refused or failed): the safety poll carries on alone


async def _forward_events(
    events: EngineStream[EventMessage],
    wake: MemoryObjectSendStream[None],
    announced: _Announced,
    wait: anyio.CancelScope,
) -> None:
    async with wake:
        try:
            async for event in events:
                if event.action == _HEALTHY:
                    wait.cancel()  # ends the wait, and an inspect still on its way
                    return
                if event.action == _PROBE_ENDED:
                    announced.probe_end = event.time
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

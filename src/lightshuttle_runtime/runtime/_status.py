"""From an inspect answer to the runtime's ContainerStatus."""

from __future__ import annotations

from ..models import ContainerInspect
from ._types import ContainerStatus, Healthy, Running, Starting, Stopped, Unhealthy

__all__ = [
    "container_label",
    "container_status",
    "has_healthcheck",
    "health_note",
    "last_health_output",
]

_RUNNING = {"running", "paused"}
_STARTING = {"created", "restarting"}


def container_status(info: ContainerInspect) -> ContainerStatus:
    """Map ``State`` to a status.

    running/paused → Healthy, Unhealthy or Running (no check, or still ``starting``);
    created/restarting → Starting; exited/dead/removing → Stopped(exit code).
    """
    state = info.state
    status = state.status
    if status in _RUNNING:
        health = state.health.status if state.health else None
        if health == "healthy":
            return Healthy()
        if health == "unhealthy":
            return Unhealthy()
        return Running()
    if status in _STARTING:
        return Starting()
    return Stopped(state.exit_code)


def has_healthcheck(info: ContainerInspect) -> bool:
    """Whether the container runs a health check (its own or its image's)."""
    health = info.state.health
    if health is not None and health.status not in (None, "", "none"):
        return True
    check = info.config.healthcheck
    return bool(check and check.test and check.test[0] != "NONE")


def last_health_output(info: ContainerInspect) -> str | None:
    """The output of the most recent health check, stripped, if any ran."""
    health = info.state.health
    if health is None or not health.log:
        return None
    output = health.log[-1].output
    return output.strip() if output is not None else None


def container_label(info: ContainerInspect) -> str:
    """How messages name a container: ``'web' (4a08c04d1e2f)``, or the short id alone."""
    name = info.name.lstrip("/")
    return f"{name!r} ({info.id[:12]})" if name else info.id[:12]


def health_note(info: ContainerInspect) -> str:
    """``; its last health check printed '...'`` when one ran, else nothing."""
    output = last_health_output(info)
    if output is None:
        return ""
    return (
        f"; its last health check printed {output!r}"
        if output
        else ("; its last health check printed nothing")
    )

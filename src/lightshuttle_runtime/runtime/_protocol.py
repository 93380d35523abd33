"""The ContainerRuntime protocol: the narrow interface the rest of lightshuttle uses."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from ._spec import ContainerSpec
from ._types import ContainerId, ContainerStatus, LogChunkStream

__all__ = ["ContainerRuntime"]


class ContainerRuntime(Protocol):
    """Starts, watches and removes the containers of a lightshuttle project.

    Every method raises a :class:`ContainerRuntimeError` subclass on failure.
    """

    async def start(self, spec: ContainerSpec) -> ContainerId:
        """Make sure the image is present, create the container from ``spec``, start it."""
        ...

    async def stop(self, container_id: ContainerId, grace: timedelta) -> None:
        """Stop the container, killing it after ``grace``; already stopped or gone is success."""
        ...

    async def remove(self, name: str) -> None:
        """Force-remove the container named ``name``; a missing container is success."""
        ...

    async def inspect(self, container_id: ContainerId) -> ContainerStatus:
        """The container's current status."""
        ...

    async def wait_healthy(self, container_id: ContainerId, timeout: timedelta) -> None:
        """Return once the container is healthy (or running, when it has no health check)."""
        ...

    def logs(self, container_id: ContainerId, follow: bool) -> LogChunkStream:
        """The container's stdout and stderr, with timestamps; ``follow`` keeps it open."""
        ...

"""The runtime's domain types: small, and free of Docker API detail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import NewType, Protocol, Self

from .._streams import LogStream

__all__ = [
    "ContainerId",
    "ContainerStatus",
    "Healthy",
    "LogChunk",
    "LogChunkStream",
    "LogStream",
    "Running",
    "Starting",
    "Stopped",
    "Unhealthy",
]

#: An engine's container id: opaque, compare it only for equality.
ContainerId = NewType("ContainerId", str)


@dataclass(frozen=True, slots=True)
class LogChunk:
    """A piece of a container's output.

    Attributes:
        stream: ``LogStream.STDOUT`` or ``STDERR`` (a TTY container's output is all stdout):
            the same enum as the client's frames carry; ``str()`` gives ``stdout``/``stderr``.
        timestamp: when the engine logged the line, an aware UTC datetime (the read time
            when the engine gave none).
        data: the bytes, unchanged (not necessarily a whole line, not necessarily UTF-8).
    """

    stream: LogStream
    timestamp: datetime
    data: bytes


@dataclass(frozen=True, slots=True)
class ContainerStatus:
    """A container's state as the runtime sees it; match on the subclasses.

    ``str()`` gives ``starting``, ``running``, ``healthy``, ``unhealthy`` or
    ``stopped (exit code N)``.
    """

    def __str__(self) -> str:
        return type(self).__name__.lower()


@dataclass(frozen=True, slots=True)
class Starting(ContainerStatus):
    """Created or restarting, not yet running."""


@dataclass(frozen=True, slots=True)
class Running(ContainerStatus):
    """Running (or paused), with no health check or one still starting."""


@dataclass(frozen=True, slots=True)
class Healthy(ContainerStatus):
    """Running, and its health check passes."""


@dataclass(frozen=True, slots=True)
class Unhealthy(ContainerStatus):
    """Running, and its health check fails."""


@dataclass(frozen=True, slots=True)
class Stopped(ContainerStatus):
    """Exited or dead; ``exit_code`` when the engine reports one."""

    exit_code: int | None = None

    def __str__(self) -> str:
        return "stopped" if self.exit_code is None else f"stopped (exit code {self.exit_code})"


class LogChunkStream(Protocol):
    """An async iterator of :class:`LogChunk` that owns a connection.

    Use ``async with stream:`` (or call ``aclose()``) to release it when you stop early.
    """

    def __aiter__(self) -> AsyncIterator[LogChunk]: ...

    async def __anext__(self) -> LogChunk: ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

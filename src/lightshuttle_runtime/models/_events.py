"""Models of ``GET /events``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from ._base import Model

__all__ = ["EventActor", "EventMessage"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EventActor(Model):
    """The object an event is about: its ``id`` and attributes (``name``, ``image``,
    ``exitCode`` on ``die``; Podman adds ``podId`` and ``containerExitCode``)."""

    id: str = msgspec.field(default="", name="ID")
    attributes: dict[str, str] = msgspec.field(default_factory=dict)


class EventMessage(Model, rename=None):
    """One engine event.

    Attributes:
        type: ``container``, ``image``, ``network``, ``volume``, ``daemon``...
        action: ``create``, ``start``, ``die``, ``destroy``, ``health_status: healthy``
            (Docker) or ``health_status`` (Podman, one per check run)...
        actor: the object and its attributes.
        scope: ``local`` or ``swarm``.
        time_unix, time_nano: the wire's UNIX time, in seconds and in nanoseconds;
            :attr:`time` is the same as an aware datetime.
    """

    type: str = msgspec.field(default="", name="Type")
    action: str = msgspec.field(default="", name="Action")
    actor: EventActor = msgspec.field(default_factory=EventActor, name="Actor")
    scope: str | None = None
    time_unix: int = msgspec.field(default=0, name="time")
    time_nano: int = msgspec.field(default=0, name="timeNano")

    @property
    def time(self) -> datetime:
        """When it happened (aware, UTC; microseconds, from ``timeNano`` when sent)."""
        if self.time_nano:
            return _EPOCH + timedelta(microseconds=self.time_nano // 1000)
        return _EPOCH + timedelta(seconds=self.time_unix)

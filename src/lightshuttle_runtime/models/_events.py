"""Models of ``GET /events``."""

from __future__ import annotations

import msgspec

__all__ = ["EventActor", "EventMessage"]


class EventActor(msgspec.Struct, kw_only=True, rename="pascal"):
    """The object an event is about: its ``id`` and attributes (``name``, ``image``,
    ``exitCode`` on ``die``; Podman adds ``podId`` and ``containerExitCode``)."""

    id: str = msgspec.field(default="", name="ID")
    attributes: dict[str, str] = msgspec.field(default_factory=dict)


class EventMessage(msgspec.Struct, kw_only=True):
    """One engine event.

    Attributes:
        type: ``container``, ``image``, ``network``, ``volume``, ``daemon``...
        action: ``create``, ``start``, ``die``, ``destroy``, ``health_status: healthy``
            (Docker) or ``health_status`` (Podman, one per check run)...
        actor: the object and its attributes.
        scope: ``local`` or ``swarm``.
        time: UNIX time in seconds; ``time_nano``: in nanoseconds.
    """

    type: str = msgspec.field(default="", name="Type")
    action: str = msgspec.field(default="", name="Action")
    actor: EventActor = msgspec.field(default_factory=EventActor, name="Actor")
    scope: str | None = None
    time: int = 0
    time_nano: int = msgspec.field(default=0, name="timeNano")

"""The base every engine model derives from, and how engine times decode."""

from __future__ import annotations

import typing
from datetime import UTC, datetime
from typing import Final, TypeAlias

import msgspec

__all__ = ["GO_ZERO_TIME", "Model", "Timestamp"]

#: Go's zero ``time.Time`` (``0001-01-01T00:00:00Z``): what the engine writes for "never"
#: (``FinishedAt`` of a running container, ``StartedAt`` of one never started).
GO_ZERO_TIME: Final = datetime(1, 1, 1, tzinfo=UTC)

#: The type of every time in a model: an aware ``datetime`` (the engine's RFC 3339 text,
#: nanoseconds rounded to microseconds), or ``None`` for Go's zero time or an absent field.
Timestamp: TypeAlias = datetime | None

# Per model class, the names of its datetime fields (filled on first use: msgspec sets up a
# Struct's fields after ``__init_subclass__`` has run).
_TIME_FIELDS: dict[type, tuple[str, ...]] = {}


def _time_fields(cls: type[msgspec.Struct]) -> tuple[str, ...]:
    return tuple(
        field.name
        for field in msgspec.structs.fields(cls)
        if datetime in (field.type, *typing.get_args(field.type))
    )


class Model(msgspec.Struct, rename="pascal", omit_defaults=True, kw_only=True):
    """A Docker Engine API object.

    Python names are snake_case; on the wire they are the API's PascalCase names (fields
    whose API name is not plain PascalCase, like ``OOMKilled`` or ``timeNano``, say so with
    ``msgspec.field(name=...)``). Unknown fields in answers are ignored, fields left at
    their default are not sent.

    Times are :data:`Timestamp` fields: a decoded (or constructed) Go zero time becomes
    ``None``, in every model, so "not set" has one spelling.
    """

    def __post_init__(self) -> None:
        names = _TIME_FIELDS.get(type(self))
        if names is None:
            names = _TIME_FIELDS[type(self)] = _time_fields(type(self))
        for name in names:
            if getattr(self, name) == GO_ZERO_TIME:
                setattr(self, name, None)

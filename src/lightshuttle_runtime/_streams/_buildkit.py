"""Decoding BuildKit's build trace: ``moby.buildkit.v1.StatusResponse`` messages.

Source: ``POST /build?version=2`` (Docker 18.09+, API 1.39+) sends its progress as records
``{"id": "moby.buildkit.trace", "aux": "<base64>"}``; the base64 is one protobuf-encoded
``StatusResponse`` (BuildKit's ``api/services/control/control.proto``). Each message carries
what changed since the previous one: vertexes (build steps) with their start, completion,
cache hit and error; statuses (progress of a transfer inside a step); log output; warnings.
Read with :mod:`._protobuf`; fields this module does not know are skipped.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

import msgspec

from .._errors import DecodeError
from ._protobuf import LENGTH_DELIMITED, as_signed, read_fields, read_timestamp

__all__ = [
    "StatusResponse",
    "Vertex",
    "VertexLog",
    "VertexStatus",
    "VertexWarning",
    "decode_status_response",
    "decode_trace",
]


class Vertex(msgspec.Struct, frozen=True, kw_only=True):
    """A step of the build graph (``Vertex``): ``digest`` names it in every later message.

    ``name`` is what ``docker build`` prints, e.g. ``[stage-0 2/3] RUN make`` or
    ``[internal] load build context``; ``started`` / ``completed`` are aware UTC datetimes
    once known; ``cached`` means the step's result came from the build cache; ``error`` is
    the step's failure, ``""`` when none.
    """

    digest: str
    inputs: tuple[str, ...] = ()
    name: str = ""
    cached: bool = False
    started: datetime | None = None
    completed: datetime | None = None
    error: str = ""


class VertexStatus(msgspec.Struct, frozen=True, kw_only=True):
    """Progress of one task inside a step (``VertexStatus``), e.g. a layer transfer:
    ``current`` of ``total`` (bytes or items; ``total`` 0 when unknown)."""

    id: str
    vertex: str = ""
    name: str = ""
    current: int = 0
    total: int = 0
    timestamp: datetime | None = None
    started: datetime | None = None
    completed: datetime | None = None


class VertexLog(msgspec.Struct, frozen=True, kw_only=True):
    """Output of a step (``VertexLog``): ``stream`` 1 stdout, 2 stderr; ``data`` raw bytes
    (a chunk, not necessarily whole lines)."""

    vertex: str
    stream: int = 0
    data: bytes = b""
    timestamp: datetime | None = None


class VertexWarning(msgspec.Struct, frozen=True, kw_only=True):
    """A warning about a step (``VertexWarning``, BuildKit 0.10+ / Docker 23+): ``short`` is
    the one-line text, ``detail`` further paragraphs, ``url`` a page explaining it."""

    vertex: str
    level: int = 0
    short: bytes = b""
    detail: tuple[bytes, ...] = ()
    url: str = ""


class StatusResponse(msgspec.Struct, frozen=True, kw_only=True):
    """One ``moby.buildkit.v1.StatusResponse``: what changed since the previous one."""

    vertexes: tuple[Vertex, ...] = ()
    statuses: tuple[VertexStatus, ...] = ()
    logs: tuple[VertexLog, ...] = ()
    warnings: tuple[VertexWarning, ...] = ()


# -- the schema: field number -> (attribute, how to read it) ---------------------------------

_Reader = Callable[[bytes | int, str], Any]


def _string(value: bytes | int, what: str) -> str:
    if not isinstance(value, bytes):
        raise DecodeError(f"{what}: a string field sent as a varint")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"{what}: a string field is not UTF-8 ({exc})") from None


def _bytes(value: bytes | int, what: str) -> bytes:
    if not isinstance(value, bytes):
        raise DecodeError(f"{what}: a bytes field sent as a varint")
    return value


def _int(value: bytes | int, what: str) -> int:
    if not isinstance(value, int):
        raise DecodeError(f"{what}: an integer field sent length-delimited")
    return as_signed(value)


def _bool(value: bytes | int, what: str) -> bool:
    return _int(value, what) != 0


def _time(value: bytes | int, what: str) -> datetime:
    return read_timestamp(_bytes(value, what), f"{what} timestamp")


_VERTEX: Final[Mapping[int, tuple[str, _Reader]]] = {
    1: ("digest", _string),
    2: ("inputs", _string),
    3: ("name", _string),
    4: ("cached", _bool),
    5: ("started", _time),
    6: ("completed", _time),
    7: ("error", _string),
}
_STATUS: Final[Mapping[int, tuple[str, _Reader]]] = {
    1: ("id", _string),
    2: ("vertex", _string),
    3: ("name", _string),
    4: ("current", _int),
    5: ("total", _int),
    6: ("timestamp", _time),
    7: ("started", _time),
    8: ("completed", _time),
}
_LOG: Final[Mapping[int, tuple[str, _Reader]]] = {
    1: ("vertex", _string),
    2: ("timestamp", _time),
    3: ("stream", _int),
    4: ("data", _bytes),
}
_WARNING: Final[Mapping[int, tuple[str, _Reader]]] = {
    1: ("vertex", _string),
    2: ("level", _int),
    3: ("short", _bytes),
    4: ("detail", _bytes),
    5: ("url", _string),
}
_REPEATED: Final = frozenset({"inputs", "detail"})


def _message(data: bytes, schema: Mapping[int, tuple[str, _Reader]], what: str) -> dict[str, Any]:
    """The known fields of ``data`` as keyword arguments (the last value of a scalar wins,
    repeated fields collect into tuples)."""
    fields: dict[str, Any] = {}
    for number, _wire_type, value in read_fields(data, what):
        known = schema.get(number)
        if known is None:
            continue  # an unknown field: skipped, as protobuf requires
        name, read = known
        item = read(value, f"{what}.{name}")
        if name in _REPEATED:
            fields[name] = (*fields.get(name, ()), item)
        else:
            fields[name] = item
    return fields


def _build(
    cls: type[Any],
    data: bytes,
    schema: Mapping[int, tuple[str, _Reader]],
    what: str,
    required: str,
) -> Any:
    fields = _message(data, schema, what)
    fields.setdefault(required, "")
    return cls(**fields)


_PARTS: Final[Mapping[int, tuple[str, type[Any], Mapping[int, tuple[str, _Reader]], str]]] = {
    1: ("vertexes", Vertex, _VERTEX, "digest"),
    2: ("statuses", VertexStatus, _STATUS, "id"),
    3: ("logs", VertexLog, _LOG, "vertex"),
    4: ("warnings", VertexWarning, _WARNING, "vertex"),
}


def decode_status_response(data: bytes) -> StatusResponse:
    """Decode one protobuf-encoded ``moby.buildkit.v1.StatusResponse``.

    Raises:
        DecodeError: the bytes are not a well-formed message of that schema.
    """
    parts: dict[str, list[Any]] = {}
    for number, wire_type, value in read_fields(data, "StatusResponse"):
        known = _PARTS.get(number)
        if known is None:
            continue
        name, cls, schema, required = known
        what = f"StatusResponse.{name}"
        if wire_type != LENGTH_DELIMITED:
            raise DecodeError(f"{what}: a message field sent with wire type {wire_type}")
        assert isinstance(value, bytes)
        parts.setdefault(name, []).append(_build(cls, value, schema, what, required))
    return StatusResponse(**{name: tuple(items) for name, items in parts.items()})


def decode_trace(aux: str) -> StatusResponse:
    """Decode the ``aux`` of a ``moby.buildkit.trace`` record (base64 of a StatusResponse).

    Raises:
        DecodeError: not base64, or not a well-formed StatusResponse.
    """
    try:
        data = base64.b64decode(aux, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecodeError(f"moby.buildkit.trace aux is not base64 ({exc}): {aux[:80]!r}") from None
    return decode_status_response(data)

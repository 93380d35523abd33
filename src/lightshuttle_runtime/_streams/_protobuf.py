"""A small reader of the protocol buffers wire format (proto3 messages, no schema compiler).

Source: the ``aux`` of BuildKit's ``moby.buildkit.trace`` build records (a base64
``moby.buildkit.v1.StatusResponse``). Only the wire format is read here: fields come out as
``(number, wire type, value)``; the message modules know what the numbers mean. Fields a
message module does not know are skipped, as protobuf requires.

Wire types: 0 varint (an ``int``), 1 fixed64 and 5 fixed32 (``int``, little-endian, unsigned),
2 length-delimited (``bytes``: strings, bytes, nested messages, packed repeated scalars),
3/4 groups (deprecated; skipped whole). Anything else, a varint longer than 10 bytes, or a
length running past the end raises :class:`~lightshuttle_runtime.DecodeError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Final

from .._errors import DecodeError

__all__ = [
    "FIXED32",
    "FIXED64",
    "LENGTH_DELIMITED",
    "VARINT",
    "ProtobufField",
    "as_signed",
    "iter_fields",
    "read_fields",
    "read_timestamp",
]

VARINT: Final = 0
FIXED64: Final = 1
LENGTH_DELIMITED: Final = 2
_START_GROUP: Final = 3
_END_GROUP: Final = 4
FIXED32: Final = 5

_MAX_VARINT_BYTES: Final = 10
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

#: One field as read from the wire: (field number, wire type, value).
ProtobufField = tuple[int, int, int | bytes]


def iter_fields(data: bytes, what: str = "protobuf message") -> Iterator[ProtobufField]:
    """The fields of the message ``data``, in wire order (groups skipped).

    Args:
        data: one whole encoded message.
        what: the message's name, for error messages.

    Raises:
        DecodeError: the bytes are not a well-formed message (truncated, bad wire type,
            over-long varint, field number 0).
    """
    return iter(read_fields(data, what))


def read_fields(data: bytes, what: str = "protobuf message") -> list[ProtobufField]:
    """:func:`iter_fields` as a list (read at once: the fast path of the decoders).

    Raises:
        DecodeError: as :func:`iter_fields`.
    """
    fields: list[ProtobufField] = []
    position, end = 0, len(data)
    while position < end:
        key = data[position]
        if key < 0x80:  # one-byte keys: field numbers 1-15, all this schema uses
            position += 1
        else:
            key, position = _read_varint(data, position, what)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise DecodeError(f"{what}: field number 0 at byte {position}")
        if wire_type == LENGTH_DELIMITED and position < end and data[position] < 0x80:
            stop = position + 1 + data[position]
            if stop > end:
                _take(data, position + 1, data[position], what)  # raises
            fields.append((number, wire_type, data[position + 1 : stop]))
            position = stop
            continue
        value, position = _read_value(data, position, number, wire_type, what)
        if value is not None:
            fields.append((number, wire_type, value))
    return fields


def _read_value(
    data: bytes, position: int, number: int, wire_type: int, what: str
) -> tuple[int | bytes | None, int]:
    if wire_type == VARINT:
        return _read_varint(data, position, what)
    if wire_type == LENGTH_DELIMITED:
        length, position = _read_varint(data, position, what)
        return _take(data, position, length, what)
    if wire_type in (FIXED64, FIXED32):
        size = 8 if wire_type == FIXED64 else 4
        raw, position = _take(data, position, size, what)
        return int.from_bytes(raw, "little"), position
    if wire_type == _START_GROUP:
        return None, _skip_group(data, position, number, what)
    raise DecodeError(f"{what}: field {number} has wire type {wire_type}, which protobuf lacks")


def _skip_group(data: bytes, position: int, number: int, what: str) -> int:
    """The position after the END_GROUP that closes group ``number``."""
    end = len(data)
    while position < end:
        key, position = _read_varint(data, position, what)
        inner, wire_type = key >> 3, key & 7
        if wire_type == _END_GROUP:
            if inner != number:
                raise DecodeError(f"{what}: group {number} closed as group {inner}")
            return position
        _, position = _read_value(data, position, inner, wire_type, what)
    raise DecodeError(f"{what}: group {number} is not closed before the end of the message")


def _read_varint(data: bytes, position: int, what: str) -> tuple[int, int]:
    byte = data[position] if position < len(data) else -1
    if 0 <= byte < 0x80:  # the common one-byte case
        return byte, position + 1
    result = shift = 0
    start = position
    while position < len(data):
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result & 0xFFFF_FFFF_FFFF_FFFF, position
        shift += 7
        if position - start >= _MAX_VARINT_BYTES:
            raise DecodeError(f"{what}: varint at byte {start} is longer than 10 bytes")
    raise DecodeError(f"{what}: truncated varint at byte {start}")


def _take(data: bytes, position: int, length: int, what: str) -> tuple[bytes, int]:
    end = position + length
    if end > len(data):
        raise DecodeError(
            f"{what}: a field of {length} bytes at byte {position} runs past the end "
            f"({len(data)} bytes): truncated"
        )
    return data[position:end], end


def as_signed(value: int) -> int:
    """A varint read as ``int64`` (two's complement of its 64 bits)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def read_timestamp(data: bytes, what: str = "google.protobuf.Timestamp") -> datetime:
    """A ``google.protobuf.Timestamp`` (1: int64 seconds, 2: int32 nanos) as an aware UTC
    datetime (nanoseconds cut to microseconds).

    Raises:
        DecodeError: a malformed message, or a time outside ``datetime``'s range.
    """
    seconds = nanos = 0
    for number, wire_type, value in read_fields(data, what):
        if wire_type != VARINT:
            continue
        assert isinstance(value, int)
        if number == 1:
            seconds = as_signed(value)
        elif number == 2:
            nanos = as_signed(value)
    try:
        return _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
    except OverflowError:
        raise DecodeError(f"{what}: {seconds}s {nanos}ns is outside the datetime range") from None

"""LogDecoder: framing plus optional timestamp splitting."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest

from lightshuttle_runtime._errors import StreamError, StreamTruncatedError
from lightshuttle_runtime._streams import STDERR, STDOUT, Frame, LogDecoder, StampedFrame

READ_TIME = datetime(2030, 1, 1, tzinfo=UTC)
T1 = datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
PREFIX = b"2024-01-02T03:04:05.123456789Z "


def frame(stream_type: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxI", stream_type, len(payload)) + payload


def test_multiplexed_without_timestamps() -> None:
    decoder = LogDecoder(tty=False)
    assert decoder.feed(frame(1, b"a\n") + frame(2, b"b\n")) == [
        Frame(STDOUT, b"a\n"),
        Frame(STDERR, b"b\n"),
    ]
    assert decoder.close() == []


def test_raw_without_timestamps() -> None:
    assert LogDecoder(tty=True).feed(b"\x01raw") == [Frame(STDOUT, b"\x01raw")]


def test_multiplexed_with_timestamps() -> None:
    decoder = LogDecoder(tty=False, timestamps=True, clock=lambda: READ_TIME)
    body = frame(1, PREFIX + b"out\n" + PREFIX[:10]) + frame(2, PREFIX + b"err\n")
    assert decoder.feed(body) == [
        StampedFrame(STDOUT, T1, b"out\n"),
        StampedFrame(STDERR, T1, b"err\n"),
    ]
    assert decoder.close() == [StampedFrame(STDOUT, READ_TIME, PREFIX[:10])]


def test_raw_with_timestamps() -> None:
    decoder = LogDecoder(tty=True, timestamps=True, clock=lambda: READ_TIME)
    got = decoder.feed(PREFIX + b"line\r\n" + PREFIX[:5])
    assert got == [StampedFrame(STDOUT, T1, b"line\r\n")]
    assert decoder.feed(PREFIX[5:] + b"next") == [StampedFrame(STDOUT, T1, b"next")]


def test_errors_pass_through() -> None:
    decoder = LogDecoder(tty=False, timestamps=True)
    assert decoder.feed(frame(1, PREFIX + b"x\n") + frame(3, b"Error grabbing logs: gone")) == [
        StampedFrame(STDOUT, T1, b"x\n")
    ]
    with pytest.raises(StreamError, match="gone"):
        decoder.close()
    truncated = LogDecoder(tty=False)
    assert truncated.feed(frame(1, b"abc")[:-1]) == []
    with pytest.raises(StreamTruncatedError):
        truncated.close()

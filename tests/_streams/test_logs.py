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


# Bodies recorded from GET /containers/{id}/logs?stdout=1&stderr=1&timestamps=1 for
# sh -c 'printf abc; sleep 1; printf "def\n"; printf err >&2; sleep 1; echo more >&2; echo done'
DOCKER_BODY = (
    b"\x01\x00\x00\x00\x00\x00\x00&2026-11-30T10:01:02.564635641Z abcdef\n"
    b"\x01\x00\x00\x00\x00\x00\x00$2026-11-30T10:01:03.567963862Z done\n"
    b"\x02\x00\x00\x00\x00\x00\x00'2026-11-30T10:01:03.568148096Z errmore\n"
)
PODMAN_BODY = (
    b"\x01\x00\x00\x00\x00\x00\x00\x182026-11-30T10:01:05Z abc"
    b"\x01\x00\x00\x00\x00\x00\x00\x192026-11-30T10:01:06Z def\n"
    b"\x02\x00\x00\x00\x00\x00\x00\x182026-11-30T10:01:06Z err"
    b"\x01\x00\x00\x00\x00\x00\x00\x1a2026-11-30T10:01:07Z done\n"
    b"\x02\x00\x00\x00\x00\x00\x00\x1a2026-11-30T10:01:07Z more\n"
)


def at(second: int, micro: int = 0) -> datetime:
    return datetime(2026, 11, 30, 10, 1, second, micro, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            DOCKER_BODY,
            [
                StampedFrame(STDOUT, at(2, 564635), b"abcdef\n"),
                StampedFrame(STDOUT, at(3, 567963), b"done\n"),
                StampedFrame(STDERR, at(3, 568148), b"errmore\n"),
            ],
        ),
        (
            PODMAN_BODY,
            [
                StampedFrame(STDOUT, at(5), b"abc"),
                StampedFrame(STDOUT, at(6), b"def\n"),
                StampedFrame(STDERR, at(6), b"err"),
                StampedFrame(STDOUT, at(7), b"done\n"),
                StampedFrame(STDERR, at(7), b"more\n"),
            ],
        ),
    ],
    ids=["docker", "podman"],
)
def test_recorded_bodies_in_any_split(body: bytes, expected: list[StampedFrame]) -> None:
    for size in (1, 7, 30, len(body)):
        decoder = LogDecoder(tty=False, timestamps=True, clock=lambda: READ_TIME)
        got = [item for i in range(0, len(body), size) for item in decoder.feed(body[i : i + size])]
        assert got + decoder.close() == expected


def test_recorded_docker_tty_body() -> None:
    body = b"2026-11-30T10:01:24.601427818Z abcdef\r\n2026-11-30T10:01:24.601470662Z done\r\n"
    decoder = LogDecoder(tty=True, timestamps=True)
    assert decoder.feed(body[:40]) + decoder.feed(body[40:]) + decoder.close() == [
        StampedFrame(STDOUT, at(24, 601427), b"abcdef\r\n"),
        StampedFrame(STDOUT, at(24, 601470), b"done\r\n"),
    ]

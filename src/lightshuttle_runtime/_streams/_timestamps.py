"""Splitting the timestamp prefix off log lines.

Source: ``GET /containers/{id}/logs?timestamps=1`` (API 1.12+). Every log message
starts with an RFC 3339 time and one space: Docker writes exactly nine fraction
digits (``2024-01-02T03:04:05.123456789Z``), Podman 4 whole seconds
(``2026-11-30T09:33:32Z``). A message is usually a line, but a long line is cut into
several messages (Docker at 16 KiB, Podman at 8 KiB) and Podman also makes one of
every partial write (``printf abc`` gives ``<time> abc`` with no newline), each with
its own prefix. In a multiplexed body each message is one frame, so a prefix can
start a line or a frame; stdout and stderr interleave, so this is tracked per stream.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final, NamedTuple

from ._multiplexed import Frame, LogStream

__all__ = ["StampedFrame", "TimestampSplitter", "parse_timestamp"]

_RFC3339: Final = re.compile(rb"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)")
# Longest prefix held while waiting for its end: Docker's form with an offset is 35
# bytes; the margin allows a few more fraction digits.
_MAX_PREFIX: Final = 40
_PREFIX_BYTES: Final = b"0123456789-:.+TtZz"
_UNSET: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Docker's and Podman's exact forms, with every digit turned into "9": checking a
# prefix's shape this way is cheaper than the regular expression.
_DIGITS_TO_NINES: Final = bytes.maketrans(b"012345678", b"999999999")
_ENGINE_SHAPES: Final = frozenset({b"9999-99-99T99:99:99.999999999Z", b"9999-99-99T99:99:99Z"})


def parse_timestamp(prefix: bytes) -> datetime | None:
    """Parse the RFC 3339 time that starts a ``timestamps=1`` log line.

    Accepts any number of fraction digits (digits past microseconds are truncated),
    ``Z`` or a ``+HH:MM``/``-HH:MM`` offset.

    Args:
        prefix: the bytes before the first space of the line, without that space.

    Returns:
        an aware datetime in UTC, or ``None`` when ``prefix`` is not such a time
        (including out-of-range fields such as a 13th month).
    """
    if prefix.translate(_DIGITS_TO_NINES) not in _ENGINE_SHAPES:
        if _RFC3339.fullmatch(prefix) is None:
            return None
        prefix = prefix.upper()
    try:
        stamp = datetime.fromisoformat(prefix.decode("ascii"))
        return stamp if stamp.tzinfo is UTC else stamp.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


_new_tuple = tuple.__new__


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StampedFrame(NamedTuple):
    """A piece of one log line, with the line's time.

    Attributes:
        stream: :class:`LogStream` ``STDOUT`` or ``STDERR``, as in the :class:`Frame` it came from.
        timestamp: the line's time (aware, UTC); the read time when the line carried
            no parsable prefix.
        data: the line's bytes without the prefix and its space (never empty). A line
            split across frames comes as several pieces with the same timestamp; only
            the last one ends with ``\\n``.
    """

    stream: LogStream
    timestamp: datetime
    data: bytes


class _LineState:
    """Where one stream stands: at a line start or inside a line."""

    __slots__ = ("at_line_start", "pending", "timestamp")

    def __init__(self) -> None:
        self.at_line_start = True
        self.pending = b""  # the start of a prefix split across frames (<= _MAX_PREFIX)
        self.timestamp = _UNSET  # set at each line start, before use


class TimestampSplitter:
    """An incremental splitter of ``timestamps=1`` log frames into :class:`StampedFrame`.

    Feed it the frames of a :class:`FrameDecoder` or :class:`RawDecoder`. A prefix is
    looked for at each line start and at the start of each frame that continues a
    line (an engine's partial-line message); a continuation frame without a prefix
    keeps the line's timestamp. It holds at most ``_MAX_PREFIX`` bytes per stream (the
    start of a prefix cut by a frame end), never whole lines. A line without a
    parsable prefix keeps all its bytes and gets the read time.

    Limit: in raw (TTY) bodies the prefix of a partial-line message (Podman's partial
    writes, Docker's 16 KiB cuts) sits in the middle of a line with nothing to mark it;
    it stays in the line's bytes.

    Args:
        clock: returns the read time (an aware UTC datetime); defaults to
            ``datetime.now(UTC)``. Tests pass a fixed clock.
        frames_are_messages: each frame is one engine log message (multiplexed bodies), so a
            frame that continues a line may start with its own prefix. False for raw (TTY)
            bodies, whose "frames" are arbitrary reads: a prefix is then looked for at line
            starts only, and the bytes that come out do not depend on how reads cut them.
    """

    __slots__ = ("_clock", "_continuations", "_states")

    def __init__(
        self, clock: Callable[[], datetime] = _utc_now, *, frames_are_messages: bool = True
    ) -> None:
        self._clock = clock
        self._continuations = frames_are_messages
        self._states: dict[LogStream, _LineState] = {}

    def feed(self, frame: Frame) -> list[StampedFrame]:
        """Take the next frame and return its line pieces with their timestamps."""
        stream, data = frame
        state = self._states.get(stream)
        if state is None:
            state = self._states[stream] = _LineState()
        if state.pending:
            data = state.pending + data
            state.pending = b""
        elif not state.at_line_start:
            if not self._continuations:
                return self._split_lines(stream, state, data, 0)
            return self._continue_line(stream, state, data)
        elif data.find(b"\n") == len(data) - 1:
            # The common case: the frame is one whole line.
            space = data.find(b" ", 0, _MAX_PREFIX + 1)
            stamp = parse_timestamp(data[:space]) if space > 0 else None
            if stamp is not None:
                state.timestamp = stamp
                return [_new_tuple(StampedFrame, (stream, stamp, data[space + 1 :]))]
        return self._split_lines(stream, state, data, 0)

    def feed_frames(self, frames: list[Frame]) -> list[StampedFrame]:
        """Take a read's frames at once: the same pieces as :meth:`feed` frame by frame.

        The common frame (one whole line at a line start, in an engine's own time form) is
        handled inline; every other frame goes through :meth:`feed`.
        """
        out: list[StampedFrame] = []
        append = out.append
        states = self._states
        shapes, nines, fromisoformat = _ENGINE_SHAPES, _DIGITS_TO_NINES, datetime.fromisoformat
        for frame in frames:
            stream, data = frame
            state = states.get(stream)
            if (
                state is not None
                and state.at_line_start
                and not state.pending
                and data.find(b"\n") == len(data) - 1
            ):
                space = data.find(b" ", 0, _MAX_PREFIX + 1)
                if space > 0:
                    prefix = data[:space]
                    if prefix.translate(nines) in shapes:
                        try:
                            stamp = fromisoformat(prefix.decode("ascii"))
                        except ValueError:  # out of range (a 13th month): feed() decides
                            pass
                        else:
                            state.timestamp = stamp
                            append(_new_tuple(StampedFrame, (stream, stamp, data[space + 1 :])))
                            continue
            out += self.feed(frame)
        return out

    def _continue_line(
        self, stream: LogStream, state: _LineState, data: bytes
    ) -> list[StampedFrame]:
        """Split a frame that starts inside a line, after its own prefix if it has one."""
        space = data.find(b" ", 0, _MAX_PREFIX + 1)
        stamp = parse_timestamp(data[:space]) if space > 0 else None
        if stamp is None:
            return self._split_lines(stream, state, data, 0)
        state.timestamp = stamp
        return self._split_lines(stream, state, data, space + 1)

    def _split_lines(
        self, stream: LogStream, state: _LineState, data: bytes, pos: int
    ) -> list[StampedFrame]:
        """Return the line pieces of ``data[pos:]``, reading the prefix of each line."""
        out: list[StampedFrame] = []
        end = len(data)
        while pos < end:
            if state.at_line_start:
                pos = self._read_prefix(state, data, pos)
                if pos < 0:
                    break
            newline = data.find(b"\n", pos)
            stop = end if newline < 0 else newline + 1
            if pos < stop:
                out.append(_new_tuple(StampedFrame, (stream, state.timestamp, data[pos:stop])))
            state.at_line_start = newline >= 0
            pos = stop
        return out

    def close(self) -> list[StampedFrame]:
        """Signal the end of the logs; return any held prefix bytes, unchanged and
        stamped with the read time (their line never got a complete prefix)."""
        out = [
            StampedFrame(stream, self._clock(), state.pending)
            for stream, state in self._states.items()
            if state.pending
        ]
        self._states.clear()
        return out

    def _read_prefix(self, state: _LineState, data: bytes, pos: int) -> int:
        """Set ``state.timestamp`` from the prefix at ``data[pos]`` and return where the
        line's content starts; return -1 after holding an incomplete prefix."""
        space = data.find(b" ", pos, pos + _MAX_PREFIX + 1)
        stamp = None
        if space >= 0:
            stamp = parse_timestamp(data[pos:space])
        elif len(data) - pos <= _MAX_PREFIX and _may_be_prefix(data[pos:]):
            state.pending = data[pos:]
            return -1
        state.at_line_start = False
        if stamp is None:
            state.timestamp = self._clock()
            return pos
        state.timestamp = stamp
        return space + 1


def _may_be_prefix(data: bytes) -> bool:
    """Whether ``data`` could be the start of a timestamp (cheap and loose)."""
    return data[:1].isdigit() and not data.translate(None, _PREFIX_BYTES)

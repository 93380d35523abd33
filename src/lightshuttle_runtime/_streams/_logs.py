"""The decoder of a logs, attach or exec output body: framing plus optional timestamps.

Source: ``GET /containers/{id}/logs`` (``timestamps`` since API 1.12),
``POST /containers/{id}/attach`` and ``POST /exec/{id}/start``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar, overload

from ._multiplexed import Frame, FrameDecoder
from ._raw import RawDecoder
from ._timestamps import StampedFrame, TimestampSplitter, _utc_now

__all__ = ["LogDecoder"]

T = TypeVar("T", Frame, StampedFrame, Frame | StampedFrame)


class LogDecoder(Generic[T]):
    """Decode an output body into :class:`Frame` items, or :class:`StampedFrame` items
    when the engine was asked for ``timestamps=1``.

    Args:
        tty: the container (or exec) has a TTY, so the body is raw bytes
            (:class:`RawDecoder`); otherwise it is multiplexed (:class:`FrameDecoder`).
        timestamps: each line starts with a time prefix to split off
            (:class:`TimestampSplitter`).
        clock: the read time for lines without a parsable prefix (for tests).

    Raises (from :meth:`feed` and :meth:`close`): what :class:`FrameDecoder` raises.
    """

    __slots__ = ("_frames", "_splitter")

    @overload
    def __init__(
        self: LogDecoder[Frame],
        *,
        tty: bool,
        timestamps: Literal[False] = False,
        clock: Callable[[], datetime] = ...,
    ) -> None: ...
    @overload
    def __init__(
        self: LogDecoder[StampedFrame],
        *,
        tty: bool,
        timestamps: Literal[True],
        clock: Callable[[], datetime] = ...,
    ) -> None: ...
    @overload
    def __init__(
        self: LogDecoder[Frame | StampedFrame],
        *,
        tty: bool,
        timestamps: bool,
        clock: Callable[[], datetime] = ...,
    ) -> None: ...
    def __init__(
        self, *, tty: bool, timestamps: bool = False, clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self._frames: RawDecoder | FrameDecoder = RawDecoder() if tty else FrameDecoder()
        self._splitter = (
            TimestampSplitter(clock, frames_are_messages=not tty) if timestamps else None
        )

    def feed(self, data: bytes) -> list[T]:
        """Take the next bytes of the body and return the items they complete."""
        return self._split(self._frames.feed(data))

    def close(self) -> list[T]:
        """Signal the end of the body and return the items still held."""
        items: list[Any] = self._split(self._frames.close())
        if self._splitter is not None:
            items += self._splitter.close()
        return items

    def _split(self, frames: list[Frame]) -> list[Any]:
        splitter = self._splitter
        if splitter is None or not frames:
            return frames
        return splitter.feed_frames(frames)

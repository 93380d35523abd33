"""Decoding Docker's multiplexed (``Tty=false``) attach, logs and exec stream.

Source: ``GET /containers/{id}/logs``, ``POST /containers/{id}/attach`` and
``POST /exec/{id}/start`` (API 1.12+; ``Content-Type:
application/vnd.docker.multiplexed-stream`` since 1.42). Each frame is an 8-byte
header ``[STREAM_TYPE, 0, 0, 0, SIZE (big-endian u32)]`` followed by SIZE bytes of
payload. Frames do not line up with lines or with reads.
"""

from __future__ import annotations

import enum
import struct
from typing import Final, NamedTuple

from .._errors import StreamDesyncError, StreamError, StreamTruncatedError

__all__ = ["STDERR", "STDOUT", "Frame", "FrameDecoder", "LogStream"]


class LogStream(enum.IntEnum):
    """Which output a piece of a container's output came from: the frame's stream type.

    The same enum at every layer (:class:`Frame`, ``StampedFrame``, the runtime's
    ``LogChunk``). Its values are the wire's stream numbers (``STDOUT`` 1, ``STDERR`` 2), so it
    compares equal to them; ``str()`` gives ``stdout`` / ``stderr``.
    """

    STDOUT = 1
    STDERR = 2

    def __str__(self) -> str:
        return self.name.lower()

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


STDOUT: Final = LogStream.STDOUT
"""Standard output (and stdin echoed as stdout)."""
STDERR: Final = LogStream.STDERR
"""Standard error."""

_HEADER_SIZE: Final = 8
_SYSTEM_ERROR: Final = 3
# The header's first 32-bit word is the type byte followed by three zero bytes, so
# one dict lookup both validates the reserved bytes and maps the type to a stream.
_STREAM_OF_WORD: Final[dict[int, LogStream]] = {
    0 << 24: STDOUT,
    1 << 24: STDOUT,
    2 << 24: STDERR,
}
_SYSTEM_ERROR_WORD: Final = _SYSTEM_ERROR << 24
_unpack_header = struct.Struct(">II").unpack_from
_new_tuple = tuple.__new__


class Frame(NamedTuple):
    """One frame of output.

    Attributes:
        stream: :class:`LogStream` ``STDOUT`` (1) or ``STDERR`` (2). Type 0 (stdin) frames
            are reported as ``STDOUT``, which is what the engine means by them.
        data: the payload bytes (never empty).
    """

    stream: LogStream
    data: bytes


class FrameDecoder:
    """An incremental decoder of a multiplexed stream body into :class:`Frame` items.

    Any split of the body across :meth:`feed` calls yields the same frames. Zero-length
    frames are skipped.

    Errors never lose frames: when a call decodes some frames and then meets an error,
    it returns those frames and keeps the error, which the next :meth:`feed` or
    :meth:`close` raises (and every call after that, too). :attr:`pending_error` shows
    a kept error so that a reader can stop without waiting for more bytes. The errors:

    - :class:`StreamError`: a stream-type-3 frame, the engine reporting a failure
      ("Error grabbing logs: ..."); its message is the frame's payload.
    - :class:`StreamDesyncError`: an unknown stream type or non-zero reserved bytes;
      ``offset`` is the byte offset of the bad header from the start of the body.
    - :class:`StreamTruncatedError` (from :meth:`close`): the body ended inside a
      frame header or payload.
    """

    __slots__ = ("_error", "_head", "_offset", "_parts", "_remaining", "_stream")

    def __init__(self) -> None:
        self._offset = 0  # body offset of the first byte of the next feed
        self._head = b""  # the start (< 8 bytes) of a header split across feeds
        self._stream: int = 0  # stream of the frame whose payload is being collected
        self._remaining = 0  # payload bytes that frame still needs
        self._parts: list[bytes | memoryview] = []  # its payload received so far
        self._error: StreamError | None = None

    @property
    def pending_error(self) -> StreamError | None:
        """The error that the next :meth:`feed` or :meth:`close` will raise, if any."""
        return self._error

    def feed(self, data: bytes) -> list[Frame]:
        """Take the next bytes of the body and return the frames they complete.

        Raises:
            StreamError: the engine reported an error (stream type 3).
            StreamDesyncError: a frame header is invalid.
        """
        if self._error is not None:
            raise self._error
        if type(data) is not bytes:
            data = bytes(data)  # slices of a mutable buffer must not change under us
        frames: list[Frame] = []
        pos = 0
        if self._remaining:
            pos = self._finish_payload(data, frames)
            if pos < 0 or self._error is not None:
                return self._result(frames)
        elif self._head:
            self._offset -= len(self._head)
            data = self._head + data  # at most 7 bytes more than this feed
            self._head = b""
        pos = self._decode_frames(data, pos, frames)
        self._offset += len(data)
        if pos < len(data):
            self._keep_partial(data, pos)
        return self._result(frames)

    def close(self) -> list[Frame]:
        """Signal the end of the body.

        Returns:
            always an empty list: every complete frame was returned by :meth:`feed`.

        Raises:
            StreamTruncatedError: the body ended inside a frame header or payload.
            StreamError: the error kept from the last :meth:`feed`.
        """
        if self._error is not None:
            raise self._error
        if self._head:
            raise StreamTruncatedError(
                f"multiplexed stream ended inside a frame header at offset "
                f"{self._offset - len(self._head)}: expected {_HEADER_SIZE} bytes, "
                f"received {len(self._head)}"
            )
        if self._remaining:
            received = sum(len(part) for part in self._parts)
            raise StreamTruncatedError(
                f"multiplexed stream ended inside a frame payload: expected "
                f"{received + self._remaining} bytes, received {received}"
            )
        return []

    def _decode_frames(self, data: bytes, pos: int, frames: list[Frame]) -> int:
        """Append the complete frames of ``data[pos:]``; return where the first
        incomplete or invalid frame starts."""
        streams = _STREAM_OF_WORD
        append = frames.append
        unpack = _unpack_header
        new = _new_tuple
        end = len(data)
        last_header = end - _HEADER_SIZE
        while pos <= last_header:
            word, size = unpack(data, pos)
            stream = streams.get(word)
            start = pos + _HEADER_SIZE
            stop = start + size
            if stream is None or stop > end:
                if stream is None:
                    self._bad_header(data, pos, word, size, frames)
                break
            if size:
                append(new(Frame, (stream, data[start:stop])))
            pos = stop
        return pos

    def _keep_partial(self, data: bytes, pos: int) -> None:
        """Hold the incomplete frame that starts at ``data[pos]``."""
        if self._error is not None:
            return
        if len(data) - pos < _HEADER_SIZE:
            self._head = data[pos:]
            return
        word, size = _unpack_header(data, pos)
        start = pos + _HEADER_SIZE
        self._stream = _SYSTEM_ERROR if word == _SYSTEM_ERROR_WORD else _STREAM_OF_WORD[word]
        self._remaining = size - (len(data) - start)
        self._parts = [memoryview(data)[start:]]

    def _finish_payload(self, data: bytes, frames: list[Frame]) -> int:
        """Add ``data`` to the payload being collected; return the position in
        ``data`` after that frame, or -1 when ``data`` did not complete it."""
        remaining = self._remaining
        if len(data) < remaining:
            self._parts.append(data)
            self._remaining = remaining - len(data)
            self._offset += len(data)
            return -1
        self._parts.append(memoryview(data)[:remaining])
        payload = b"".join(self._parts)
        self._parts = []
        self._remaining = 0
        if self._stream == _SYSTEM_ERROR:
            self._error = _system_error(payload)
        else:
            frames.append(Frame(LogStream(self._stream), payload))
        return remaining

    def _bad_header(self, data: bytes, pos: int, word: int, size: int, frames: list[Frame]) -> None:
        """Record the error for the non-stdout/stderr header at ``data[pos]``."""
        if word != _SYSTEM_ERROR_WORD:
            header = data[pos : pos + _HEADER_SIZE].hex(" ")
            self._error = StreamDesyncError(
                f"multiplexed stream desynchronized: invalid frame header {header} "
                f"at offset {self._offset + pos}",
                offset=self._offset + pos,
            )
            return
        start = pos + _HEADER_SIZE
        if start + size <= len(data):
            self._error = _system_error(data[start : start + size])

    def _result(self, frames: list[Frame]) -> list[Frame]:
        """Return ``frames``, or raise the error met when there are none to return."""
        if self._error is not None and not frames:
            raise self._error
        return frames


def _system_error(payload: bytes) -> StreamError:
    message = payload.decode("utf-8", "replace").strip()
    return StreamError(message or "the engine reported an error in the stream")

"""Decoding output frames to text, one UTF-8 decoder per stream.

A multibyte character may be cut by a frame end, and the other stream's frames may
come between its halves, so each stream keeps its own incremental decoder.
"""

from __future__ import annotations

import codecs
from typing import NamedTuple

from ._multiplexed import Frame, LogStream

__all__ = ["TextChunk", "TextDecoder"]

_new_utf8_decoder = codecs.getincrementaldecoder("utf-8")


class TextChunk(NamedTuple):
    """Decoded text of one stream.

    Attributes:
        stream: :class:`LogStream` ``STDOUT`` or ``STDERR``, as in the frames it came from.
        text: the characters completed by a frame (never empty).
    """

    stream: LogStream
    text: str


class TextDecoder:
    """An incremental UTF-8 decoder of :class:`Frame` items into :class:`TextChunk` items.

    Invalid bytes become U+FFFD, so decoding never fails.
    """

    __slots__ = ("_decoders",)

    def __init__(self) -> None:
        self._decoders: dict[LogStream, codecs.IncrementalDecoder] = {}

    def feed(self, frame: Frame) -> list[TextChunk]:
        """Take the next frame and return the text it completes for its stream."""
        decoder = self._decoders.get(frame.stream)
        if decoder is None:
            decoder = self._decoders[frame.stream] = _new_utf8_decoder("replace")
        text = decoder.decode(frame.data)
        return [TextChunk(frame.stream, text)] if text else []

    def close(self) -> list[TextChunk]:
        """Signal the end of the output; an incomplete character at a stream's end
        comes out as U+FFFD."""
        out: list[TextChunk] = []
        for stream, decoder in self._decoders.items():
            text = decoder.decode(b"", final=True)
            if text:
                out.append(TextChunk(stream, text))
        self._decoders.clear()
        return out

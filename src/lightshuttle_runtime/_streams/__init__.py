"""Pure, synchronous decoders of the engine's streamed response bodies.

They take bytes (or frames) as they arrive, in any split, hold the partial state
between calls, and never do I/O.
"""

from __future__ import annotations

from ._base import Decoder
from ._json_lines import JSONLinesDecoder
from ._logs import LogDecoder
from ._multiplexed import STDERR, STDOUT, Frame, FrameDecoder, LogStream
from ._progress import ErrorDetailLike, ProgressLike, raise_for_progress_error
from ._raw import RawDecoder
from ._text import TextChunk, TextDecoder
from ._timestamps import StampedFrame, TimestampSplitter, parse_timestamp

__all__ = [
    "STDERR",
    "STDOUT",
    "Decoder",
    "ErrorDetailLike",
    "Frame",
    "FrameDecoder",
    "JSONLinesDecoder",
    "LogDecoder",
    "LogStream",
    "ProgressLike",
    "RawDecoder",
    "StampedFrame",
    "TextChunk",
    "TextDecoder",
    "TimestampSplitter",
    "parse_timestamp",
    "raise_for_progress_error",
]

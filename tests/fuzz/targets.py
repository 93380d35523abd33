"""Fuzz targets: one function per decoder, taking arbitrary bytes, raising only on a bug.

Each target reads its first four bytes as a seed for where to cut the rest, decodes the rest
once whole and once cut in pieces, and checks that:

- the only exceptions are the module's typed errors (anything else escapes: a bug);
- any split gives the same result as no split (the same items, or the same error class);
- the decoder never holds more than it was fed, and the HTTP reader never more than its head
  limit while it waits for a head;
- given the end of input, a decoder finishes: it never asks for more bytes.

The same functions serve the time-bounded pytest loop (test_fuzz.py) and atheris
(``python -m tests.fuzz http`` when atheris is installed).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec

from lightshuttle_runtime._errors import DockerError
from lightshuttle_runtime._streams import FrameDecoder, JSONLinesDecoder, LogDecoder
from lightshuttle_runtime._transports._http11 import (
    MAX_HEAD_SIZE,
    HTTPProtocolError,
    ResponseReader,
)

__all__ = ["TARGETS", "fuzz_frames", "fuzz_http_response", "fuzz_json_lines", "fuzz_logs"]

_CLOCK = datetime(2030, 1, 1, tzinfo=UTC)


def _cuts(data: bytes) -> tuple[bytes, list[bytes]]:
    """Split off the four seed bytes; cut the rest at seeded places (sometimes byte by byte)."""
    seed, body = data[:4], data[4:]
    rng = random.Random(seed)
    if not body:
        return body, []
    if rng.random() < 0.1:
        return body, [body[i : i + 1] for i in range(len(body))]
    points = sorted(rng.sample(range(len(body) + 1), min(len(body) + 1, rng.randint(0, 8))))
    edges = [0, *points, len(body)]
    return body, [body[a:b] for a, b in itertools.pairwise(edges) if b > a]


Outcome = tuple[list[Any], str | None]


def _http(pieces: list[bytes]) -> Outcome:
    """Read one response off a connection fed ``pieces`` then EOF: ([response], error class).

    One response: the client sends its next request only after an answer ends, so bytes
    beyond it are stray (whether they were already buffered depends on the split).
    """
    reader = ResponseReader()
    queue = list(pieces)
    last = max((len(p) for p in pieces), default=0)
    try:
        head = reader.read_head()
        while head is None:
            assert reader.buffered <= MAX_HEAD_SIZE + last, "head buffer unbounded"
            if not queue and reader.at_eof:
                raise AssertionError("the reader asked for more after EOF")
            _feed(reader, queue)
            head = reader.read_head()
        body = b""
        while (data := reader.read_body()) != b"":
            if data is None:
                if not queue and reader.at_eof:
                    raise AssertionError("the reader asked for more body after EOF")
                _feed(reader, queue)
            else:
                body += data
        reader.next_message()
    except HTTPProtocolError as exc:
        return [], type(exc).__name__
    return [(head.status, head.reason, head.http_version, head.headers, body)], None


def _feed(reader: ResponseReader, queue: list[bytes]) -> None:
    if queue:
        reader.feed(queue.pop(0))
    else:
        reader.feed_eof()


def _decode(make: Callable[[], Any], pieces: list[bytes]) -> Outcome:
    decoder = make()
    items: list[Any] = []
    fed = 0
    try:
        for piece in pieces:
            fed += len(piece)
            items += decoder.feed(piece)
            held = getattr(decoder, "_parts", None)
            if held is not None:
                assert sum(len(p) for p in held) <= fed, "decoder holds more than it was fed"
        items += decoder.close()
    except DockerError as exc:
        return items, type(exc).__name__
    return items, None


def _same(whole: Outcome, split: Outcome) -> None:
    """A split gives what no split gives (items before an error may be fewer, never other)."""
    (items_a, error_a), (items_b, error_b) = whole, split
    assert error_a == error_b, f"error {error_a} whole, {error_b} split"
    if error_a is None:
        assert items_a == items_b, "different items whole and split"


def fuzz_http_response(data: bytes) -> None:
    """Our HTTP/1.1 response reader (``_http11.ResponseReader``)."""
    body, pieces = _cuts(data)
    _same(_http([body] if body else []), _http(pieces))


def fuzz_frames(data: bytes) -> None:
    """The multiplexed logs/attach frame decoder."""
    body, pieces = _cuts(data)
    _same(_decode(FrameDecoder, [body]), _decode(FrameDecoder, pieces))


def fuzz_logs(data: bytes) -> None:
    """Frames plus the timestamp splitter (``logs?timestamps=1``), TTY or not."""
    body, pieces = _cuts(data)
    tty = bool(data[:1]) and data[0] & 1 == 1

    def make() -> LogDecoder[Any]:
        return LogDecoder(tty=tty, timestamps=True, clock=lambda: _CLOCK)

    whole, split = _decode(make, [body]), _decode(make, pieces)
    assert whole[1] == split[1]
    if whole[1] is None:
        # Pieces may differ (a line cut by a read is two pieces); the bytes may not.
        assert [(i.stream, i.data) for i in _join(whole[0])] == [
            (i.stream, i.data) for i in _join(split[0])
        ]


def _join(items: list[Any]) -> list[Any]:
    """Merge consecutive pieces of one stream and timestamp."""
    out: list[Any] = []
    for item in items:
        if out and out[-1].stream == item.stream and out[-1].timestamp == item.timestamp:
            out[-1] = out[-1]._replace(data=out[-1].data + item.data)
        else:
            out.append(item)
    return out


def fuzz_json_lines(data: bytes) -> None:
    """The JSON-lines / json-seq decoder of events and progress streams.

    Known leniency, not checked: a record cut by a newline (``{"a":`` then ``1}``; engines
    never send one) is accepted when both lines arrive in one read and refused when a read
    ends at that newline. Inputs with such a line are decoded (typed errors only) but not
    compared.
    """
    body, pieces = _cuts(data)
    whole, split = _decode(JSONLinesDecoder, [body]), _decode(JSONLinesDecoder, pieces)
    if not any(_truncated(line) for line in body.replace(b"\x1e", b"\n").split(b"\n")):
        _same(whole, split)


def _truncated(line: bytes) -> bool:
    """Whether ``line`` alone is the start of a JSON value that a later line could finish."""
    try:
        msgspec.json.Decoder().decode_lines(line)
    except msgspec.DecodeError as exc:
        return "truncated" in str(exc)
    return False


TARGETS: dict[str, Callable[[bytes], None]] = {
    "http": fuzz_http_response,
    "frames": fuzz_frames,
    "logs": fuzz_logs,
    "json": fuzz_json_lines,
}

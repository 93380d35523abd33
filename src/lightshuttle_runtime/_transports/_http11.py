"""Sans-I/O HTTP/1.1 framing: a response reader, a request reader and a request encoder.

Nothing here does I/O. A reader is fed the bytes of one connection as they arrive, in
any split, and hands back whole message heads and body pieces; it keeps the partial
state between calls. The transport (``_unix.py``) owns the socket and the
FakeEngine (``testing/_fake_engine.py``) reuses :class:`RequestReader`.

Framing follows RFC 9112: a body is delimited by ``Transfer-Encoding: chunked``, else
by ``Content-Length``, else (responses only) by the peer closing the connection.
Responses to ``HEAD`` and 1xx/204/304 responses have no body. Interim 1xx responses
other than ``101 Switching Protocols`` are skipped; after a 101 the connection is no
longer HTTP and :attr:`ResponseReader.leftover` holds the bytes already received.

Every malformed input raises a subclass of :class:`HTTPProtocolError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

__all__ = [
    "LAST_CHUNK",
    "MAX_HEAD_SIZE",
    "BadChunkError",
    "HTTPProtocolError",
    "HeadTooLargeError",
    "IncompleteMessageError",
    "InvalidRequestError",
    "MalformedHeaderError",
    "MalformedStartLineError",
    "NoResponseError",
    "RequestHead",
    "RequestReader",
    "ResponseHead",
    "ResponseReader",
    "encode_chunk",
    "encode_request_head",
]

MAX_HEAD_SIZE = 64 * 1024
"""The largest accepted head (start line plus headers, or a trailer block), in bytes."""

_MAX_CHUNK_LINE = 4096  # a chunk-size line, extensions included
_MAX_CHUNK_DIGITS = 16  # 64 bits of hex
_HEX = b"0123456789abcdefABCDEF"

LAST_CHUNK = b"0\r\n\r\n"
"""The terminating zero-size chunk of a chunked body, with an empty trailer."""

Headers = list[tuple[bytes, bytes]]


class HTTPProtocolError(Exception):
    """The bytes on the connection are not valid HTTP/1.1 (base of this module's errors)."""


class MalformedStartLineError(HTTPProtocolError):
    """The status line (or request line) is not ``HTTP/1.x NNN reason``."""


class MalformedHeaderError(HTTPProtocolError):
    """A header line is malformed, or a framing header has an invalid value."""


class HeadTooLargeError(HTTPProtocolError):
    """The head or trailer block is larger than :data:`MAX_HEAD_SIZE` bytes."""


class BadChunkError(HTTPProtocolError):
    """A chunk-size line or a chunk's closing CRLF is malformed."""


class IncompleteMessageError(HTTPProtocolError):
    """The peer closed the connection before the message was complete."""


class NoResponseError(IncompleteMessageError):
    """The peer closed the connection before sending a single byte of a response.

    On a reused keep-alive connection this means the server had already dropped it,
    so an idempotent request may be retried on a fresh connection.
    """


class InvalidRequestError(HTTPProtocolError):
    """A request could not be encoded (CR/LF or space where they are not allowed)."""


class ResponseHead(NamedTuple):
    """The start line and headers of a response.

    Attributes:
        status: the status code (200, 101, 404...).
        reason: the reason phrase as sent (may be empty).
        http_version: ``b"HTTP/1.1"`` or ``b"HTTP/1.0"``.
        headers: ``(name, value)`` pairs in arrival order, names in their original
            case, repeated headers kept as separate pairs.
    """

    status: int
    reason: bytes
    http_version: bytes
    headers: Headers


class RequestHead(NamedTuple):
    """The request line and headers of a request (used by the FakeEngine).

    Attributes:
        method: ``b"GET"``, ``b"POST"``...
        target: the request target as sent (``b"/v1.41/containers/json?all=1"``).
        http_version: ``b"HTTP/1.1"`` or ``b"HTTP/1.0"``.
        headers: ``(name, value)`` pairs in arrival order.
    """

    method: bytes
    target: bytes
    http_version: bytes
    headers: Headers


# Reader states.
_HEAD = 0  # waiting for a head
_LENGTH = 1  # Content-Length body, self._remaining bytes to go
_CHUNK_SIZE = 2  # waiting for a chunk-size line
_CHUNK_DATA = 3  # inside a chunk, self._remaining bytes to go
_CHUNK_CRLF = 4  # waiting for the CRLF that closes a chunk
_TRAILERS = 5  # reading trailer lines after the last chunk
_UNTIL_CLOSE = 6  # body runs until the peer closes
_DONE = 7  # message complete
_UPGRADED = 8  # 101 received; the connection is no longer HTTP


class _Framing(NamedTuple):
    length: int | None  # Content-Length, or None
    chunked: bool
    other_encoding: bool  # a Transfer-Encoding whose last coding is not chunked
    close: bool  # "Connection: close"
    keep_alive: bool  # "Connection: keep-alive" (matters for HTTP/1.0)


def _parse_head(block: bytes) -> tuple[bytes, Headers]:
    """Split a head block (without its final blank line) into its start line and headers."""
    lines = block.split(b"\r\n")
    n_breaks = len(lines) - 1
    if block.count(b"\n") != n_breaks or block.count(b"\r") != n_breaks:
        raise MalformedHeaderError("bare CR or LF in the message head")
    start = lines[0]
    del lines[0]
    # Comprehensions and whole-list checks: a per-line loop costs twice as much.
    headers = [
        (name, value.strip(b" \t"))
        for name, colon, value in [line.partition(b":") for line in lines]
        if colon and name
    ]
    if len(headers) != n_breaks:
        raise MalformedHeaderError(f"malformed header line in {block[:200]!r}")
    names = b"".join([name for name, _ in headers])
    if b" " in names or b"\t" in names:
        raise MalformedHeaderError(f"whitespace in a header name in {block[:200]!r}")
    return start, headers


def _values(low: bytes, key: bytes) -> list[bytes]:
    """Values of header ``key`` (given as ``b"\\nname:"``) in a lowercased head block."""
    found: list[bytes] = []
    at = low.find(key)
    while at >= 0:
        start = at + len(key)
        end = low.find(b"\r", start)
        found.append(low[start : end if end >= 0 else len(low)].strip(b" \t"))
        at = low.find(key, start)
    return found


def _framing(block: bytes) -> _Framing:
    """Find the headers that decide body framing and connection reuse.

    Works on the raw head block, lowercased once, so the usual head costs a few C-level
    searches rather than a Python loop over every header.
    """
    low = block.lower()
    lengths = _values(low, b"\ncontent-length:")
    length = _content_length(lengths) if lengths else None
    if b"\ntransfer-encoding:" not in low and b"\nconnection:" not in low:
        return _Framing(length, False, False, False, False)
    chunked = other = False
    codings = _values(low, b"\ntransfer-encoding:")
    if codings:
        last = b",".join(codings).rsplit(b",", 1)[-1].strip(b" \t")
        chunked = last == b"chunked"
        other = not chunked
    tokens = {t.strip(b" \t") for v in _values(low, b"\nconnection:") for t in v.split(b",")}
    return _Framing(length, chunked, other, b"close" in tokens, b"keep-alive" in tokens)


def _content_length(values: list[bytes]) -> int:
    """Parse Content-Length header values; repeated equal values are accepted."""
    text = values[0]
    if len(values) > 1 or b"," in text:
        found = {v.strip(b" \t") for value in values for v in value.split(b",")}
        if len(found) != 1:
            raise MalformedHeaderError(f"conflicting Content-Length values {sorted(found)!r}")
        text = found.pop()
    if not text.isdigit() or len(text) > 19:
        raise MalformedHeaderError(f"invalid Content-Length {text[:40]!r}")
    return int(text)


def _parse_http_version(version: bytes) -> bytes:
    if version != b"HTTP/1.1" and version != b"HTTP/1.0":
        raise MalformedStartLineError(f"unsupported HTTP version {version[:40]!r}")
    return version


class _MessageReader:
    """The buffer, head splitting and body decoding shared by both readers."""

    __slots__ = (
        "_buf",
        "_eof",
        "_max_head_size",
        "_pos",
        "_remaining",
        "_reusable",
        "_state",
        "_trailer_bytes",
    )

    def __init__(self, *, max_head_size: int = MAX_HEAD_SIZE) -> None:
        self._buf = b""
        self._pos = 0
        self._eof = False
        self._state = _HEAD
        self._remaining = 0
        self._trailer_bytes = 0
        self._reusable = False
        self._max_head_size = max_head_size

    def feed(self, data: bytes) -> None:
        """Add the next bytes received from the peer."""
        if self._pos >= len(self._buf):
            self._buf = data
        else:
            self._buf = self._buf[self._pos :] + data
        self._pos = 0

    def feed_eof(self) -> None:
        """Record that the peer closed its side of the connection."""
        self._eof = True

    @property
    def at_eof(self) -> bool:
        """True once :meth:`feed_eof` was called."""
        return self._eof

    @property
    def buffered(self) -> int:
        """The number of received bytes not yet consumed."""
        return len(self._buf) - self._pos

    @property
    def leftover(self) -> bytes:
        """The received bytes not yet consumed (after a 101: the new protocol's first bytes)."""
        return self._buf[self._pos :]

    @property
    def body_complete(self) -> bool:
        """True once the current message's body has been read to its end."""
        return self._state == _DONE

    def next_message(self) -> bool:
        """Prepare for the next message on a kept-alive connection.

        Returns:
            True if the connection may carry another message: the body was read to its
            end, neither side asked to close, and the framing did not depend on a close.
        """
        ok = self._state == _DONE and self._reusable and not self._eof
        self._state = _HEAD
        return ok

    def _take_head(self) -> bytes | None:
        """Cut the next head block out of the buffer, or return None if it is incomplete."""
        buf, pos = self._buf, self._pos
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            if len(buf) - pos > self._max_head_size:
                raise HeadTooLargeError(f"message head larger than {self._max_head_size} bytes")
            if self._eof:
                if pos >= len(buf):
                    raise NoResponseError("the peer closed the connection without answering")
                raise IncompleteMessageError("the peer closed the connection mid-head")
            return None
        if end - pos > self._max_head_size:
            raise HeadTooLargeError(f"message head larger than {self._max_head_size} bytes")
        self._pos = end + 4
        return buf[pos:end]

    def _start_body(self, framing: _Framing, reusable: bool) -> None:
        self._reusable = reusable
        if framing.chunked:
            self._state = _CHUNK_SIZE
            self._trailer_bytes = 0
        elif framing.length is not None:
            self._remaining = framing.length
            self._state = _LENGTH if framing.length else _DONE
        else:
            self._state = _DONE

    def read_body(self) -> bytes | None:
        """Return the next piece of the current body.

        Returns:
            Non-empty bytes of body (de-chunked), ``b""`` once the body is complete, or
            None when more bytes must be fed first.

        Raises:
            IncompleteMessageError: the peer closed before the end of the body.
            BadChunkError: a chunk-size line or chunk terminator is malformed.
            HeadTooLargeError: the trailer block is too large.
        """
        state = self._state
        if state in (_LENGTH, _CHUNK_DATA):
            buf, pos = self._buf, self._pos
            avail = len(buf) - pos
            if not avail:
                if self._eof:
                    raise IncompleteMessageError(
                        f"the peer closed the connection with {self._remaining} body bytes"
                        " still to come"
                    )
                return None
            n = self._remaining if avail > self._remaining else avail
            data = buf if (pos == 0 and n == len(buf)) else buf[pos : pos + n]
            self._pos = pos + n
            self._remaining -= n
            if not self._remaining:
                self._state = _DONE if state == _LENGTH else _CHUNK_CRLF
            return data
        if state in (_DONE, _UPGRADED):
            return b""
        if state == _UNTIL_CLOSE:
            if self.buffered:
                data = self.leftover
                self._buf, self._pos = b"", 0
                return data
            if self._eof:
                self._state = _DONE
                return b""
            return None
        if state == _HEAD:
            raise RuntimeError("read_body() called before the head was read")
        return self._read_chunked()

    def _read_chunked(self) -> bytes | None:
        while True:
            state = self._state
            if state == _CHUNK_SIZE:
                if not self._read_chunk_size():
                    return None
            elif state == _CHUNK_CRLF:
                pos = self._pos
                if len(self._buf) - pos < 2:
                    self._need_more("a chunk terminator")
                    return None
                if self._buf[pos : pos + 2] != b"\r\n":
                    raise BadChunkError("chunk data not followed by CRLF")
                self._pos = pos + 2
                self._state = _CHUNK_SIZE
            elif state == _TRAILERS:
                if not self._read_trailer_line():
                    return None
            elif state == _DONE:
                return b""
            else:  # _CHUNK_DATA
                return self.read_body()

    def _need_more(self, what: str) -> None:
        if self._eof:
            raise IncompleteMessageError(f"the peer closed the connection mid-body ({what})")

    def _read_chunk_size(self) -> bool:
        buf, pos = self._buf, self._pos
        end = buf.find(b"\r\n", pos)
        if end < 0:
            if len(buf) - pos > _MAX_CHUNK_LINE:
                raise BadChunkError("chunk-size line too long")
            self._need_more("missing final chunk")
            return False
        line = buf[pos:end]
        field = line.split(b";", 1)[0].strip(b" \t")
        if not field or len(field) > _MAX_CHUNK_DIGITS or field.strip(_HEX):
            raise BadChunkError(f"invalid chunk size {line[:40]!r}")
        size = int(field, 16)
        self._pos = end + 2
        if size:
            self._remaining = size
            self._state = _CHUNK_DATA
        else:
            self._state = _TRAILERS
        return True

    def _read_trailer_line(self) -> bool:
        """Consume one trailer line (the blank one ends the body); False if none is whole."""
        buf, pos = self._buf, self._pos
        end = buf.find(b"\r\n", pos)
        if end < 0:
            if len(buf) - pos + self._trailer_bytes > self._max_head_size:
                raise HeadTooLargeError("trailer block too large")
            self._need_more("trailers")
            return False
        self._pos = end + 2
        if end == pos:
            self._state = _DONE
            return True
        self._trailer_bytes += end - pos + 2
        if self._trailer_bytes > self._max_head_size:
            raise HeadTooLargeError("trailer block too large")
        if b":" not in buf[pos:end]:
            raise MalformedHeaderError(f"malformed trailer line {buf[pos:end][:100]!r}")
        return True


class ResponseReader(_MessageReader):
    """Reads the responses arriving on one client connection.

    Usage per exchange: feed bytes until :meth:`read_head` returns a head, then call
    :meth:`read_body` until it returns ``b""``, then :meth:`next_message` to learn
    whether the connection can be reused.
    """

    __slots__ = ()

    def next_message(self) -> bool:
        """Like :meth:`_MessageReader.next_message`; also False if stray bytes follow.

        A server sends nothing unasked, so bytes after a complete response mean the
        connection is out of step and must not be reused.
        """
        return super().next_message() and not self.buffered

    def read_head(self, *, head_request: bool = False) -> ResponseHead | None:
        """Parse the next final response head, skipping interim 1xx responses.

        Args:
            head_request: the request was ``HEAD``, so the response has no body
                whatever its headers say.

        Returns:
            The head, or None when more bytes must be fed first.

        Raises:
            NoResponseError: the peer closed before sending anything.
            IncompleteMessageError: the peer closed mid-head.
            MalformedStartLineError, MalformedHeaderError, HeadTooLargeError.
        """
        if self._state != _HEAD:
            raise RuntimeError("read_head() called while a body is still being read")
        while True:
            block = self._take_head()
            if block is None:
                return None
            line, headers = _parse_head(block)
            head = self._parse_status_line(line, headers)
            status = head.status
            if 100 <= status < 200 and status != 101:
                continue
            self._frame(head, block, head_request)
            return head

    @staticmethod
    def _parse_status_line(line: bytes, headers: Headers) -> ResponseHead:
        version, _, rest = line.partition(b" ")
        code = rest[:3]
        if len(code) != 3 or not code.isdigit() or rest[3:4] not in (b"", b" "):
            raise MalformedStartLineError(f"malformed status line {line[:100]!r}")
        try:
            version = _parse_http_version(version)
        except MalformedStartLineError:
            raise MalformedStartLineError(f"malformed status line {line[:100]!r}") from None
        return ResponseHead(int(code), rest[4:], version, headers)

    def _frame(self, head: ResponseHead, block: bytes, head_request: bool) -> None:
        status = head.status
        if status == 101:
            self._state = _UPGRADED
            self._reusable = False
            return
        framing = _framing(block)
        if head.http_version == b"HTTP/1.1":
            reusable = not framing.close
        else:
            reusable = framing.keep_alive and not framing.close
        if head_request or status == 204 or status == 304:
            self._reusable = reusable
            self._state = _DONE
        elif framing.chunked or framing.length is not None:
            # Both headers at once is a smuggling smell: decode by TE, then close.
            self._start_body(framing, reusable and not (framing.chunked and framing.length))
        else:
            self._reusable = False
            self._state = _UNTIL_CLOSE


class RequestReader(_MessageReader):
    """Reads the requests arriving on one server connection (the FakeEngine's side).

    A request body is framed by ``Transfer-Encoding: chunked`` or ``Content-Length``;
    without either it is empty.
    """

    __slots__ = ()

    def read_head(self) -> RequestHead | None:
        """Parse the next request head.

        Returns:
            The head, or None when more bytes must be fed first.

        Raises:
            NoResponseError: the peer closed between requests (a clean hang-up).
            IncompleteMessageError, MalformedStartLineError, MalformedHeaderError,
            HeadTooLargeError: the bytes are not a request head.
        """
        if self._state != _HEAD:
            raise RuntimeError("read_head() called while a body is still being read")
        block = self._take_head()
        if block is None:
            return None
        line, headers = _parse_head(block)
        parts = line.split(b" ")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise MalformedStartLineError(f"malformed request line {line[:100]!r}")
        head = RequestHead(parts[0], parts[1], _parse_http_version(parts[2]), headers)
        framing = _framing(block)
        if framing.other_encoding:
            raise MalformedHeaderError("unsupported Transfer-Encoding in a request")
        reusable = not framing.close if head.http_version == b"HTTP/1.1" else framing.keep_alive
        self._start_body(framing, reusable)
        return head


def encode_request_head(
    method: bytes, target: bytes, headers: Iterable[tuple[bytes, bytes]]
) -> bytes:
    """Encode a request line and headers, ending with the blank line.

    Args:
        method: ``b"GET"``, ``b"POST"``...
        target: origin-form target, path and query (``b"/_ping"``).
        headers: ``(name, value)`` pairs, sent in order; the caller includes ``Host`` and
            the body's ``Content-Length`` or ``Transfer-Encoding``.

    Raises:
        InvalidRequestError: a CR, LF or space in the method or target, a CR or LF in a
            header, or an empty header name or one holding a colon or space.
    """
    pairs = headers if isinstance(headers, list) else list(headers)
    fields = b"".join([name + b": " + value + b"\r\n" for name, value in pairs])
    head = b"%s %s HTTP/1.1\r\n%s\r\n" % (method, target, fields)
    lines = len(pairs) + 2
    # Whole-block checks: every CR and LF must belong to the CRLFs we put there.
    if head.count(b"\n") != lines or head.count(b"\r") != lines:
        raise InvalidRequestError("CR or LF inside the request line or a header")
    names = [name for name, _ in pairs]
    joined = b"".join(names)
    if b":" in joined or b" " in joined or not all(names):
        raise InvalidRequestError(f"invalid header name among {names!r}")
    if b" " in method or b" " in target or not method or not target:
        raise InvalidRequestError(f"invalid request line {method[:20]!r} {target[:100]!r}")
    return head


def encode_chunk(data: bytes) -> bytes:
    """Frame one non-empty piece of a chunked body (size line, data, CRLF).

    An empty piece returns ``b""``: a zero-size chunk would end the body early, so the
    caller sends :data:`LAST_CHUNK` once at the end instead.
    """
    if not data:
        return b""
    return b"%x\r\n%b\r\n" % (len(data), data)

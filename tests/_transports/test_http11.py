"""The sans-I/O HTTP/1.1 reader and encoder: framing, keep-alive, and every malformed input."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightshuttle_runtime._transports._http11 import (
    MAX_HEAD_SIZE,
    BadChunkError,
    HeadTooLargeError,
    HTTPProtocolError,
    IncompleteMessageError,
    InvalidRequestError,
    MalformedHeaderError,
    MalformedStartLineError,
    NoResponseError,
    RequestReader,
    ResponseHead,
    ResponseReader,
    encode_chunk,
    encode_request_head,
)

PING = (
    b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nOstype: linux\r\n"
    b"Content-Length: 2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOK"
)


def parse(
    pieces: Iterable[bytes], *, head_request: bool = False, eof: bool = True
) -> tuple[ResponseHead, bytes, bool]:
    """Feed ``pieces`` one by one; return the head, the whole body and reusability."""
    reader = ResponseReader()
    head: ResponseHead | None = None
    body: list[bytes] = []
    done = False
    for piece in [*pieces, None]:
        if piece is None:
            if not eof:
                break
            reader.feed_eof()
        else:
            reader.feed(piece)
        if head is None:
            head = reader.read_head(head_request=head_request)
            if head is None:
                continue
        while not done:
            data = reader.read_body()
            if data is None:
                break
            if not data:
                done = True
            body.append(data)
    assert head is not None, "no head parsed"
    assert done, "body not complete"
    return head, b"".join(body), reader.next_message()


def split_every(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# --- well-formed responses -------------------------------------------------------------


def test_content_length_response() -> None:
    head, body, reusable = parse([PING], eof=False)
    assert head.status == 200
    assert head.reason == b"OK"
    assert head.http_version == b"HTTP/1.1"
    assert head.headers[0] == (b"Api-Version", b"1.41")
    assert (b"Content-Type", b"text/plain; charset=utf-8") in head.headers
    assert body == b"OK"
    assert reusable


def test_byte_by_byte_is_the_same() -> None:
    assert parse(split_every(PING, 1), eof=False) == parse([PING], eof=False)


def test_repeated_headers_are_kept_in_order() -> None:
    raw = b"HTTP/1.1 200 OK\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 0\r\nX-A:3\r\n\r\n"
    head, body, _ = parse([raw], eof=False)
    assert [v for k, v in head.headers if k.lower() == b"x-a"] == [b"1", b"2", b"3"]
    assert body == b""


def test_header_values_are_stripped_and_may_be_empty() -> None:
    raw = b"HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Pad: \t v \t\r\nContent-Length: 0\r\n\r\n"
    head, _, _ = parse([raw], eof=False)
    assert head.headers[:2] == [(b"X-Empty", b""), (b"X-Pad", b"v")]


def test_status_line_without_reason() -> None:
    head, _, _ = parse([b"HTTP/1.1 204\r\n\r\n"], eof=False)
    assert (head.status, head.reason) == (204, b"")


def test_chunked_with_extensions_and_trailers() -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n"
        b"1 ; ext\r\n,\r\n"
        b"6\r\n world\r\n"
        b"0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n"
    )
    head, body, reusable = parse([raw], eof=False)
    assert head.status == 200
    assert body == b"hello, world"
    assert reusable


def test_chunked_yields_each_chunk_as_it_arrives() -> None:
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
    assert reader.read_head() is not None
    assert reader.read_body() == b"abc"
    assert reader.read_body() is None  # nothing more yet: the stream is not over
    reader.feed(b"2\r\nde\r\n")
    assert reader.read_body() == b"de"
    reader.feed(b"0\r\n\r\n")
    assert reader.read_body() == b""


def test_uppercase_hex_chunk_size() -> None:
    body = b"x" * 26
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1A\r\n" + body + b"\r\n0\r\n\r\n"
    assert parse([raw], eof=False)[1] == body


def test_read_until_close() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst "
    _, body, reusable = parse([raw, b"second"])
    assert body == b"first second"
    assert not reusable


def test_non_chunked_transfer_encoding_reads_until_close() -> None:
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc"
    _, body, reusable = parse([raw])
    assert body == b"abc"
    assert not reusable


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status: int) -> None:
    raw = f"HTTP/1.1 {status} X\r\nApi-Version: 1.41\r\n\r\n".encode()
    head, body, reusable = parse([raw], eof=False)
    assert (head.status, body, reusable) == (status, b"", True)


def test_head_request_has_no_body_despite_content_length() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
    _, body, reusable = parse([raw], head_request=True, eof=False)
    assert body == b""
    assert reusable


def test_interim_responses_are_skipped() -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n" + PING
    head, body, _ = parse([raw], eof=False)
    assert (head.status, body) == (200, b"OK")


def test_101_keeps_the_bytes_that_follow() -> None:
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n\x01raw")
    head = reader.read_head()
    assert head is not None and head.status == 101
    assert reader.leftover == b"\x01raw"
    assert reader.read_body() == b""
    assert not reader.next_message()


def test_content_length_zero_is_complete_at_once() -> None:
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert reader.read_head() is not None
    assert reader.body_complete


def test_equal_repeated_content_lengths_are_accepted() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nOK"
    assert parse([raw], eof=False)[1] == b"OK"


def test_two_responses_on_one_connection() -> None:
    reader = ResponseReader()
    reader.feed(PING)
    assert reader.read_head() is not None
    assert reader.read_body() == b"OK"
    assert reader.read_body() == b""
    assert reader.next_message()
    reader.feed(PING.replace(b"OK", b"NO"))
    head = reader.read_head()
    assert head is not None and head.status == 200
    assert reader.read_body() == b"NO"


# --- keep-alive --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "reusable"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0", True),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0", False),
        (b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0", False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0", False),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0", True),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5", False),
    ],
)
def test_keep_alive_rules(head: bytes, reusable: bool) -> None:
    body = b"0\r\n\r\n" if b"chunked" in head else b""
    assert parse([head + b"\r\n\r\n" + body], eof=False)[2] is reusable


def test_stray_bytes_after_a_response_forbid_reuse() -> None:
    assert not parse([PING + b"junk"], eof=False)[2]


def test_body_not_read_to_the_end_forbids_reuse() -> None:
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    assert reader.read_head() is not None
    assert reader.read_body() == b"abc"
    assert not reader.next_message()


# --- malformed input -----------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        b"HTTP/1.1 two OK",
        b"HTTP/1.1 20 OK",
        b"HTTP/1.1 2000 OK",
        b"HTTP/2 200 OK",
        b"HTTP/1.1200 OK",
        b"ICY 200 OK",
        b"",
        b"\x00\xff\xfe",
    ],
)
def test_malformed_status_line(line: bytes) -> None:
    with pytest.raises(MalformedStartLineError):
        parse([line + b"\r\nContent-Length: 0\r\n\r\n"], eof=False)


@pytest.mark.parametrize(
    "line",
    [
        b"no colon here",
        b": empty name",
        b"Bad Name: space in name",
        b"Tab\tName: x",
        b" folded: continuation",
        b"X-A: bare\nLF",
        b"X-A: bare\rCR",
    ],
)
def test_malformed_header(line: bytes) -> None:
    with pytest.raises(MalformedHeaderError):
        parse([b"HTTP/1.1 200 OK\r\n" + line + b"\r\nContent-Length: 0\r\n\r\n"], eof=False)


@pytest.mark.parametrize(
    "value", [b"abc", b"-1", b"+5", b"1.0", b"", b"99999999999999999999999", b"1, 2"]
)
def test_invalid_content_length(value: bytes) -> None:
    with pytest.raises(MalformedHeaderError):
        parse([b"HTTP/1.1 200 OK\r\nContent-Length: " + value + b"\r\n\r\n"], eof=False)


def test_conflicting_content_lengths() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc"
    with pytest.raises(MalformedHeaderError):
        parse([raw], eof=False)


@pytest.mark.parametrize(
    "size_line", [b"zz", b"0x10", b"+5", b"1_0", b"-1", b"", b"; only-ext", b"1" * 17]
)
def test_bad_chunk_size(size_line: bytes) -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + size_line + b"\r\nx\r\n0\r\n\r\n"
    )
    with pytest.raises(BadChunkError):
        parse([raw], eof=False)


def test_chunk_not_followed_by_crlf() -> None:
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n"
    with pytest.raises(BadChunkError):
        parse([raw], eof=False)


def test_endless_chunk_size_line() -> None:
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"0" * 5000
    with pytest.raises(BadChunkError):
        parse([raw], eof=False)


def test_malformed_trailer() -> None:
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnot a trailer\r\n\r\n"
    with pytest.raises(MalformedHeaderError):
        parse([raw], eof=False)


def test_oversized_head_without_end() -> None:
    reader = ResponseReader()
    reader.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(HeadTooLargeError):
        for _ in range(MAX_HEAD_SIZE // 1000 + 2):
            reader.feed(b"X-Filler: " + b"a" * 990 + b"\r\n")
            assert reader.read_head() is None


def test_oversized_complete_head() -> None:
    reader = ResponseReader(max_head_size=100)
    reader.feed(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200 + b"\r\n\r\n")
    with pytest.raises(HeadTooLargeError):
        reader.read_head()


def test_oversized_trailers() -> None:
    reader = ResponseReader(max_head_size=100)
    reader.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n")
    assert reader.read_head() is not None
    with pytest.raises(HeadTooLargeError):
        for _ in range(20):
            reader.feed(b"X-T: " + b"t" * 20 + b"\r\n")
            assert reader.read_body() is None


# --- early close -------------------------------------------------------------------


def test_close_before_any_byte() -> None:
    reader = ResponseReader()
    reader.feed_eof()
    with pytest.raises(NoResponseError):
        reader.read_head()


def test_close_mid_head() -> None:
    with pytest.raises(IncompleteMessageError) as caught:
        parse([b"HTTP/1.1 200 OK\r\nContent-Le"])
    assert not isinstance(caught.value, NoResponseError)


def test_close_mid_content_length_body() -> None:
    with pytest.raises(IncompleteMessageError, match="6 body bytes"):
        parse([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123"])


@pytest.mark.parametrize(
    "tail", [b"5\r\nhello\r\n", b"5\r\nhel", b"5\r\nhello", b"5", b"0\r\n", b"0\r\nX: y\r\n"]
)
def test_close_before_the_final_chunk(tail: bytes) -> None:
    with pytest.raises(IncompleteMessageError):
        parse([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + tail])


def test_misuse_is_a_runtime_error() -> None:
    reader = ResponseReader()
    with pytest.raises(RuntimeError):
        reader.read_body()
    reader.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
    assert reader.read_head() is not None
    with pytest.raises(RuntimeError):
        reader.read_head()


# --- requests (the FakeEngine's side) ------------------------------------------------


def read_request(data: bytes) -> tuple[bytes, bytes, bytes]:
    reader = RequestReader()
    reader.feed(data)
    head = reader.read_head()
    assert head is not None
    body = []
    while chunk := reader.read_body():
        body.append(chunk)
    assert chunk == b""
    return head.method, head.target, b"".join(body)


def test_request_reader_frames_bodies() -> None:
    assert read_request(b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n") == (b"GET", b"/_ping", b"")
    assert read_request(b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc") == (
        b"POST",
        b"/a",
        b"abc",
    )
    chunked = (
        b"PUT /b?x=1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"
    )
    assert read_request(chunked) == (b"PUT", b"/b?x=1", b"abc")


@pytest.mark.parametrize(
    "line", [b"GET /", b"GET  / HTTP/1.1", b"GET / HTTP/3", b"GET / HTTP/1.1 extra"]
)
def test_malformed_request_line(line: bytes) -> None:
    reader = RequestReader()
    reader.feed(line + b"\r\n\r\n")
    with pytest.raises(MalformedStartLineError):
        reader.read_head()


def test_request_with_unknown_transfer_encoding() -> None:
    reader = RequestReader()
    reader.feed(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")
    with pytest.raises(MalformedHeaderError):
        reader.read_head()


# --- encoding ------------------------------------------------------------------------


def test_encode_request_head() -> None:
    head = encode_request_head(b"GET", b"/v1.41/info", [(b"Host", b"docker"), (b"X-A", b"1")])
    assert head == b"GET /v1.41/info HTTP/1.1\r\nHost: docker\r\nX-A: 1\r\n\r\n"


@pytest.mark.parametrize(
    ("method", "target", "headers"),
    [
        (b"GET", b"/a\r\nX-Evil: 1", []),
        (b"GET", b"/a b", []),
        (b"GE T", b"/", []),
        (b"", b"/", []),
        (b"GET", b"", []),
        (b"GET", b"/", [(b"X-A", b"v\r\nX-Evil: 1")]),
        (b"GET", b"/", [(b"X-A", b"bare\nLF")]),
        (b"GET", b"/", [(b"X-A", b"bare\rCR")]),
        (b"GET", b"/", [(b"", b"v")]),
        (b"GET", b"/", [(b"X:A", b"v")]),
        (b"GET", b"/", [(b"X A", b"v")]),
    ],
)
def test_encode_request_head_rejects_injection(
    method: bytes, target: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    with pytest.raises(InvalidRequestError):
        encode_request_head(method, target, headers)


def test_encode_chunk() -> None:
    assert encode_chunk(b"hello") == b"5\r\nhello\r\n"
    assert encode_chunk(b"x" * 255) == b"ff\r\n" + b"x" * 255 + b"\r\n"
    assert encode_chunk(b"") == b""


def test_encoded_chunks_round_trip() -> None:
    pieces = [b"a", b"bc" * 100, b"\r\n0\r\n\r\n"]
    raw = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    raw += b"".join(encode_chunk(p) for p in pieces) + b"0\r\n\r\n"
    assert read_request(raw)[2] == b"".join(pieces)


# --- properties ----------------------------------------------------------------------

header_names = st.from_regex(rb"\A[A-Za-z][A-Za-z0-9-]{0,15}\Z")
header_values = st.from_regex(rb"\A[ -~]{0,30}\Z").map(lambda v: v.strip(b" \t"))
bodies = st.binary(max_size=300)


@st.composite
def responses(draw: st.DrawFn) -> tuple[bytes, bytes, bool]:
    """A valid response, its body, and whether it ends at EOF (read-until-close)."""
    names = draw(st.lists(header_names, max_size=6))
    skip = (b"content-length", b"transfer-encoding", b"connection")
    headers = [(n, draw(header_values)) for n in names if n.lower() not in skip]
    body = draw(bodies)
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    if framing == "length":
        headers.append((b"Content-Length", str(len(body)).encode()))
        payload = body
    elif framing == "chunked":
        headers.append((b"Transfer-Encoding", b"chunked"))
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=5)))
        chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        ext = draw(st.sampled_from([b"", b";a=b", b" ; x"]))
        payload = b"".join(b"%x%b\r\n%b\r\n" % (len(c), ext, c) for c in chunks if c)
        payload += b"0\r\n" + draw(st.sampled_from([b"", b"X-T: 1\r\n"])) + b"\r\n"
    else:
        payload = body
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(n + b": " + v + b"\r\n" for n, v in headers)
    return head + b"\r\n" + payload, body, framing == "close"


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=300, deadline=None)
@given(responses(), st.lists(st.integers(0, 1000), max_size=12))
def test_any_split_gives_the_same_parse(
    response: tuple[bytes, bytes, bool], cuts: list[int]
) -> None:
    raw, body, until_close = response
    whole = parse([raw], eof=until_close)
    assert whole[1] == body
    assert parse(split_at(raw, cuts), eof=until_close) == whole


def drain(pieces: list[bytes]) -> None:
    """Feed everything then EOF; the reader must finish or raise HTTPProtocolError."""
    reader = ResponseReader()
    head = None
    for piece in [*pieces, None]:
        if piece is None:
            reader.feed_eof()
        else:
            reader.feed(piece)
        if head is None:
            head = reader.read_head()
            if head is None:
                continue
        for _ in range(10_000):  # a bound: the reader must never spin
            data = reader.read_body()
            if data is None:
                break
            if not data:
                return
        else:
            raise AssertionError("read_body() kept returning data")
    raise AssertionError("after EOF the reader neither finished nor raised")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=8))
def test_garbage_is_a_typed_error(data: bytes, cuts: list[int]) -> None:
    with contextlib.suppress(HTTPProtocolError):
        drain(split_at(data, cuts))


@settings(max_examples=300, deadline=None)
@given(responses(), st.data())
def test_truncation_is_a_typed_error(
    response: tuple[bytes, bytes, bool], data: st.DataObject
) -> None:
    raw, _, until_close = response
    cut = data.draw(st.integers(0, len(raw) - 1))
    if until_close and raw.find(b"\r\n\r\n") + 4 <= cut:
        drain([raw[:cut]])  # a read-until-close body may end anywhere
        return
    with pytest.raises(IncompleteMessageError):
        drain([raw[:cut]])


@settings(max_examples=200, deadline=None)
@given(responses(), st.binary(min_size=1, max_size=50), st.integers(0, 1000))
def test_corruption_never_escapes_as_another_error(
    response: tuple[bytes, bytes, bool], junk: bytes, where: int
) -> None:
    raw, _, _ = response
    at = min(where, len(raw))
    with contextlib.suppress(HTTPProtocolError):
        drain([raw[:at] + junk + raw[at:]])

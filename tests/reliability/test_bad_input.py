"""Bad input from both sides: the engine's bytes and JSON, and the caller's arguments.

Engine side: every decoder (multiplexed frames, raw, timestamps, JSON lines, text, and our
HTTP/1.1 framing) gives the right output or a typed error for any split, any garbage and any
truncation, never a hang, a bare ValueError/IndexError/KeyError, or a buffer larger than its
input. Non-UTF-8 log bytes pass through the bytes API unchanged. Malformed engine JSON is a
DecodeError naming the endpoint and the field. Caller side: a bad argument is an
InvalidArgumentError (or the runtime's InvalidSpecError) before any request is made.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lightshuttle_runtime import (
    DecodeError,
    DockerClient,
    DockerError,
    Frame,
    InvalidArgumentError,
)
from lightshuttle_runtime._streams import (
    FrameDecoder,
    JSONLinesDecoder,
    LogDecoder,
    TextDecoder,
    TimestampSplitter,
)
from lightshuttle_runtime._transports._http11 import (
    MAX_HEAD_SIZE,
    HTTPProtocolError,
    IncompleteMessageError,
    ResponseReader,
)
from lightshuttle_runtime.models import ContainerCreateRequest, EventMessage
from lightshuttle_runtime.runtime import (
    ContainerRuntimeError,
    ContainerSpec,
    DockerRuntime,
    InvalidSpecError,
    PortSpec,
)
from lightshuttle_runtime.testing import (
    FakeEngine,
    respond,
    respond_json,
    stream_chunks,
)

from .conftest import CONTAINER, Script, client_for, examples, frame

FIXED_CLOCK = datetime(2030, 1, 1, tzinfo=UTC)
#: Errors a decoder may raise on bad bytes; anything else is a bug.
TYPED = (DockerError, HTTPProtocolError)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


cut_lists = st.lists(st.integers(0, 10_000), max_size=10)


# -- HTTP/1.1 framing -------------------------------------------------------------------------


def read_response(pieces: list[bytes], *, eof: bool = True) -> tuple[int, bytes] | None:
    """Feed ``pieces`` to a ResponseReader; return (status, body), or None if it needs more.

    Checks on the way that the reader never holds more than its input and, while reading a
    head, never more than MAX_HEAD_SIZE plus the last piece.
    """
    reader = ResponseReader()
    head = None
    body = b""
    fed = 0
    queue = list(pieces)
    while True:
        if head is None:
            head = reader.read_head()
            assert reader.buffered <= fed
            if head is None:
                assert reader.buffered <= MAX_HEAD_SIZE + (len(pieces[-1]) if pieces else 0)
        if head is not None:
            data = reader.read_body()
            if data == b"":
                return head.status, body
            if data:
                body += data
                continue
        if queue:
            piece = queue.pop(0)
            fed += len(piece)
            reader.feed(piece)
        elif eof and not reader.at_eof:
            reader.feed_eof()
        else:
            assert not eof, "the reader asked for more bytes after the end of the input"
            return None


@st.composite
def http_responses(draw: st.DrawFn) -> tuple[bytes, int, bytes]:
    status = draw(st.sampled_from([200, 201, 400, 404, 409, 500]))
    body = draw(st.binary(max_size=300))
    if draw(st.booleans()):
        cuts = draw(cut_lists)
        chunks = [c for c in split(body, cuts) if c]
        encoded = b"".join(b"%x\r\n%b\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
        framing = b"Transfer-Encoding: chunked\r\n"
    else:
        encoded = body
        framing = b"Content-Length: %d\r\n" % len(body)
    head = b"HTTP/1.1 %d X\r\nApi-Version: 1.41\r\n%b\r\n" % (status, framing)
    return head + encoded, status, body


@given(http_responses())
@settings(max_examples=examples(60), suppress_health_check=[HealthCheck.too_slow])
def test_http_truncation_at_every_offset_is_incomplete(
    response: tuple[bytes, int, bytes],
) -> None:
    whole, status, body = response
    assert read_response([whole]) == (status, body)
    for offset in range(len(whole)):
        with pytest.raises(IncompleteMessageError):
            read_response([whole[:offset]])
        assert read_response([whole[:offset]], eof=False) is None


@given(http_responses(), cut_lists, st.binary(min_size=1, max_size=40), st.integers(0, 10_000))
@settings(max_examples=examples(200))
def test_http_garbage_spliced_in_is_a_typed_error_or_a_parse(
    response: tuple[bytes, int, bytes], cuts: list[int], junk: bytes, at: int
) -> None:
    whole, _status, _body = response
    at %= len(whole) + 1
    mangled = whole[:at] + junk + whole[at:]
    try:
        first = read_response([mangled])
    except HTTPProtocolError as exc:
        with pytest.raises(type(exc)):
            read_response(split(mangled, cuts))
    else:
        assert read_response(split(mangled, cuts)) == first


@given(st.binary(min_size=200, max_size=3000))
@settings(max_examples=examples(30), deadline=None)
def test_an_endless_head_is_refused_not_buffered(seed: bytes) -> None:
    reader = ResponseReader()
    filler = seed.replace(b"\r", b"-")  # no CRLF at all: the head never ends
    with pytest.raises(HTTPProtocolError):
        for _ in range(MAX_HEAD_SIZE // len(filler) + 2):
            reader.feed(filler)
            assert reader.read_head() is None
            assert reader.buffered <= MAX_HEAD_SIZE + len(filler)
        reader.feed_eof()
        reader.read_head()


# -- stream decoders: no amplification, typed errors ------------------------------------------


@given(st.binary(max_size=600), cut_lists, st.booleans(), st.booleans())
@settings(max_examples=examples(300))
def test_log_decoder_on_garbage(data: bytes, cuts: list[int], tty: bool, stamps: bool) -> None:
    decoder: LogDecoder[Any] = LogDecoder(tty=tty, timestamps=stamps, clock=lambda: FIXED_CLOCK)
    out: list[Any] = []
    try:
        for piece in split(data, cuts):
            out += decoder.feed(piece)
        out += decoder.close()
    except DockerError:
        pass
    emitted = sum(len(item.data) for item in out)
    assert emitted <= len(data)
    if tty and not stamps:
        assert b"".join(item.data for item in out) == data


@given(st.binary(max_size=600), cut_lists)
@settings(max_examples=examples(200))
def test_json_lines_on_garbage_holds_no_more_than_its_input(data: bytes, cuts: list[int]) -> None:
    decoder: JSONLinesDecoder[EventMessage] = JSONLinesDecoder(EventMessage)
    fed = 0
    try:
        for piece in split(data, cuts):
            fed += len(piece)
            decoder.feed(piece)
            assert sum(len(p) for p in decoder._parts) <= fed
        decoder.close()
    except DockerError:
        pass


@given(st.lists(st.tuples(st.sampled_from([1, 2]), st.binary(min_size=1, max_size=60)), max_size=8))
@settings(max_examples=examples(100), deadline=None)
def test_timestamp_splitter_holds_at_most_a_prefix_per_stream(
    frames: list[tuple[int, bytes]],
) -> None:
    splitter = TimestampSplitter(lambda: FIXED_CLOCK)
    for stream, data in frames:
        splitter.feed(Frame(stream, data))
        assert all(len(state.pending) <= 40 for state in splitter._states.values())


@given(st.lists(st.integers(0, 0x10FFFF).filter(lambda c: not 0xD800 <= c <= 0xDFFF), max_size=40))
@settings(max_examples=examples(100), deadline=None)
def test_text_decoder_keeps_characters_whole_across_interleaved_frames(
    codepoints: list[int],
) -> None:
    """Every character of stdout is cut in two frames, with a stderr frame in between."""
    text = "".join(map(chr, codepoints))
    decoder = TextDecoder()
    out = {1: "", 2: ""}
    for char in text:
        encoded = char.encode()
        half = max(1, len(encoded) // 2)
        pieces = [Frame(1, encoded[:half]), Frame(2, "é".encode()), Frame(1, encoded[half:])]
        for piece in pieces:
            if piece.data:
                for chunk in decoder.feed(piece):
                    out[chunk.stream] += chunk.text
    for chunk in decoder.close():
        out[chunk.stream] += chunk.text
    assert out == {1: text, 2: "é" * len(text)}


STAMP = b"2024-01-02T03:04:05.123456789Z "


@given(
    st.lists(st.lists(st.sampled_from([STAMP, b"text ", b"x", b"\n", b"\r\n"]), max_size=8)),
    cut_lists,
)
@settings(max_examples=examples(200), deadline=None)
def test_tty_logs_with_timestamps_do_not_depend_on_read_cuts(
    lines: list[list[bytes]], cuts: list[int]
) -> None:
    """Regression (found by the fuzz target): in a raw TTY body, a read that happened to start
    with timestamp-like text in the middle of a line lost that text as a "prefix"."""
    body = b"".join(STAMP + b"".join(parts) + b"\n" for parts in lines)

    def decoded(pieces: list[bytes]) -> list[tuple[datetime, bytes]]:
        decoder: LogDecoder[Any] = LogDecoder(tty=True, timestamps=True, clock=lambda: FIXED_CLOCK)
        items = [item for piece in pieces for item in decoder.feed(piece)] + decoder.close()
        return [(item.timestamp, item.data) for item in items]

    def joined(items: list[tuple[datetime, bytes]]) -> list[tuple[datetime, bytes]]:
        out: list[tuple[datetime, bytes]] = []
        for stamp, data in items:
            if out and out[-1][0] == stamp and not out[-1][1].endswith(b"\n"):
                out[-1] = (stamp, out[-1][1] + data)
            else:
                out.append((stamp, data))
        return out

    assert joined(decoded(split(body, cuts))) == joined(decoded([body]))


@pytest.mark.parametrize("cut", [None, 2], ids=["whole", "cut"])
def test_json_lines_whitespace_is_json_whitespace(cut: int | None) -> None:
    """Regression (found by the fuzz target): a vertical tab or form feed after a record was
    dropped as whitespace when it arrived alone, an error when it came with the record."""
    for body in (b"{}\x0b", b'{"a":1}\n\x0c\n'):
        decoder: JSONLinesDecoder[Any] = JSONLinesDecoder()
        pieces = [body] if cut is None else [body[:cut], body[cut:]]
        with pytest.raises(DockerError):
            for piece in pieces:
                decoder.feed(piece)
            decoder.close()


def test_frame_decoder_with_a_huge_announced_size_holds_only_what_came() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(b"\x01\x00\x00\x00\xff\xff\xff\xff" + b"x" * 100) == []
    assert sum(len(p) for p in decoder._parts) == 100


# -- bytes that are not UTF-8, end to end -----------------------------------------------------

NOT_UTF8 = [b"\xff\xfe", b"\xc3", b"\x80abc", b"caf\xe9\n", b"\xed\xa0\x80", b"\x00\x01\x1b[0m"]


@pytest.mark.anyio
@pytest.mark.parametrize("tty", [False, True], ids=["multiplexed", "tty"])
async def test_non_utf8_log_bytes_pass_through_unchanged(
    fake: FakeEngine, script: Script, sock_path: str, tty: bool
) -> None:
    rng = random.Random(5)
    payloads = [*NOT_UTF8, *(rng.randbytes(rng.randint(1, 300)) for _ in range(30))]
    if tty:
        body = b"".join(payloads)
        chunks = [body[i : i + 7] for i in range(0, len(body), 7)]
    else:
        stream_of = [1 + i % 2 for i in range(len(payloads))]
        body = b"".join(frame(s, p) for s, p in zip(stream_of, payloads, strict=True))
        chunks = [body[i : i + 5] for i in range(0, len(body), 5)]  # frames cut anywhere
    script.logs = lambda _r: stream_chunks(chunks)
    async with (
        client_for(sock_path) as docker,
        docker.containers.logs(CONTAINER, tty=tty) as stream,
    ):
        frames = [item async for item in stream]
    if tty:
        assert b"".join(f.data for f in frames) == body
        assert {f.stream for f in frames} == {1}
    else:
        for number in (1, 2):
            sent = b"".join(p for s, p in zip(stream_of, payloads, strict=True) if s == number)
            assert b"".join(f.data for f in frames if f.stream == number) == sent


@pytest.mark.anyio
async def test_text_helper_over_a_live_like_stream(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    words = "naïve → 日本語 🐳 done\n"
    out = words.encode()
    cut = [out[:3], out[3:7], out[7:15], out[15:]]  # cuts inside ï, →, 日 and 🐳
    body = b"".join(frame(1, c) + frame(2, b"\xe2\x82") + frame(2, b"\xac") for c in cut)
    script.logs = lambda _r: stream_chunks([body[i : i + 3] for i in range(0, len(body), 3)])
    text = TextDecoder()
    seen = {1: "", 2: ""}
    async with (
        client_for(sock_path) as docker,
        docker.containers.logs(CONTAINER, tty=False) as stream,
    ):
        async for item in stream:
            for chunk in text.feed(item):
                seen[chunk.stream] += chunk.text
    assert seen == {1: words, 2: "€" * 4}


# -- malformed engine JSON --------------------------------------------------------------------

Call = Callable[[DockerClient], Awaitable[object]]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("answer", "call", "endpoint", "field"),
    [
        ({"Id": 5}, lambda d: d.containers.inspect(CONTAINER), "/containers/c0ffee/json", "$.Id"),
        ({"Name": "x"}, lambda d: d.containers.inspect(CONTAINER), "/containers/c0ffee/json", "Id"),
        (
            {"Id": "x", "State": {"Running": "yes"}},
            lambda d: d.containers.inspect(CONTAINER),
            "/containers/c0ffee/json",
            "$.State.Running",
        ),
        ({"Id": "x"}, lambda d: d.containers.list(), "/containers/json", "array"),
        ([{"Id": None}], lambda d: d.containers.list(), "/containers/json", "$[0].Id"),
        ({"Warnings": []}, lambda d: d.containers.create(ContainerCreateRequest()), "create", "Id"),
    ],
    ids=["wrong-type", "missing-id", "nested", "object-for-list", "null-id", "create"],
)
async def test_malformed_engine_json_is_a_decode_error_naming_endpoint_and_field(
    fake: FakeEngine, sock_path: str, answer: object, call: Call, endpoint: str, field: str
) -> None:
    fake.enqueue(respond_json(answer))
    async with client_for(sock_path) as docker:
        with pytest.raises(DecodeError) as caught:
            await call(docker)
    assert caught.value.endpoint is not None and endpoint in caught.value.endpoint
    assert field in str(caught.value)


@pytest.mark.anyio
async def test_not_json_at_all_is_a_decode_error(fake: FakeEngine, sock_path: str) -> None:
    fake.enqueue(respond(200, b"<html>502 Bad Gateway</html>"))
    async with client_for(sock_path) as docker:
        with pytest.raises(DecodeError, match="not valid JSON") as caught:
            await docker.containers.inspect(CONTAINER)
    assert caught.value.endpoint == "GET /containers/c0ffee/json"
    assert "502 Bad Gateway" in str(caught.value)


@pytest.mark.anyio
async def test_an_event_of_the_wrong_shape_is_a_decode_error_naming_endpoint_and_field(
    fake: FakeEngine, script: Script, sock_path: str
) -> None:
    script.events = lambda _r: stream_chunks([b'{"Type": "container", "Action": 5}\n'])
    async with client_for(sock_path) as docker:
        with pytest.raises(DecodeError, match=r"\$\.Action") as caught:
            async with docker.events.stream() as events:
                async for _message in events:
                    pass
    assert caught.value.endpoint == "GET /events"
    assert caught.value.path == "/v1.41/events"


# -- bad arguments: refused before any request ------------------------------------------------

BAD_CALLS: dict[str, Call] = {
    "name with a space": lambda d: d.containers.create(ContainerCreateRequest(), name="my app"),
    "name of one char": lambda d: d.containers.create(ContainerCreateRequest(), name="a"),
    "name starting with a dash": lambda d: d.containers.create(ContainerCreateRequest(), name="-x"),
    "dot-dot reference": lambda d: d.containers.inspect("../images/busybox"),
    "empty reference": lambda d: d.containers.start(""),
    "query in a reference": lambda d: d.containers.remove("x?force=1"),
    "filter value not a list": lambda d: d.containers.list(filters={"label": 5}),  # type: ignore[dict-item]
    "filter list of ints": lambda d: d.containers.list(filters={"label": [1, 2]}),  # type: ignore[list-item]
    "filters not a mapping": lambda d: d.containers.list(filters="label=x"),  # type: ignore[arg-type]
    "negative stop grace": lambda d: d.containers.stop(CONTAINER, t=-1),
    "negative logs tail": lambda d: d.containers.logs(CONTAINER, tty=False, tail=-1).open(),
    "negative logs since": lambda d: d.containers.logs(CONTAINER, tty=False, since=-5).open(),
    "logs of nothing": lambda d: d.containers.logs(
        CONTAINER, tty=False, stdout=False, stderr=False
    ).open(),
    "event filters not a list": lambda d: d.events.stream(filters={"type": 3}).open(),  # type: ignore[dict-item]
    "pull of a bad reference": lambda d: d.images.pull("UPPER/Case:tag").open(),
    "archive of an empty path": lambda d: d.archives.stat(CONTAINER, ""),
}


@pytest.mark.anyio
@pytest.mark.parametrize("call", list(BAD_CALLS.values()), ids=list(BAD_CALLS))
async def test_bad_arguments_are_refused_before_any_request(
    fake: FakeEngine, sock_path: str, call: Call
) -> None:
    async with client_for(sock_path) as docker:
        with pytest.raises(InvalidArgumentError):
            await call(docker)
    assert fake.requests == []
    assert fake.connections_accepted == 0


BAD_SPECS: dict[str, ContainerSpec] = {
    "container port 0": ContainerSpec("web", "busybox:local", ports=[PortSpec(0)]),
    "container port 65536": ContainerSpec("web", "busybox:local", ports=[PortSpec(65536)]),
    "host port 70000": ContainerSpec("web", "busybox:local", ports=[PortSpec(80, 70000)]),
    "negative host port": ContainerSpec("web", "busybox:local", ports=[PortSpec(80, -1)]),
    "bool port": ContainerSpec("web", "busybox:local", ports=[PortSpec(True)]),
    "bad protocol": ContainerSpec("web", "busybox:local", ports=[PortSpec(80, protocol="icmp")]),  # type: ignore[arg-type]
    "bad name": ContainerSpec("no/slash", "busybox:local"),
    "bad image": ContainerSpec("web", "Busybox:Local"),
    "relative working dir": ContainerSpec("web", "busybox:local", working_dir="relative"),
}


@pytest.mark.anyio
@pytest.mark.parametrize("spec", list(BAD_SPECS.values()), ids=list(BAD_SPECS))
async def test_bad_specs_are_refused_before_any_request(
    fake: FakeEngine, sock_path: str, spec: ContainerSpec
) -> None:
    async with client_for(sock_path) as docker:
        with pytest.raises(InvalidSpecError):
            await DockerRuntime(docker).start(spec)
    assert fake.connections_accepted == 0


@pytest.mark.anyio
async def test_negative_grace_is_refused_before_any_request(
    fake: FakeEngine, sock_path: str
) -> None:
    async with client_for(sock_path) as docker:
        with pytest.raises(ContainerRuntimeError, match=r"grace must not be negative \(got -1 s\)"):
            await DockerRuntime(docker).stop(CONTAINER, timedelta(seconds=-1))  # type: ignore[arg-type]
    assert fake.connections_accepted == 0


@pytest.mark.parametrize(
    "options",
    [{"timeout": -1.0}, {"connect_timeout": -0.5}, {"max_connections": 0}, {"api_version": "v1"}],
    ids=["timeout", "connect-timeout", "max-connections", "api-version"],
)
def test_bad_client_options_are_refused_at_construction(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError):
        DockerClient("unix:///nonexistent.sock", **options)


@given(st.text(max_size=30))
@settings(max_examples=examples(100), deadline=None)
def test_any_container_name_is_accepted_or_refused_cleanly(name: str) -> None:
    async def attempt() -> None:
        async with DockerClient("unix:///nonexistent/ls.sock", api_version="1.41") as docker:
            try:
                await docker.containers.create(ContainerCreateRequest(), name=name)
            except InvalidArgumentError:
                return
            except DockerError as exc:
                # a valid name went on to the (missing) socket
                assert type(exc).__name__ == "SocketNotFoundError"

    anyio.run(attempt)

"""FrameDecoder: Docker's multiplexed stdout/stderr framing."""

from __future__ import annotations

import itertools
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightshuttle_runtime._errors import StreamDesyncError, StreamError, StreamTruncatedError
from lightshuttle_runtime._streams import STDERR, STDOUT, Frame, FrameDecoder


def header(stream_type: int, size: int, reserved: bytes = b"\0\0\0") -> bytes:
    return bytes([stream_type]) + reserved + struct.pack(">I", size)


def frame(stream_type: int, payload: bytes) -> bytes:
    return header(stream_type, len(payload)) + payload


def decode_chunks(chunks: list[bytes]) -> list[Frame]:
    decoder = FrameDecoder()
    frames: list[Frame] = []
    for chunk in chunks:
        frames += decoder.feed(chunk)
    frames += decoder.close()
    return frames


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(body), *(cut % (len(body) + 1) for cut in cuts)})
    return [body[a:b] for a, b in itertools.pairwise(points)]


def test_frames_of_each_stream_type() -> None:
    body = frame(0, b"in") + frame(1, b"out") + frame(2, b"err")
    assert decode_chunks([body]) == [
        Frame(STDOUT, b"in"),
        Frame(STDOUT, b"out"),
        Frame(STDERR, b"err"),
    ]


def test_zero_length_frames_are_skipped() -> None:
    body = frame(1, b"") + frame(2, b"x") + frame(2, b"")
    assert decode_chunks([body]) == [Frame(STDERR, b"x")]


def test_byte_by_byte_feed() -> None:
    body = frame(1, b"hello\n") + frame(2, b"oops\n")
    decoder = FrameDecoder()
    frames = [f for i in range(len(body)) for f in decoder.feed(body[i : i + 1])]
    assert frames == [Frame(STDOUT, b"hello\n"), Frame(STDERR, b"oops\n")]
    assert decoder.close() == []


def test_large_payload_across_many_feeds() -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    body = frame(1, payload) + frame(2, b"tail")
    chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]
    assert decode_chunks(chunks) == [Frame(STDOUT, payload), Frame(STDERR, b"tail")]


def test_frame_completes_exactly_at_feed_end() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(header(1, 4) + b"ab") == []
    assert decoder.feed(b"cd") == [Frame(STDOUT, b"abcd")]
    assert decoder.feed(frame(2, b"e")) == [Frame(STDERR, b"e")]


def test_mutable_input_is_copied() -> None:
    decoder = FrameDecoder()
    buffer = bytearray(header(1, 6) + b"abc")
    assert decoder.feed(buffer) == []  # type: ignore[arg-type]
    buffer[:] = b"xxxxxxxxx"
    assert decoder.feed(memoryview(b"def")) == [Frame(STDOUT, b"abcdef")]  # type: ignore[arg-type]


def test_frames_are_bytes() -> None:
    (got,) = decode_chunks([frame(1, b"abc")])
    assert type(got.data) is bytes


def test_system_error_frame_alone_raises_its_message() -> None:
    decoder = FrameDecoder()
    with pytest.raises(StreamError, match=r"^Error grabbing logs: boom$") as info:
        decoder.feed(frame(3, b"Error grabbing logs: boom\n"))
    assert type(info.value) is StreamError


def test_system_error_after_frames_is_raised_on_the_next_call() -> None:
    decoder = FrameDecoder()
    body = frame(1, b"a") + frame(2, b"b") + frame(3, b"Error grabbing logs: x") + frame(1, b"c")
    assert decoder.feed(body) == [Frame(STDOUT, b"a"), Frame(STDERR, b"b")]
    assert isinstance(decoder.pending_error, StreamError)
    with pytest.raises(StreamError, match="Error grabbing logs: x"):
        decoder.feed(b"")
    with pytest.raises(StreamError, match="Error grabbing logs: x"):
        decoder.close()


def test_system_error_split_across_feeds() -> None:
    decoder = FrameDecoder()
    body = frame(1, b"a") + frame(3, b"Error grabbing logs: split")
    assert decoder.feed(body[:12]) == [Frame(STDOUT, b"a")]
    assert decoder.feed(body[12:20]) == []
    with pytest.raises(StreamError, match="split"):
        decoder.feed(body[20:])


def test_system_error_without_payload_has_a_message() -> None:
    with pytest.raises(StreamError, match="engine reported an error"):
        FrameDecoder().feed(frame(3, b""))


def test_system_error_raised_at_close() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(frame(1, b"a") + frame(3, b"late")) == [Frame(STDOUT, b"a")]
    with pytest.raises(StreamError, match="late"):
        decoder.close()


def test_unknown_stream_type_names_the_offset() -> None:
    decoder = FrameDecoder()
    first = frame(1, b"abc")
    assert decoder.feed(first) == [Frame(STDOUT, b"abc")]
    assert decoder.feed(frame(2, b"de")) == [Frame(STDERR, b"de")]
    with pytest.raises(StreamDesyncError, match="offset 21") as info:
        decoder.feed(frame(7, b"zz"))
    assert info.value.offset == len(first) + 10


def test_nonzero_reserved_bytes_desync() -> None:
    decoder = FrameDecoder()
    body = frame(1, b"ok") + header(1, 2, reserved=b"\0\1\0") + b"no"
    assert decoder.feed(body) == [Frame(STDOUT, b"ok")]
    with pytest.raises(StreamDesyncError) as info:
        decoder.close()
    assert info.value.offset == 10


def test_desync_offset_counts_a_header_split_across_feeds() -> None:
    decoder = FrameDecoder()
    body = frame(1, b"abcd") + b"HTTP/1.1 200 OK\r\n"
    assert decoder.feed(body[:14]) == [Frame(STDOUT, b"abcd")]
    with pytest.raises(StreamDesyncError) as info:
        decoder.feed(body[14:])
    assert info.value.offset == 12
    assert "48 54 54 50" in str(info.value)


def test_desync_is_sticky() -> None:
    decoder = FrameDecoder()
    with pytest.raises(StreamDesyncError):
        decoder.feed(b"garbage!")
    with pytest.raises(StreamDesyncError):
        decoder.feed(frame(1, b"fine"))


def test_close_inside_a_header() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(frame(1, b"x") + b"\1\0\0") == [Frame(STDOUT, b"x")]
    with pytest.raises(StreamTruncatedError, match="expected 8 bytes, received 3"):
        decoder.close()


def test_close_inside_a_payload() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(header(2, 10) + b"abcd") == []
    assert decoder.feed(b"ef") == []
    with pytest.raises(StreamTruncatedError, match="expected 10 bytes, received 6"):
        decoder.close()


def test_close_at_a_frame_boundary() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(frame(1, b"x")) == [Frame(STDOUT, b"x")]
    assert decoder.close() == []


# -- properties ---------------------------------------------------------------

frame_specs = st.lists(st.tuples(st.sampled_from([0, 1, 2]), st.binary(max_size=300)), max_size=20)
cut_lists = st.lists(st.integers(min_value=0, max_value=10_000), max_size=30)


def expected_frames(specs: list[tuple[int, bytes]]) -> list[Frame]:
    return [Frame(STDERR if kind == 2 else STDOUT, data) for kind, data in specs if data]


@given(frame_specs, cut_lists)
def test_any_split_gives_the_same_frames(specs: list[tuple[int, bytes]], cuts: list[int]) -> None:
    body = b"".join(frame(kind, data) for kind, data in specs)
    assert decode_chunks(split_at(body, cuts)) == expected_frames(specs)


@given(frame_specs, st.binary(min_size=1, max_size=200), cut_lists)
def test_system_error_keeps_earlier_frames(
    specs: list[tuple[int, bytes]], message: bytes, cuts: list[int]
) -> None:
    body = b"".join(frame(kind, data) for kind, data in specs) + frame(3, message)
    decoder = FrameDecoder()
    frames: list[Frame] = []
    with pytest.raises(StreamError) as info:
        for chunk in [*split_at(body, cuts), b""]:
            frames += decoder.feed(chunk)
    assert type(info.value) is StreamError
    assert frames == expected_frames(specs)


@given(st.binary(max_size=400), cut_lists)
def test_garbage_gives_frames_or_a_typed_error(garbage: bytes, cuts: list[int]) -> None:
    decoder = FrameDecoder()
    try:
        for chunk in split_at(garbage, cuts):
            for got in decoder.feed(chunk):
                assert got.stream in (STDOUT, STDERR)
                assert got.data
        decoder.close()
    except StreamError:
        pass  # StreamDesyncError, StreamTruncatedError, or a type-3 frame


@given(frame_specs.filter(bool))
def test_truncation_at_every_offset(specs: list[tuple[int, bytes]]) -> None:
    encoded = [frame(kind, data) for kind, data in specs]
    boundaries = {0}
    for piece in encoded:
        boundaries.add(max(boundaries) + len(piece))
    body = b"".join(encoded)
    for cut in range(len(body) + 1):
        decoder = FrameDecoder()
        frames = decoder.feed(body[:cut])
        if cut in boundaries:
            assert decoder.close() == []
        else:
            with pytest.raises(StreamTruncatedError):
                decoder.close()
        complete = sum(1 for b in boundaries if 0 < b <= cut)
        assert frames == expected_frames(specs[:complete])

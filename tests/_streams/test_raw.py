"""RawDecoder: TTY output passes through as stdout frames."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lightshuttle_runtime._streams import STDOUT, Frame, RawDecoder


def test_chunks_pass_through_as_they_arrive() -> None:
    decoder = RawDecoder()
    assert decoder.feed(b"partial line") == [Frame(STDOUT, b"partial line")]
    assert decoder.feed(b" end\r\nnext") == [Frame(STDOUT, b" end\r\nnext")]
    assert decoder.close() == []


def test_empty_chunks_are_dropped() -> None:
    decoder = RawDecoder()
    assert decoder.feed(b"") == []


def test_mutable_input_becomes_bytes() -> None:
    buffer = bytearray(b"abc")
    (got,) = RawDecoder().feed(buffer)  # type: ignore[arg-type]
    buffer[0] = ord("x")
    assert got == Frame(STDOUT, b"abc")
    assert type(got.data) is bytes


@given(st.lists(st.binary(max_size=50)))
def test_output_is_the_input(chunks: list[bytes]) -> None:
    decoder = RawDecoder()
    frames = [f for chunk in chunks for f in decoder.feed(chunk)] + decoder.close()
    assert b"".join(f.data for f in frames) == b"".join(chunks)
    assert all(f.stream == STDOUT and f.data for f in frames)

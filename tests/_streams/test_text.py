"""TextDecoder: UTF-8 per stream."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from lightshuttle_runtime._streams import STDERR, STDOUT, Frame, TextChunk, TextDecoder

EURO = "\u20ac".encode()  # 3 bytes
CAT = "\U0001f431".encode()  # 4 bytes


def test_ascii_passes_through() -> None:
    assert TextDecoder().feed(Frame(STDOUT, b"hello\n")) == [TextChunk(STDOUT, "hello\n")]


def test_split_character_with_the_other_stream_between_its_halves() -> None:
    decoder = TextDecoder()
    assert decoder.feed(Frame(STDOUT, b"a" + CAT[:1])) == [TextChunk(STDOUT, "a")]
    assert decoder.feed(Frame(STDERR, EURO[:2])) == []
    assert decoder.feed(Frame(STDOUT, CAT[1:3])) == []
    assert decoder.feed(Frame(STDERR, EURO[2:] + b"!")) == [TextChunk(STDERR, "\u20ac!")]
    assert decoder.feed(Frame(STDOUT, CAT[3:])) == [TextChunk(STDOUT, "\U0001f431")]
    assert decoder.close() == []


def test_invalid_bytes_become_replacement_characters() -> None:
    assert TextDecoder().feed(Frame(STDOUT, b"a\xffb")) == [TextChunk(STDOUT, "a\ufffdb")]


def test_incomplete_character_at_close() -> None:
    decoder = TextDecoder()
    assert decoder.feed(Frame(STDERR, b"x" + EURO[:2])) == [TextChunk(STDERR, "x")]
    assert decoder.close() == [TextChunk(STDERR, "\ufffd")]


@given(
    st.text(max_size=50),
    st.text(max_size=50),
    st.lists(st.integers(0, 400), max_size=15),
    st.lists(st.booleans(), max_size=30),
)
def test_random_frames_and_interleaving(
    out_text: str, err_text: str, cuts: list[int], picks: list[bool]
) -> None:
    def frames(stream: int, body: bytes) -> list[Frame]:
        points = sorted({0, len(body), *(c % (len(body) + 1) for c in cuts)})
        return [Frame(stream, body[a:b]) for a, b in itertools.pairwise(points)]

    out = frames(STDOUT, out_text.encode())
    err = frames(STDERR, err_text.encode())
    merged = []
    for pick_stdout in [*picks, *[True] * len(out), *[False] * len(err)]:
        source = out if pick_stdout else err
        if source:
            merged.append(source.pop(0))
    decoder = TextDecoder()
    chunks = [c for f in merged for c in decoder.feed(f)] + decoder.close()
    assert "".join(c.text for c in chunks if c.stream == STDOUT) == out_text
    assert "".join(c.text for c in chunks if c.stream == STDERR) == err_text
    assert all(c.text for c in chunks)


@given(st.lists(st.binary(max_size=20), max_size=10))
def test_garbage_never_fails(chunks: list[bytes]) -> None:
    decoder = TextDecoder()
    texts = [c.text for chunk in chunks for c in decoder.feed(Frame(STDOUT, chunk))]
    texts += [c.text for c in decoder.close()]
    assert "".join(texts) == b"".join(chunks).decode("utf-8", "replace")

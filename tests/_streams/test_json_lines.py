"""JSONLinesDecoder and raise_for_progress_error: streams of JSON records."""

from __future__ import annotations

import itertools
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightshuttle_runtime._errors import DecodeError, StreamError, StreamTruncatedError
from lightshuttle_runtime._streams import JSONLinesDecoder, raise_for_progress_error


class Event(msgspec.Struct):
    type: str
    n: int


class ErrorDetail(msgspec.Struct):
    message: str | None = None
    code: int | None = None


class Progress(msgspec.Struct):
    status: str | None = None
    error: str | None = None
    error_detail: ErrorDetail | None = msgspec.field(default=None, name="errorDetail")


A = b'{"type": "a", "n": 1}'
B = b'{"type": "b", "n": 2}'
C = b'{"type": "c\\u00e9 {}", "n": 3}'
EVENTS = [Event("a", 1), Event("b", 2), Event("c\u00e9 {}", 3)]


def decode_all(chunks: list[bytes], type_: Any = Event) -> list[Any]:
    decoder: JSONLinesDecoder[Any] = JSONLinesDecoder(type_)
    items = [item for chunk in chunks for item in decoder.feed(chunk)]
    return items + decoder.close()


@pytest.mark.parametrize(
    "body",
    [
        A + b"\n" + B + b"\n" + C + b"\n",
        A + b"\r\n" + B + b"\r\n" + C + b"\r\n",
        b"\n\n" + A + b"\n   \n\r\n" + B + b"\n\t\n" + C + b"\n\n",
        A + B + C + b"\n",
        A + B + b"\n" + C,
        b"\x1e" + A + b"\n\x1e" + B + b"\n\x1e" + C + b"\n",
        b"\x1e" + A + b"\x1e" + B + b"\x1e" + C,
    ],
    ids=["lf", "crlf", "blank-lines", "glued", "no-final-newline", "json-seq", "json-seq-no-lf"],
)
def test_separators(body: bytes) -> None:
    assert decode_all([body]) == EVENTS


def test_dict_and_any_types() -> None:
    assert decode_all([A + b"\n"], dict) == [{"type": "a", "n": 1}]
    assert decode_all([b'[1, 2]\n"s"\n'], Any) == [[1, 2], "s"]


def test_a_complete_record_without_newline_comes_out_at_once() -> None:
    decoder = JSONLinesDecoder(Event)
    assert decoder.feed(A[:5]) == []
    assert decoder.feed(A[5:]) == [Event("a", 1)]
    assert decoder.feed(b"\n" + B[:3]) == []
    assert decoder.feed(B[3:] + C) == [Event("b", 2), Event("c\u00e9 {}", 3)]
    assert decoder.close() == []


def test_a_brace_inside_a_string_does_not_end_a_record() -> None:
    decoder = JSONLinesDecoder(Event)
    assert decoder.feed(b'{"type": "}') == []
    assert decoder.feed(b'", "n": 5}') == [Event("}", 5)]


def test_large_record_in_small_feeds() -> None:
    big = msgspec.json.encode({"type": "}" * 200_000, "n": 7})
    chunks = [big[i : i + 100] for i in range(0, len(big), 100)]
    assert decode_all(chunks) == [Event("}" * 200_000, 7)]


def test_invalid_json_names_the_text() -> None:
    decoder = JSONLinesDecoder(Event)
    with pytest.raises(DecodeError, match=r"not valid JSON.*'\{nope'") as info:
        decoder.feed(b"{nope\n")
    assert info.value.message.startswith("JSON stream record is not valid JSON")


def test_wrong_type_names_the_type_and_field() -> None:
    decoder = JSONLinesDecoder(Event)
    with pytest.raises(DecodeError, match=r"does not match Event.*\$\.n") as info:
        decoder.feed(b'{"type": "a", "n": "one"}\n')
    assert '"one"' in str(info.value)


def test_long_offending_text_is_cut() -> None:
    decoder = JSONLinesDecoder(Event)
    with pytest.raises(DecodeError) as info:
        decoder.feed(b"x" * 5000 + b"\n")
    assert "x" * 200 + "..." in str(info.value)
    assert "x" * 201 not in str(info.value)


def test_records_before_a_bad_one_are_returned_first() -> None:
    decoder = JSONLinesDecoder(Event)
    assert decoder.feed(A + b"\n" + B + b"\n{bad}\n" + C + b"\n") == EVENTS[:2]
    assert isinstance(decoder.pending_error, DecodeError)
    with pytest.raises(DecodeError, match="bad"):
        decoder.feed(b"")
    with pytest.raises(DecodeError, match="bad"):
        decoder.close()


def test_close_inside_a_record() -> None:
    decoder = JSONLinesDecoder(Event)
    assert decoder.feed(A + b"\n" + b'{"type": "x", "n"') == [Event("a", 1)]
    pattern = r"ended inside a record.*'\{\"type\": \"x\""
    with pytest.raises(StreamTruncatedError, match=pattern) as i:
        decoder.close()
    with pytest.raises(StreamTruncatedError):
        decoder.close()
    assert "truncated" in str(i.value)


def test_close_with_only_whitespace_left() -> None:
    decoder = JSONLinesDecoder(Event)
    assert decoder.feed(A + b"\r\n  \t") == [Event("a", 1)]
    assert decoder.close() == []


def test_close_with_a_complete_record_of_the_wrong_type() -> None:
    decoder = JSONLinesDecoder(Event)
    assert decoder.feed(b'{"type": 1, "n": 1') == []
    with pytest.raises(DecodeError, match="does not match Event"):
        decoder.feed(b"}")


def test_non_bytes_input() -> None:
    decoder = JSONLinesDecoder(Event)
    buffer = bytearray(A[:4])
    assert decoder.feed(buffer) == []  # type: ignore[arg-type]
    buffer[:] = b"garb"
    assert decoder.feed(memoryview(A[4:] + b"\n")) == [Event("a", 1)]  # type: ignore[arg-type]


# -- properties ---------------------------------------------------------------

events = st.lists(
    st.builds(Event, st.text(max_size=20), st.integers(-(2**63), 2**63 - 1)), max_size=10
)
separators = st.sampled_from([b"\n", b"\r\n", b"", b"\n\n", b" \n", b"\x1e"])
cut_lists = st.lists(st.integers(min_value=0, max_value=10_000), max_size=30)


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(body), *(cut % (len(body) + 1) for cut in cuts)})
    return [body[a:b] for a, b in itertools.pairwise(points)]


def encode(records: list[Event], seps: list[bytes]) -> bytes:
    return b"".join(msgspec.json.encode(r) + seps[i % len(seps)] for i, r in enumerate(records))


@given(events, st.lists(separators, min_size=1, max_size=5), cut_lists)
def test_any_split_gives_the_same_records(
    records: list[Event], seps: list[bytes], cuts: list[int]
) -> None:
    body = encode(records, seps)
    assert decode_all(split_at(body, cuts)) == records


@given(st.binary(max_size=300), cut_lists)
def test_garbage_gives_records_or_a_typed_error(garbage: bytes, cuts: list[int]) -> None:
    try:
        for item in decode_all(split_at(garbage, cuts), Any):
            msgspec.json.encode(item)
    except (DecodeError, StreamError):
        pass


@given(st.lists(st.binary(max_size=30).map(lambda b: b"{" + b), max_size=5), cut_lists)
def test_near_json_garbage_gives_a_typed_error(pieces: list[bytes], cuts: list[int]) -> None:
    body = b"\n".join(pieces) + b"}"
    try:
        records = decode_all(split_at(body, cuts), dict)
    except (DecodeError, StreamError):
        return
    assert all(isinstance(record, dict) for record in records)


@given(events.filter(bool), st.sampled_from([b"\n", b"\r\n", b"\x1e"]))
def test_truncation_at_every_offset(records: list[Event], sep: bytes) -> None:
    encoded = [msgspec.json.encode(r) for r in records]
    body = sep.join(encoded)
    ends = []
    position = 0
    for piece in encoded:
        position += len(piece)
        ends.append(position)
        position += len(sep)
    for cut in range(len(body) + 1):
        decoder = JSONLinesDecoder(Event)
        got = decoder.feed(body[:cut])
        complete = sum(1 for end in ends if end <= cut)
        at_boundary = cut == 0 or any(end <= cut <= end + len(sep) for end in ends)
        if at_boundary:
            got += decoder.close()
            assert got == records[:complete]
        else:
            with pytest.raises(StreamTruncatedError):
                decoder.close()
            assert got == records[:complete]


# -- raise_for_progress_error --------------------------------------------------


def test_progress_without_error_passes() -> None:
    raise_for_progress_error(Progress(status="Downloading"))
    raise_for_progress_error({"status": "Pulling fs layer", "id": "abc"})


def test_docker_error_detail_with_code() -> None:
    record = msgspec.json.decode(
        b'{"errorDetail":{"code":1,"message":"The command returned a non-zero code: 1"},'
        b'"error":"The command returned a non-zero code: 1"}',
        type=Progress,
    )
    with pytest.raises(StreamError, match="non-zero code: 1") as info:
        raise_for_progress_error(record, method="POST", path="/v1.41/build")
    assert info.value.code == 1
    assert str(info.value).endswith("(POST /v1.41/build)")


def test_podman_error_detail_without_code() -> None:
    record = {"error": "short", "errorDetail": {"message": "the full message"}}
    with pytest.raises(StreamError, match=r"^the full message$") as info:
        raise_for_progress_error(record)
    assert info.value.code is None


def test_error_without_detail() -> None:
    with pytest.raises(StreamError, match=r"^only error$"):
        raise_for_progress_error(Progress(error="only error"))
    with pytest.raises(StreamError, match=r"^only error$"):
        raise_for_progress_error({"error": "only error", "errorDetail": None})


def test_odd_error_fields_in_a_dict() -> None:
    with pytest.raises(StreamError, match="engine reported an error") as info:
        raise_for_progress_error({"error": "", "errorDetail": {"code": True}})
    assert info.value.code is None

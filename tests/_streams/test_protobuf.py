"""The protobuf wire reader and BuildKit's StatusResponse: round trips of generated messages
(through an encoder written here from the wire-format rules), unknown fields skipped,
truncation and garbage giving DecodeError, and captures of real Docker 20.10 / 28.5 traces."""

from __future__ import annotations

import base64
import contextlib
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightshuttle_runtime import DecodeError
from lightshuttle_runtime._streams._buildkit import (
    StatusResponse,
    Vertex,
    VertexLog,
    VertexStatus,
    VertexWarning,
    decode_status_response,
    decode_trace,
)
from lightshuttle_runtime._streams._protobuf import iter_fields, read_timestamp
from lightshuttle_runtime.models import BuildMessage

DATA = Path(__file__).parent / "data"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# -- an encoder, from the wire-format rules --------------------------------------------------


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s take ten bytes
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def key(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def ld(number: int, payload: bytes) -> bytes:
    return key(number, 2) + varint(len(payload)) + payload


def vi(number: int, value: int) -> bytes:
    return key(number, 0) + varint(value) if value else b""


def text(number: int, value: str) -> bytes:
    return ld(number, value.encode()) if value else b""


def stamp(number: int, value: datetime | None) -> bytes:
    if value is None:
        return b""
    delta = value - EPOCH
    seconds = delta.days * 86400 + delta.seconds
    return ld(number, vi(1, seconds) + vi(2, delta.microseconds * 1000))


def encode_vertex(v: Vertex) -> bytes:
    return (
        text(1, v.digest)
        + b"".join(ld(2, i.encode()) for i in v.inputs)
        + text(3, v.name)
        + vi(4, int(v.cached))
        + stamp(5, v.started)
        + stamp(6, v.completed)
        + text(7, v.error)
    )


def encode_status(s: VertexStatus) -> bytes:
    return (
        text(1, s.id)
        + text(2, s.vertex)
        + text(3, s.name)
        + vi(4, s.current)
        + vi(5, s.total)
        + stamp(6, s.timestamp)
        + stamp(7, s.started)
        + stamp(8, s.completed)
    )


def encode_log(log: VertexLog) -> bytes:
    data = ld(4, log.data) if log.data else b""
    return text(1, log.vertex) + stamp(2, log.timestamp) + vi(3, log.stream) + data


def encode_warning(w: VertexWarning) -> bytes:
    short = ld(3, w.short) if w.short else b""
    detail = b"".join(ld(4, d) for d in w.detail)
    return text(1, w.vertex) + vi(2, w.level) + short + detail + text(5, w.url)


def encode(response: StatusResponse, unknown: bytes = b"") -> bytes:
    return (
        b"".join(ld(1, encode_vertex(v) + unknown) for v in response.vertexes)
        + unknown
        + b"".join(ld(2, encode_status(s)) for s in response.statuses)
        + b"".join(ld(3, encode_log(log) + unknown) for log in response.logs)
        + b"".join(ld(4, encode_warning(w)) for w in response.warnings)
    )


# -- strategies ------------------------------------------------------------------------------

names = st.text(max_size=20)
times = st.none() | st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
int64s = st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1)
vertexes = st.builds(
    Vertex,
    digest=names,
    inputs=st.lists(names, max_size=3).map(tuple),
    name=names,
    cached=st.booleans(),
    started=times,
    completed=times,
    error=names,
)
statuses = st.builds(
    VertexStatus,
    id=names,
    vertex=names,
    name=names,
    current=int64s,
    total=int64s,
    timestamp=times,
    started=times,
    completed=times,
)
logs = st.builds(
    VertexLog, vertex=names, stream=st.integers(0, 2), data=st.binary(max_size=40), timestamp=times
)
warnings = st.builds(
    VertexWarning,
    vertex=names,
    level=st.integers(0, 3),
    short=st.binary(max_size=20),
    detail=st.lists(st.binary(min_size=1, max_size=10), max_size=3).map(tuple),
    url=names,
)
responses = st.builds(
    StatusResponse,
    vertexes=st.lists(vertexes, max_size=3).map(tuple),
    statuses=st.lists(statuses, max_size=2).map(tuple),
    logs=st.lists(logs, max_size=3).map(tuple),
    warnings=st.lists(warnings, max_size=2).map(tuple),
)
# Fields of numbers and wire types the schema does not know: varint, fixed64, bytes, fixed32,
# and a group holding a varint.
unknown_fields = st.lists(
    st.sampled_from(
        [
            vi(99, 300),
            key(98, 1) + struct.pack("<d", 1.5),
            ld(97, b"\x08\x01 nested"),
            key(96, 5) + struct.pack("<I", 7),
            key(95, 3) + vi(1, 5) + key(95, 4),
        ]
    ),
    max_size=4,
).map(b"".join)


@given(responses, unknown_fields)
def test_round_trip_with_unknown_fields_skipped(response: StatusResponse, unknown: bytes) -> None:
    assert decode_status_response(encode(response, unknown)) == response


@given(responses, st.data())
def test_truncation_inside_a_field_is_a_decode_error(
    response: StatusResponse, data: st.DataObject
) -> None:
    encoded = encode(response)
    fields = list(iter_fields(encoded))
    if not fields:
        return
    # Cut strictly inside the last top-level field (key, length, or payload).
    last = ld(fields[-1][0], fields[-1][2])  # type: ignore[arg-type]
    cut = data.draw(st.integers(len(encoded) - len(last) + 1, len(encoded) - 1))
    with pytest.raises(DecodeError):
        decode_status_response(encoded[:cut])


@given(st.binary(max_size=200))
def test_garbage_is_a_response_or_a_decode_error(garbage: bytes) -> None:
    with contextlib.suppress(DecodeError):
        assert isinstance(decode_status_response(garbage), StatusResponse)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\x0a\x05abc", "runs past the end"),
        (b"\x08", "truncated varint"),
        (b"\x08" + b"\xff" * 11, "longer than 10 bytes"),
        (b"\x0f", "wire type 7"),
        (b"\x00\x01", "field number 0"),
        (key(5, 3) + vi(1, 1), "not closed"),
        (key(5, 3) + key(6, 4), "closed as group 6"),
        (ld(1, text(1, "d") + ld(3, b"\xff\xfe")), "not UTF-8"),
        (ld(1, vi(1, 5)), "string field sent as a varint"),
        (ld(1, ld(4, b"x")), "integer field sent length-delimited"),
        (vi(1, 5), "message field sent with wire type 0"),
    ],
)
def test_malformed_messages_name_the_problem(data: bytes, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        decode_status_response(data)


def test_timestamps_are_aware_utc_and_negative_int64s_decode() -> None:
    value = datetime(2026, 12, 6, 12, 20, 20, 704957, tzinfo=UTC)
    assert read_timestamp(stamp(1, value)[2:]) == value
    assert read_timestamp(vi(1, -1)) == EPOCH - timedelta(seconds=1)
    with pytest.raises(DecodeError, match="outside the datetime range"):
        read_timestamp(vi(1, 1 << 62))


def test_trace_aux_must_be_base64() -> None:
    with pytest.raises(DecodeError, match="not base64"):
        decode_trace("not base64!")
    assert decode_trace(base64.b64encode(encode(StatusResponse())).decode()) == StatusResponse()


def read_capture(name: str) -> list[BuildMessage]:
    decoder = msgspec.json.Decoder(BuildMessage)
    return [decoder.decode(line) for line in (DATA / name).read_bytes().splitlines()]


def test_a_real_docker_20_10_trace_of_a_failing_run() -> None:
    traces = [m.trace for m in read_capture("buildkit-docker20-failing-run.jsonl")]
    found = [t for t in traces if t is not None]
    vertexes = {v.name: v for t in found for v in t.vertexes}
    failed = vertexes["[2/2] RUN echo before && exit 3"]
    assert failed.error.endswith("exit code: 3")
    assert failed.started is not None and failed.completed is not None
    assert failed.started.tzinfo is UTC and failed.started < failed.completed
    assert vertexes["[1/2] FROM docker.io/library/busybox:local"].inputs == ()
    assert [log.data for t in found for log in t.logs] == [b"before\n"]
    assert found[-1].logs == () and traces[-1] is None  # the error record is no trace


def test_a_real_docker_28_5_trace_has_statuses_and_the_image_id() -> None:
    messages = read_capture("buildkit-docker28-cache-mount.jsonl")
    statuses = [s for m in messages if m.trace for s in m.trace.statuses]
    assert {s.id for s in statuses} >= {"exporting layers"}
    assert messages[-1].id == "moby.image.id" and messages[-1].image_id is not None
    assert messages[-1].image_id in {s.id.removeprefix("writing image ") for s in statuses}

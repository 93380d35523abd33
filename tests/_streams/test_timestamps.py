"""parse_timestamp and TimestampSplitter: the ``timestamps=1`` log prefix."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightshuttle_runtime._streams import (
    STDERR,
    STDOUT,
    Frame,
    StampedFrame,
    TimestampSplitter,
    parse_timestamp,
)

READ_TIME = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
T2 = datetime(2026, 11, 30, 9, 33, 32, tzinfo=UTC)
DOCKER_T1 = b"2024-01-02T03:04:05.123456789Z"
PODMAN_T2 = b"2026-11-30T09:33:32Z"


def splitter() -> TimestampSplitter:
    return TimestampSplitter(clock=lambda: READ_TIME)


# -- parse_timestamp ---------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        (DOCKER_T1, T1),
        (PODMAN_T2, T2),
        (b"2026-11-30T09:33:27.495742260Z", datetime(2026, 11, 30, 9, 33, 27, 495742, UTC)),
        (b"2024-01-02T03:04:05.000000000Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        (b"2024-01-02T03:04:05.5Z", datetime(2024, 1, 2, 3, 4, 5, 500000, UTC)),
        (b"2024-01-02T03:04:05.123Z", datetime(2024, 1, 2, 3, 4, 5, 123000, UTC)),
        (b"2024-01-02T03:04:05.9999999999Z", datetime(2024, 1, 2, 3, 4, 5, 999999, UTC)),
        (b"2024-01-02T03:04:05-05:00", datetime(2024, 1, 2, 8, 4, 5, tzinfo=UTC)),
        (b"2024-01-02T03:04:05.25+01:00", datetime(2024, 1, 2, 2, 4, 5, 250000, UTC)),
        (b"2024-01-01T23:30:00-01:00", datetime(2024, 1, 2, 0, 30, tzinfo=UTC)),
        (b"2024-01-02t03:04:05z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ],
)
def test_parse_engine_forms(prefix: bytes, expected: datetime) -> None:
    parsed = parse_timestamp(prefix)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "prefix",
    [
        b"",
        b"hello",
        b"2024-01-02T03:04:05",  # no zone
        b"2024-01-02 03:04:05Z",  # space instead of T
        b"20240102T030405Z",  # basic format
        b"2024-01-02T03:04:05.Z",
        b"2024-01-02T03:04:05+0100",
        b"2024-13-02T03:04:05Z",
        b"2024-02-30T03:04:05Z",
        b"2024-01-02T24:04:05Z",
        b"0000-01-01T00:00:00Z",
        b"9999-12-31T23:59:59-05:00",  # past datetime.max in UTC
        b"2024-01-02T03:04:05Z ",
        b" 2024-01-02T03:04:05Z",
        b"2024-01-02T03:04:05Z\n",
        "2024-01-02T03:04:0\u0665Z".encode(),  # a non-ASCII digit
        b"\xff\xfe2024-01-02T03:04:05Z",
    ],
)
def test_parse_rejects_garbage(prefix: bytes) -> None:
    assert parse_timestamp(prefix) is None


def rfc3339(moment: datetime, fraction_digits: int, offset_minutes: int) -> bytes:
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction_digits:
        text += "." + (f"{local.microsecond:06d}" + "7" * 12)[:fraction_digits]
    if offset_minutes == 0:
        return (text + "Z").encode()
    sign = "+" if offset_minutes > 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}".encode()


@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(9998, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(min_value=0, max_value=15),
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
)
def test_parse_round_trip(moment: datetime, digits: int, offset_minutes: int) -> None:
    expected_micro = int(f"{moment.microsecond:06d}"[:digits].ljust(6, "0")) if digits else 0
    expected = moment.replace(microsecond=expected_micro)
    assert parse_timestamp(rfc3339(moment, digits, offset_minutes)) == expected


@given(st.binary(max_size=45))
def test_parse_never_raises(prefix: bytes) -> None:
    parsed = parse_timestamp(prefix)
    assert parsed is None or parsed.tzinfo is UTC


# -- TimestampSplitter ---------------------------------------------------------


def test_docker_and_podman_lines() -> None:
    s = splitter()
    assert s.feed(Frame(STDOUT, DOCKER_T1 + b" hello\n")) == [StampedFrame(STDOUT, T1, b"hello\n")]
    assert s.feed(Frame(STDERR, PODMAN_T2 + b" oops\n")) == [StampedFrame(STDERR, T2, b"oops\n")]
    assert s.close() == []


def test_several_lines_in_one_frame() -> None:
    body = DOCKER_T1 + b" a\n" + PODMAN_T2 + b" b\n" + DOCKER_T1 + b" \n"
    assert splitter().feed(Frame(STDOUT, body)) == [
        StampedFrame(STDOUT, T1, b"a\n"),
        StampedFrame(STDOUT, T2, b"b\n"),
        StampedFrame(STDOUT, T1, b"\n"),
    ]


def test_a_line_split_across_frames_keeps_its_timestamp() -> None:
    s = splitter()
    first = s.feed(Frame(STDOUT, DOCKER_T1 + b" first ha"))
    assert first == [StampedFrame(STDOUT, T1, b"first ha")]
    assert s.feed(Frame(STDOUT, b"lf")) == [StampedFrame(STDOUT, T1, b"lf")]
    assert s.feed(Frame(STDOUT, b" end\n" + PODMAN_T2 + b" next\n")) == [
        StampedFrame(STDOUT, T1, b" end\n"),
        StampedFrame(STDOUT, T2, b"next\n"),
    ]


def test_frame_ending_right_after_the_prefix() -> None:
    s = splitter()
    assert s.feed(Frame(STDOUT, DOCKER_T1 + b" ")) == []
    assert s.feed(Frame(STDOUT, b"content\n")) == [StampedFrame(STDOUT, T1, b"content\n")]


@pytest.mark.parametrize("cut", range(1, len(DOCKER_T1) + 2))
def test_prefix_split_across_frames(cut: int) -> None:
    line = DOCKER_T1 + b" split prefix\n"
    s = splitter()
    got = s.feed(Frame(STDOUT, line[:cut])) + s.feed(Frame(STDOUT, line[cut:]))
    assert got == [StampedFrame(STDOUT, T1, b"split prefix\n")]


def test_interleaved_streams_with_split_prefixes() -> None:
    s = splitter()
    out = DOCKER_T1 + b" to stdout\n"
    err = PODMAN_T2 + b" to stderr\n"
    got = (
        s.feed(Frame(STDOUT, out[:10]))
        + s.feed(Frame(STDERR, err[:15]))
        + s.feed(Frame(STDOUT, out[10:33]))
        + s.feed(Frame(STDERR, err[15:]))
        + s.feed(Frame(STDOUT, out[33:]))
    )
    assert got == [
        StampedFrame(STDOUT, T1, b"to"),
        StampedFrame(STDERR, T2, b"to stderr\n"),
        StampedFrame(STDOUT, T1, b" stdout\n"),
    ]


def test_line_without_prefix_keeps_its_bytes_and_gets_the_read_time() -> None:
    s = splitter()
    assert s.feed(Frame(STDOUT, b"no prefix here\n" + PODMAN_T2 + b" ok\n")) == [
        StampedFrame(STDOUT, READ_TIME, b"no prefix here\n"),
        StampedFrame(STDOUT, T2, b"ok\n"),
    ]


def test_bad_timestamp_keeps_its_bytes() -> None:
    line = b"2024-13-02T03:04:05Z month 13\n"
    assert splitter().feed(Frame(STDOUT, line)) == [StampedFrame(STDOUT, READ_TIME, line)]


def test_long_garbage_is_not_held() -> None:
    s = splitter()
    assert s.feed(Frame(STDOUT, b"x" * 100)) == [StampedFrame(STDOUT, READ_TIME, b"x" * 100)]
    assert s.feed(Frame(STDOUT, b"\n")) == [StampedFrame(STDOUT, READ_TIME, b"\n")]


def test_short_non_timestamp_start_is_not_held() -> None:
    assert splitter().feed(Frame(STDOUT, b"$ ")) == [StampedFrame(STDOUT, READ_TIME, b"$ ")]
    assert splitter().feed(Frame(STDOUT, b"abc")) == [StampedFrame(STDOUT, READ_TIME, b"abc")]


def test_digits_longer_than_a_prefix_are_not_held() -> None:
    digits = b"1" * 41
    assert splitter().feed(Frame(STDOUT, digits)) == [StampedFrame(STDOUT, READ_TIME, digits)]


def test_held_prefix_is_returned_at_close() -> None:
    s = splitter()
    assert s.feed(Frame(STDERR, b"2024-01-02T03:0")) == []
    assert s.close() == [StampedFrame(STDERR, READ_TIME, b"2024-01-02T03:0")]


def test_empty_frames_change_nothing() -> None:
    s = splitter()
    assert s.feed(Frame(STDOUT, b"")) == []
    assert s.feed(Frame(STDOUT, DOCKER_T1 + b" x\n")) == [StampedFrame(STDOUT, T1, b"x\n")]


def test_default_clock_is_now_in_utc() -> None:
    before = datetime.now(UTC)
    ((_, stamp, _),) = TimestampSplitter().feed(Frame(STDOUT, b"plain\n"))
    assert before <= stamp <= datetime.now(UTC)
    assert stamp.tzinfo is UTC


# -- properties ---------------------------------------------------------------

line_content = st.binary(max_size=60).map(lambda b: b.replace(b"\n", b""))
stamped_lines = st.lists(
    st.tuples(st.sampled_from([(DOCKER_T1, T1), (PODMAN_T2, T2)]), line_content), max_size=8
)


def cut_into_frames(stream: int, body: bytes, cuts: list[int]) -> list[Frame]:
    points = sorted({0, len(body), *(c % (len(body) + 1) for c in cuts)})
    return [Frame(stream, body[a:b]) for a, b in itertools.pairwise(points)]


def reassemble(pieces: list[StampedFrame], stream: int) -> list[tuple[datetime, bytes]]:
    """Join each line's pieces, checking they all carry the line's timestamp."""
    lines: list[tuple[datetime, bytes]] = []
    current: tuple[datetime, bytes] | None = None
    for piece in pieces:
        if piece.stream != stream:
            continue
        assert piece.data
        if current is None:
            current = (piece.timestamp, piece.data)
        else:
            assert piece.timestamp == current[0]
            current = (current[0], current[1] + piece.data)
        if current[1].endswith(b"\n"):
            lines.append(current)
            current = None
    assert current is None
    return lines


@given(
    stamped_lines,
    stamped_lines,
    st.lists(st.integers(0, 2000), max_size=20),
    st.lists(st.integers(0, 2000), max_size=20),
    st.lists(st.booleans(), max_size=40),
)
def test_interleaved_random_splits(
    out_lines: list[tuple[tuple[bytes, datetime], bytes]],
    err_lines: list[tuple[tuple[bytes, datetime], bytes]],
    out_cuts: list[int],
    err_cuts: list[int],
    picks: list[bool],
) -> None:
    out_body = b"".join(prefix + b" " + text + b"\n" for (prefix, _), text in out_lines)
    err_body = b"".join(prefix + b" " + text + b"\n" for (prefix, _), text in err_lines)
    out_frames = cut_into_frames(STDOUT, out_body, out_cuts)
    err_frames = cut_into_frames(STDERR, err_body, err_cuts)
    merged: list[Frame] = []
    for pick_stdout in [*picks, *[True] * len(out_frames), *[False] * len(err_frames)]:
        source = out_frames if pick_stdout else err_frames
        if source:  # a random interleaving that keeps each stream's order
            merged.append(source.pop(0))
    assert not out_frames and not err_frames
    s = splitter()
    pieces = [p for f in merged for p in s.feed(f)] + s.close()
    assert reassemble(pieces, STDOUT) == [(stamp, text + b"\n") for (_, stamp), text in out_lines]
    assert reassemble(pieces, STDERR) == [(stamp, text + b"\n") for (_, stamp), text in err_lines]


@given(
    stamped_lines,
    st.lists(st.integers(0, 2000), max_size=20),
    st.lists(st.integers(1, 6), max_size=10),
    st.lists(st.binary(max_size=40), max_size=4),
)
def test_a_read_at_once_gives_what_frame_by_frame_gives(
    lines: list[tuple[tuple[bytes, datetime], bytes]],
    cuts: list[int],
    batches: list[int],
    garbage: list[bytes],
) -> None:
    # feed_frames (a whole read's frames) must equal feed() frame by frame, whatever the
    # frames and however a body's frames are grouped into reads.
    body = b"".join(prefix + b" " + text + b"\n" for (prefix, _), text in lines)
    frames = cut_into_frames(STDOUT, body, cuts) + [Frame(STDERR, g) for g in garbage if g]
    one, many = splitter(), splitter()
    expected = [p for f in frames for p in one.feed(f)] + one.close()
    got: list[StampedFrame] = []
    rest = list(frames)
    for size in [*batches, len(rest)]:
        got += many.feed_frames(rest[:size])
        rest = rest[size:]
    assert got + many.close() == expected


@given(st.lists(st.binary(max_size=80), max_size=10))
def test_garbage_bytes_all_come_back(chunks: list[bytes]) -> None:
    s = splitter()
    pieces = [p for chunk in chunks for p in s.feed(Frame(STDOUT, chunk))] + s.close()
    joined = b"".join(p.data for p in pieces)
    original = b"".join(chunks)
    # Only parsed prefixes (and their space) may be removed; nothing else.
    assert len(joined) <= len(original)
    assert all(p.data for p in pieces)
    if b" " not in original:
        assert joined == original


# -- what the engines really send (recorded from Docker 20.10 and Podman 4.3) ----


def test_podman_partial_writes_each_carry_a_prefix() -> None:
    # sh -c 'printf abc; sleep 1; printf "def\n"; printf err >&2; sleep 1; echo more >&2; ...'
    s = splitter()
    frames = [
        Frame(STDOUT, b"2026-11-30T10:01:05Z abc"),
        Frame(STDOUT, b"2026-11-30T10:01:06Z def\n"),
        Frame(STDERR, b"2026-11-30T10:01:06Z err"),
        Frame(STDOUT, b"2026-11-30T10:01:07Z done\n"),
        Frame(STDERR, b"2026-11-30T10:01:07Z more\n"),
    ]
    got = [piece for f in frames for piece in s.feed(f)]
    at = [datetime(2026, 11, 30, 10, 1, second, tzinfo=UTC) for second in (5, 6, 7)]
    assert got == [
        StampedFrame(STDOUT, at[0], b"abc"),
        StampedFrame(STDOUT, at[1], b"def\n"),
        StampedFrame(STDERR, at[1], b"err"),
        StampedFrame(STDOUT, at[2], b"done\n"),
        StampedFrame(STDERR, at[2], b"more\n"),
    ]


def test_docker_long_line_messages_each_carry_a_prefix() -> None:
    # Docker cuts a 20000-byte line into a 16 KiB message and the rest, same time.
    s = splitter()
    first = s.feed(Frame(STDOUT, DOCKER_T1 + b" " + b"x" * 16384))
    rest = s.feed(Frame(STDOUT, DOCKER_T1 + b" " + b"x" * 3616 + b"\n"))
    assert first == [StampedFrame(STDOUT, T1, b"x" * 16384)]
    assert rest == [StampedFrame(STDOUT, T1, b"x" * 3616 + b"\n")]


def test_continuation_frame_without_prefix_keeps_the_line_time() -> None:
    s = splitter()
    assert s.feed(Frame(STDOUT, PODMAN_T2 + b" 2024 ")) == [StampedFrame(STDOUT, T2, b"2024 ")]
    assert s.feed(Frame(STDOUT, b"2024-01-02 is not a prefix\n")) == [
        StampedFrame(STDOUT, T2, b"2024-01-02 is not a prefix\n")
    ]

"""Throughput of the pure stream decoders (no engine, no I/O).

Run: ``PYTHONPATH=src python benchmarks/decoders.py [--quick]``. Each case feeds a
prebuilt body in fixed-size chunks (what a socket read would hand over; httpcore reads
64 KiB at a time) and reports the best of many short runs, which is the figure least
disturbed by other work on the machine. Targets on CPython 3.11: FrameDecoder >= 1.5 M frames/s with
64-byte payloads and >= 4 GB/s with 16 KiB payloads.
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial

import msgspec

from lightshuttle_runtime._streams import (
    STDOUT,
    Frame,
    FrameDecoder,
    JSONLinesDecoder,
    LogDecoder,
    RawDecoder,
    TextDecoder,
    TimestampSplitter,
)

KIB = 1024


def multiplexed_body(frames: int, payload_size: int) -> bytes:
    one = struct.pack(">BxxxI", 1, payload_size) + b"x" * (payload_size - 1) + b"\n"
    return one * frames


def chunked(body: bytes, chunk_size: int) -> list[bytes]:
    return [body[i : i + chunk_size] for i in range(0, len(body), chunk_size)]


def best_time(run: Callable[[], int], expected: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        count = run()
        best = min(best, time.perf_counter() - start)
        if count != expected:
            raise SystemExit(f"decoded {count} items, expected {expected}")
    return best


def feed_all(make: Callable[[], FrameDecoder | RawDecoder], chunks: Sequence[bytes]) -> int:
    decoder = make()
    count = 0
    for chunk in chunks:
        count += len(decoder.feed(chunk))
    return count + len(decoder.close())


def report(name: str, items: int, nbytes: int, seconds: float, unit: str = "frames") -> None:
    print(f"{name:<52} {items / seconds / 1e6:8.2f} M {unit}/s  {nbytes / seconds / 1e9:7.2f} GB/s")


def bench_frames(scale: int, repeat: int) -> None:
    for payload, frames in ((64, 100_000 // scale), (16 * KIB, 10_000 // scale)):
        body = multiplexed_body(frames, payload)
        for chunk_size in (64 * KIB, 16 * KIB, 4 * KIB):
            chunks = chunked(body, chunk_size)
            seconds = best_time(partial(feed_all, FrameDecoder, chunks), frames, repeat)
            report(
                f"FrameDecoder {payload} B payloads, {chunk_size // KIB} KiB feeds",
                frames,
                len(body),
                seconds,
            )


def bench_raw(scale: int, repeat: int) -> None:
    body = b"x" * (16 * 1024 * 1024 // scale)
    chunks = chunked(body, 64 * KIB)
    seconds = best_time(lambda: feed_all(RawDecoder, chunks), len(chunks), repeat)
    report("RawDecoder, 64 KiB feeds", len(chunks), len(body), seconds, "chunks")


def timestamped_frames(lines: int) -> list[Frame]:
    return [
        Frame(STDOUT, b"2024-01-02T03:04:05.%09dZ log line number %d\n" % (i % 10**9, i))
        for i in range(lines)
    ]


def bench_timestamps(scale: int, repeat: int) -> None:
    frames = timestamped_frames(50_000 // scale)
    nbytes = sum(len(f.data) for f in frames)

    def run() -> int:
        splitter = TimestampSplitter(clock=lambda: datetime(2000, 1, 1, tzinfo=UTC))
        return sum(len(splitter.feed(f)) for f in frames) + len(splitter.close())

    seconds = best_time(run, len(frames), repeat)
    report(
        "TimestampSplitter, one Docker-form line per frame", len(frames), nbytes, seconds, "lines"
    )

    body = b"".join(struct.pack(">BxxxI", 1, len(f.data)) + f.data for f in frames)
    chunks = chunked(body, 64 * KIB)

    def run_logs() -> int:
        decoder = LogDecoder(tty=False, timestamps=True)
        return sum(len(decoder.feed(c)) for c in chunks) + len(decoder.close())

    seconds = best_time(run_logs, len(frames), repeat)
    report("LogDecoder(timestamps), 64 KiB feeds", len(frames), len(body), seconds, "lines")


class Actor(msgspec.Struct):
    ID: str
    Attributes: dict[str, str]


class Event(msgspec.Struct):
    Type: str
    Action: str
    Actor: Actor
    time: int
    timeNano: int


def bench_json_lines(scale: int, repeat: int) -> None:
    record = {
        "status": "start",
        "id": "f" * 64,
        "from": "busybox:local",
        "Type": "container",
        "Action": "start",
        "Actor": {"ID": "f" * 64, "Attributes": {"image": "busybox:local", "name": "x"}},
        "scope": "local",
        "time": 1700000000,
        "timeNano": 1700000000123456789,
    }
    line = msgspec.json.encode(record) + b"\n"
    records = 50_000 // scale
    body = line * records
    for chunk_size in (64 * KIB, 4 * KIB):
        chunks = chunked(body, chunk_size)
        for type_, label in ((Event, "Struct"), (dict, "dict")):

            def run(c: list[bytes] = chunks, t: type = type_) -> int:
                decoder: JSONLinesDecoder[object] = JSONLinesDecoder(t)
                return sum(len(decoder.feed(x)) for x in c) + len(decoder.close())

            seconds = best_time(run, records, repeat)
            report(
                f"JSONLinesDecoder {label}, events, {chunk_size // KIB} KiB feeds",
                records,
                len(body),
                seconds,
                "records",
            )


def bench_text(scale: int, repeat: int) -> None:
    payload = ("h\u00e9llo w\u00f6rld \u20ac " * 800).encode()
    frames = [Frame(1 + i % 2, payload) for i in range(5_000 // scale)]

    def run() -> int:
        decoder = TextDecoder()
        return sum(len(decoder.feed(f)) for f in frames) + len(decoder.close())

    seconds = best_time(run, len(frames), repeat)
    report("TextDecoder, ~15 KiB UTF-8 frames", len(frames), len(payload) * len(frames), seconds)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller bodies, fewer runs")
    args = parser.parse_args(argv)
    scale, repeat = (10, 3) if args.quick else (1, 20)
    print(f"CPython {sys.version.split()[0]}")
    bench_frames(scale, repeat)
    bench_raw(scale, repeat)
    bench_timestamps(scale, repeat)
    bench_json_lines(scale, repeat)
    bench_text(scale, repeat)


if __name__ == "__main__":
    main()

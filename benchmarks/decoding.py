"""4. The stream decoders alone (in memory) and 5. decoding a 500-container list.

4 reuses the bodies and helpers of ``benchmarks/decoders.py``: a multiplexed body fed in
64 KiB pieces (what one socket read hands over), and a body of ``GET /events`` lines.
Times are the best and the median of many short runs; the targets are judged on the best
run (the one least disturbed by the rest of the machine, as ``timeit`` does).

5 fetches ``GET /containers/json?all=1`` with at least N containers (made once, named
``ls-bench-list-NNN``, never started) and times decoding that body into our models
against stdlib ``json`` and msgspec into dicts; then the whole call per contender.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from functools import partial
from typing import Any

import msgspec

from lightshuttle_runtime._session import decode_json
from lightshuttle_runtime._streams import FrameDecoder, JSONLinesDecoder, LogDecoder
from lightshuttle_runtime.models import ContainerSummary, EventMessage

from ._common import (
    CONTENDERS,
    LABELS,
    Settings,
    available,
    interleave,
    open_contender,
    round_ratio,
)
from ._engine import API, Engine
from ._report import Section, Target, fmt, ratio
from .decoders import KIB, chunked, feed_all, multiplexed_body, timestamped_frames

GOAL_FRAMES_64 = 1.5e6  # frames/s with 64-byte payloads
GOAL_GBPS_16K = 4.0  # GB/s with 16 KiB payloads
#: Events into EventMessage vs msgspec decoding the same lines one by one (issue 15).
GOAL_EVENTS_VS_MSGSPEC = 0.8
EVENT_RECORDS = 100_000

EVENT = {
    "status": "health_status: healthy",
    "id": "f" * 64,
    "from": "busybox:local",
    "Type": "container",
    "Action": "health_status: healthy",
    "Actor": {
        "ID": "f" * 64,
        "Attributes": {"image": "busybox:local", "name": "web-1", "lightshuttle.project": "demo"},
    },
    "scope": "local",
    "time": 1700000000,
    "timeNano": 1700000000123456789,
}


def _times(run: Callable[[], int], expected: int, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        count = run()
        out.append(time.perf_counter() - start)
        if count != expected:
            raise RuntimeError(f"decoded {count} items, expected {expected}")
    return out


async def run_decoders(settings: Settings) -> Section:
    section = Section("decoders", "4. Stream decoders alone (in memory)")
    started = time.perf_counter()
    scale, repeat = (10, 5) if settings.quick else (1, 30)
    section.columns = ["decoder", "input", "best M items/s", "best GB/s", "median M items/s"]

    def add(key: str, name: str, what: str, items: int, nbytes: int, times: list[float]) -> None:
        best, mid = min(times), statistics.median(times)
        section.data[key] = {
            "items": items,
            "bytes": nbytes,
            "best_items_per_s": items / best,
            "best_gb_per_s": nbytes / best / 1e9,
            "median_items_per_s": items / mid,
            "median_gb_per_s": nbytes / mid / 1e9,
        }
        section.rows.append(
            [
                name,
                what,
                fmt(items / best / 1e6, 2),
                fmt(nbytes / best / 1e9, 2),
                fmt(items / mid / 1e6, 2),
            ]
        )

    for payload, frames in ((64, 200_000 // scale), (16 * KIB, 20_000 // scale)):
        body = multiplexed_body(frames, payload)
        chunks = chunked(body, 64 * KIB)
        times = _times(partial(feed_all, FrameDecoder, chunks), frames, repeat)
        label = f"{payload} B" if payload < KIB else f"{payload // KIB} KiB"
        add(
            f"frames_{payload}",
            "FrameDecoder",
            f"{label} frames, 64 KiB feeds",
            frames,
            len(body),
            times,
        )

    stamped = timestamped_frames(50_000 // scale)
    log_body = b"".join(
        b"\x01\x00\x00\x00" + len(f.data).to_bytes(4, "big") + f.data for f in stamped
    )
    log_chunks = chunked(log_body, 64 * KIB)

    def run_logs() -> int:
        decoder = LogDecoder(tty=False, timestamps=True)
        return sum(len(decoder.feed(c)) for c in log_chunks) + len(decoder.close())

    add(
        "logs_timestamps",
        "LogDecoder(timestamps=True)",
        "one Docker-stamped line per frame",
        len(stamped),
        len(log_body),
        _times(run_logs, len(stamped), repeat),
    )

    line = msgspec.json.encode(EVENT) + b"\n"
    records = EVENT_RECORDS // scale
    events_body = line * records
    event_chunks = chunked(events_body, 64 * KIB)
    event_lines = events_body.splitlines()  # ready-split: the reference's framing is free
    one_by_one = msgspec.json.Decoder(EventMessage)
    events_repeat = max(3, repeat // 3)

    def run_events(type_: Any) -> int:
        decoder: JSONLinesDecoder[Any] = JSONLinesDecoder(type_)
        return sum(len(decoder.feed(c)) for c in event_chunks) + len(decoder.close())

    def run_msgspec_split() -> int:
        decode = one_by_one.decode
        return len([decode(x) for x in event_lines])

    def run_stdlib() -> int:
        return len([json.loads(x) for x in events_body.splitlines()])

    # Interleaved, so that a noisy spell of the machine hurts both sides of the ratio alike.
    struct_times: list[float] = []
    split_times: list[float] = []
    for _ in range(events_repeat):
        struct_times += _times(lambda: run_events(EventMessage), records, 1)
        split_times += _times(run_msgspec_split, records, 1)
    add(
        "events_struct",
        "JSONLinesDecoder(EventMessage)",
        f"{records:,} `GET /events` lines ({len(line)} B), 64 KiB feeds",
        records,
        len(events_body),
        struct_times,
    )
    add(
        "events_msgspec_split",
        "reference: msgspec Decoder(EventMessage), one line at a time",
        "same lines, split beforehand (framing not timed)",
        records,
        len(events_body),
        split_times,
    )
    add(
        "events_dict",
        "JSONLinesDecoder(dict)",
        "same",
        records,
        len(events_body),
        _times(lambda: run_events(dict), records, events_repeat),
    )
    add(
        "events_stdlib",
        "reference: stdlib json.loads per line",
        "same (whole body split at once)",
        records,
        len(events_body),
        _times(run_stdlib, records, events_repeat),
    )
    f64 = section.data["frames_64"]["best_items_per_s"]
    g16 = section.data[f"frames_{16 * KIB}"]["best_gb_per_s"]
    section.targets.append(
        Target(
            "decoder: 64 B frames",
            ">= 1.5 M frames/s",
            f"{f64 / 1e6:.2f} M/s",
            f64 >= GOAL_FRAMES_64,
        )
    )
    section.targets.append(
        Target("decoder: 16 KiB frames", ">= 4 GB/s", f"{g16:.2f} GB/s", g16 >= GOAL_GBPS_16K)
    )
    ev = section.data["events_struct"]["best_items_per_s"]
    reference = section.data["events_msgspec_split"]["best_items_per_s"]
    section.targets.append(
        Target(
            "events: EventMessage stream vs msgspec one by one",
            f">= {GOAL_EVENTS_VS_MSGSPEC:.1f}x",
            f"{ev / reference:.2f}x ({ev / 1e3:,.0f} vs {reference / 1e3:,.0f} k events/s)",
            ev / reference >= GOAL_EVENTS_VS_MSGSPEC,
        )
    )
    section.notes.append(
        f"{repeat} runs per case; JSON-lines events into our EventMessage model: "
        f"{ev / 1e3:,.0f} k events/s."
    )
    section.seconds = time.perf_counter() - started
    return section


# -- 5. the container list -----------------------------------------------------------------


def ensure_list_fixture(engine: Engine, settings: Settings) -> None:
    wanted = [f"{settings.prefix}-list-{i:03d}" for i in range(settings.list_containers)]
    present = {n.lstrip("/") for c in engine.list_bench() for n in c.get("Names") or ()}
    missing = [n for n in wanted if n not in present]
    config = {"Cmd": ["true"], "Labels": {"lightshuttle.bench.role": "list"}}
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: engine.create(n, config), missing))


async def run_list(settings: Settings) -> Section:
    section = Section(
        "list",
        f"5. JSON decode: GET /containers/json?all=1 with {settings.list_containers} containers",
    )
    started = time.perf_counter()
    engine = Engine(settings.socket_path)
    ensure_list_fixture(engine, settings)
    body = engine.body("/containers/json", {"all": "1"})
    count = len(json.loads(body))
    repeat = 10 if settings.quick else 60
    decoders: dict[str, Callable[[], Any]] = {
        "ours: list[ContainerSummary] (msgspec Structs)": lambda: decode_json(
            body, list[ContainerSummary], method="GET", path="/containers/json"
        ),
        "stdlib json.loads -> dicts": lambda: json.loads(body),
        "msgspec.json.decode -> dicts": lambda: msgspec.json.decode(body),
    }
    times: dict[str, list[float]] = {k: [] for k in decoders}
    for _ in range(repeat):  # interleaved
        for key, decode in decoders.items():
            start = time.perf_counter()
            decode()
            times[key].append(time.perf_counter() - start)
    stdlib = statistics.median(times["stdlib json.loads -> dicts"])
    section.columns = ["what", "median ms", "vs stdlib json"]
    for key, values in times.items():
        mid = statistics.median(values)
        section.data[key] = {"median_ms": mid * 1e3, "vs_stdlib": mid / stdlib}
        section.rows.append(
            [
                f"decode {len(body) / 1e3:,.0f} kB ({count} entries): {key}",
                fmt(mid * 1e3, 2),
                ratio(mid / stdlib),
            ]
        )
    ours_key = next(iter(decoders))
    section.targets.append(
        Target(
            "list decode: ours vs stdlib json + dicts",
            "faster (informative)",
            f"{section.data[ours_key]['median_ms']:.2f} vs {stdlib * 1e3:.2f} ms",
            section.data[ours_key]["median_ms"] < stdlib * 1e3,
        )
    )
    await _whole_call(section, settings, count)
    section.notes.append(
        f"decode: {repeat} interleaved runs, medians. Whole call: the round-robin of "
        f"section 1; the engine's own work (listing {count} containers) dominates it."
    )
    section.seconds = time.perf_counter() - started
    return section


async def _whole_call(section: Section, settings: Settings, count: int) -> None:
    names = [n for n in CONTENDERS if available(n)]
    async with AsyncExitStack() as stack:
        calls: dict[str, Any] = {}
        for name in names:
            contender = await open_contender(name, settings.socket_path)
            stack.push_async_callback(contender.close)
            calls[name] = _lister(name, contender)
        rounds, per_round = (2, 3) if settings.quick else (8, 5)
        samples = await interleave(calls, rounds=rounds, per_round=per_round, warmup=2)
    raw = samples["raw"]
    for name, s in samples.items():
        x_raw = round_ratio(s, raw)
        section.data[f"call:{name}"] = {"median_ms": s.median * 1e3, "x_raw": x_raw}
        section.rows.append(
            [
                f"whole call ({count} entries): {LABELS[name]}",
                fmt(s.median * 1e3, 2),
                f"{ratio(x_raw)} raw",
            ]
        )


def _lister(name: str, contender: Any) -> Any:
    if name == "raw":
        raw = contender.extra["raw"]

        async def raw_list() -> Any:
            data = raw.get(f"{API}/containers/json?all=1")
            return json.loads(_dechunk(data))

        return raw_list
    if name in ("ours", "ours-httpx"):
        client = contender.extra["client"]
        return lambda: client.containers.list(all_=True)
    if name == "httpx":
        client = contender.extra["client"]

        async def httpx_list() -> Any:
            response = await client.get(f"{API}/containers/json", params={"all": "1"})
            return response.json()

        return httpx_list
    if name == "aiodocker":
        return lambda: contender.extra["docker"].containers.list(all=True)
    api = contender.extra["api"]

    async def dockerpy_list() -> Any:
        return api.containers(all=True)

    return dockerpy_list


def _dechunk(response: bytes) -> bytes:
    head, _, body = response.partition(b"\r\n\r\n")
    if b"chunked" not in head.lower():
        return body
    out: list[bytes] = []
    pos = 0
    while True:
        end = body.index(b"\r\n", pos)
        size = int(body[pos:end], 16)
        if not size:
            return b"".join(out)
        out.append(body[end + 2 : end + 2 + size])
        pos = end + 2 + size + 2

"""1. Cheap-request latency: sequential ``GET /_ping`` and ``GET /containers/{id}/json``.

Each contender keeps its connection(s) open and sends the same request over and over;
the contenders take turns in rounds (see :func:`interleave`). Reported: the median of the
per-round median latencies in microseconds, CPU time per call, the ratio to the raw
socket, and our own overhead (latency minus the raw socket's) as a fraction of
aiodocker's and docker-py's overheads. Every contender goes through its public API and
decodes the answer as its users get it (ours into msgspec models, the others into dicts);
the raw socket only reads the bytes.
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack
from typing import Any

from ._common import (
    CONTENDERS,
    LABELS,
    Samples,
    Settings,
    available,
    interleave,
    opened,
    round_ratio,
)
from ._engine import Engine
from ._report import Section, Target, fmt, ratio

INSPECT_CONFIG = {"Cmd": ["sleep", "86400"]}
GOALS = {"ping": 2.0, "inspect": 1.6}  # ours <= N x the raw socket
#: ours <= N x the raw asyncio stream (issue 15): the floor of any asyncio client.
ASYNCIO_GOAL = 1.5
#: The latency contenders: the two floors, then the clients.
LATENCY_CONTENDERS = ("raw", "raw-asyncio", *(n for n in CONTENDERS if n != "raw"))
OVERHEAD_GOALS = {"aiodocker": 1 / 3, "docker-py": 1 / 5}  # ours' overhead <= this x theirs


async def run(settings: Settings) -> Section:
    section = Section("latency", "1. Cheap-request latency (sequential, keep-alive)")
    started = time.perf_counter()
    engine = Engine(settings.socket_path)
    container = engine.ensure_running(
        f"{settings.prefix}-inspect", INSPECT_CONFIG, fingerprint="inspect-v1"
    )
    names = [n for n in LATENCY_CONTENDERS if available(n)]
    missing = [n for n in LATENCY_CONTENDERS if not available(n)]
    results: dict[str, dict[str, Samples]] = {}
    async with AsyncExitStack() as stack:
        contenders = {
            name: await stack.enter_async_context(opened(name, settings.socket_path))
            for name in names
        }
        for target in ("ping", "inspect"):
            calls: dict[str, Any] = {}
            for name, contender in contenders.items():
                if target == "ping":
                    calls[name] = contender.ping
                else:
                    calls[name] = _bind(contender.inspect, container)
            results[target] = await interleave(
                calls,
                rounds=settings.rounds,
                per_round=settings.per_round,
                warmup=settings.warmup,
            )
    section.columns = [
        "request",
        "contender",
        "median µs",
        "CPU µs/call",
        "x raw",
        "x raw asyncio",
        "overhead µs",
        "ours' overhead ÷ this one's",
    ]
    for target, samples in results.items():
        _rows(section, target, samples)
    section.notes.append(
        f"{settings.rounds} rounds x {settings.per_round} calls per contender after "
        f"{settings.warmup} warm-up calls; the contenders take turns in each round (order "
        "rotated); medians of the per-round medians; ratios are per-round ratios' medians."
    )
    section.notes.append(
        "aiodocker has no public ping: its ping row is its private `_query('_ping')` (what "
        "its own version check uses). Inspect: ours -> `ContainerInspect` (msgspec), "
        "aiodocker -> `DockerContainer` (dict), docker-py -> dict, stock httpx -> "
        "`response.json()`, raw -> bytes only (the raw socket blocking, the raw asyncio stream "
        "through asyncio's StreamReader/StreamWriter)."
    )
    if missing:
        section.notes.append(
            f"not installed, skipped: {', '.join(missing)} (`pip install .[bench]`)"
        )
    section.seconds = time.perf_counter() - started
    return section


def _bind(func: Any, arg: str) -> Any:
    async def call() -> Any:
        return await func(arg)

    return call


def _rows(section: Section, target: str, samples: dict[str, Samples]) -> None:
    raw = samples.get("raw")
    floor = samples.get("raw-asyncio")
    ours = samples.get("ours")
    data: dict[str, Any] = {}
    for name, s in samples.items():
        x_raw = round_ratio(s, raw) if raw else float("nan")
        x_asyncio = round_ratio(s, floor) if floor else float("nan")
        overhead = s.median - raw.median if raw else float("nan")
        share = (
            round_ratio(ours, s, minus=raw)
            if raw and ours and name not in ("raw", "raw-asyncio", "ours")
            else float("nan")
        )
        data[name] = {
            "median_us": s.median * 1e6,
            "cpu_us": s.cpu_per_call * 1e6,
            "x_raw": x_raw,
            "x_raw_asyncio": x_asyncio,
            "overhead_us": overhead * 1e6,
            "ours_overhead_share": share,
            "round_medians_us": [m * 1e6 for m in s.round_medians()],
        }
        section.rows.append(
            [
                f"GET {'/_ping' if target == 'ping' else '/containers/{id}/json'}",
                LABELS[name],
                fmt(s.median * 1e6),
                fmt(s.cpu_per_call * 1e6),
                ratio(x_raw),
                ratio(x_asyncio),
                fmt(overhead * 1e6) if name != "raw" else "-",
                ratio(share) if share == share else "-",
            ]
        )
    section.data[target] = data
    if ours is None or raw is None:
        return
    ours_x = data["ours"]["x_raw"]
    section.targets.append(
        Target(
            f"{target}: ours vs raw socket",
            f"<= {GOALS[target]:.1f}x",
            f"{ours_x:.2f}x ({data['ours']['median_us']:.0f} vs {data['raw']['median_us']:.0f} µs)",
            ours_x <= GOALS[target],
        )
    )
    if floor is not None:
        x = data["ours"]["x_raw_asyncio"]
        section.targets.append(
            Target(
                f"{target}: ours vs raw asyncio stream",
                f"<= {ASYNCIO_GOAL:.1f}x",
                f"{x:.2f}x ({data['ours']['median_us']:.0f} vs "
                f"{data['raw-asyncio']['median_us']:.0f} µs)",
                x <= ASYNCIO_GOAL,
            )
        )
    for other, goal in OVERHEAD_GOALS.items():
        if other in data:
            share = data[other]["ours_overhead_share"]
            section.targets.append(
                Target(
                    f"{target}: ours' overhead vs {other}'s",
                    f"<= {goal:.2f}",
                    f"{share:.2f}",
                    share <= goal,
                )
            )

"""2. Concurrency: N inspects with K in flight (1,000 and 50 by default).

Per contender and round: a fresh client, one warm-up ping, then the timed burst; the
async contenders run K tasks, docker-py and the raw floor run K threads (the raw floor
with one keep-alive socket per thread). Reported: total time (median of rounds),
connections opened (``connect()`` calls to the engine socket, from the client's
creation and warm-up ping to the end of the burst), and
file descriptors before the client was made, after the burst (idle keep-alive
connections still held) and after the client was closed.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio

from ._common import (
    LABELS,
    ConnectCounter,
    RawSocket,
    Settings,
    available,
    median,
    open_contender,
    open_fds,
)
from ._engine import API, Engine
from ._report import Section, Target, fmt
from .latency import INSPECT_CONFIG

#: (contender, max_connections or None for its default)
VARIANTS: tuple[tuple[str, int | None], ...] = (
    ("raw", None),
    ("ours", None),
    ("ours", 50),
    ("ours-httpx", None),
    ("httpx", None),
    ("aiodocker", None),
    ("docker-py", None),
)
DEFAULT_POOL = {
    "raw": "1 per thread",
    "ours": "10",
    "ours-httpx": "10",
    "httpx": "100",
    "aiodocker": "100",
    "docker-py": "10 (non-blocking)",
}


async def run(settings: Settings) -> Section:
    section = Section(
        "concurrency",
        f"2. Concurrency: {settings.inspects:,} inspects, {settings.in_flight} in flight",
    )
    started = time.perf_counter()
    engine = Engine(settings.socket_path)
    container = engine.ensure_running(
        f"{settings.prefix}-inspect", INSPECT_CONFIG, fingerprint="inspect-v1"
    )
    variants = [(n, m) for n, m in VARIANTS if available(n)]
    runs: dict[str, list[dict[str, Any]]] = {_key(n, m): [] for n, m in variants}
    for index in range(settings.concurrency_rounds):
        shift = index % len(variants)
        for name, limit in variants[shift:] + variants[:shift]:
            runs[_key(name, limit)].append(await _burst(settings, name, limit, container))
    section.columns = [
        "contender",
        "pool limit",
        "total s",
        "inspects/s",
        "connections opened",
        "fds before / after burst / after close",
    ]
    leaks: list[str] = []
    for name, limit in variants:
        key = _key(name, limit)
        rounds = runs[key]
        total = median([r["seconds"] for r in rounds])
        last = rounds[-1]
        leaked = max(r["fds_closed"] - r["fds_before"] for r in rounds)
        if leaked > 0:
            leaks.append(f"{key}: +{leaked}")
        section.data[key] = {"rounds": rounds, "median_seconds": total}
        section.rows.append(
            [
                LABELS[name],
                str(limit) if limit else DEFAULT_POOL[name],
                fmt(total, 3),
                fmt(settings.inspects / total, 0),
                " / ".join(str(r["connections"]) for r in rounds),
                f"{last['fds_before']} / {last['fds_after']} / {last['fds_closed']}",
            ]
        )
        if name == "ours" and limit is None:
            section.targets.append(
                Target(
                    f"{settings.inspects:,} concurrent inspects leave no extra fds (ours)",
                    "0 after close",
                    f"{leaked:+d} fds after close ({last['fds_after'] - last['fds_before']:+d} "
                    "while idle in the pool)",
                    leaked <= 0,
                )
            )
    section.notes.append(
        f"{settings.concurrency_rounds} rounds, contenders interleaved; total time is the "
        "median; 'connections opened' lists each round."
    )
    section.notes.append(
        "docker-py's requests pool does not block: past its 10 pooled connections it opens "
        "throwaway ones. Ours waits for one of its `max_connections` (default 10)."
    )
    if leaks:
        section.notes.append("fds left open after close: " + ", ".join(leaks))
    section.seconds = time.perf_counter() - started
    return section


def _key(name: str, limit: int | None) -> str:
    return name if limit is None else f"{name}[max_connections={limit}]"


async def _burst(
    settings: Settings, name: str, limit: int | None, container: str
) -> dict[str, Any]:
    fds_before, _ = open_fds()
    if name == "raw":
        with ConnectCounter(settings.socket_path) as counter:
            start = time.perf_counter()
            _raw_burst(settings, container)
            seconds = time.perf_counter() - start
        fds_after, _ = open_fds()
        fds_closed = fds_after
    else:
        with ConnectCounter(settings.socket_path) as counter:
            contender = await open_contender(name, settings.socket_path, max_connections=limit)
            try:
                start = time.perf_counter()
                if contender.blocking:
                    _threaded(settings, contender.extra["api"].inspect_container, container)
                else:
                    await _tasks(settings, contender.inspect, container)
                seconds = time.perf_counter() - start
                fds_after, _ = open_fds()
            finally:
                await contender.close()
        fds_closed, _ = open_fds()
    return {
        "seconds": seconds,
        "connections": counter.count,
        "fds_before": fds_before,
        "fds_after": fds_after,
        "fds_closed": fds_closed,
    }


async def _tasks(settings: Settings, inspect: Any, container: str) -> None:
    per_task, extra = divmod(settings.inspects, settings.in_flight)

    async def worker(count: int) -> None:
        for _ in range(count):
            await inspect(container)

    async with anyio.create_task_group() as tasks:
        for i in range(settings.in_flight):
            tasks.start_soon(worker, per_task + (1 if i < extra else 0))


def _threaded(settings: Settings, inspect: Any, container: str) -> None:
    with ThreadPoolExecutor(settings.in_flight) as pool:
        for future in [pool.submit(inspect, container) for _ in range(settings.inspects)]:
            future.result()


def _raw_burst(settings: Settings, container: str) -> None:
    per_thread, extra = divmod(settings.inspects, settings.in_flight)
    target = f"{API}/containers/{container}/json"

    def worker(count: int) -> None:
        raw = RawSocket(settings.socket_path)
        try:
            for _ in range(count):
                raw.get(target)
        finally:
            raw.close()

    with ThreadPoolExecutor(settings.in_flight) as pool:
        futures = [
            pool.submit(worker, per_thread + (1 if i < extra else 0))
            for i in range(settings.in_flight)
        ]
        for future in futures:
            future.result()

"""3. Log throughput: read every log line of a finished busybox container.

The containers (non-TTY and TTY) run ``yes LINE | head -n N`` on stdout and stderr at
the same time, so the log holds interleaved stdout and stderr lines (100-byte stdout
lines, 60-byte stderr lines, 3:2) adding up to at least ``log_mb`` MB of text. They
are made once and reused by name (the fingerprint label says which sizes they hold).

Each contender reads the whole log (``follow=false``; aiodocker's streaming ``log()``
needs ``follow=True``, which ends at once on a finished container) and touches every
item it yields (sums their lengths). The raw floor reads the HTTP body with a blocking
socket and ``Connection: close`` without decoding anything. MB/s counts the log text
(the same for every contender: frame headers, chunking and timestamps excluded), so a
ratio of MB/s is the inverse ratio of times.
"""

from __future__ import annotations

import math
import socket
import time
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from lightshuttle_runtime import DockerClient, EngineStream, Frame, StampedFrame
from lightshuttle_runtime.runtime import ContainerId, DockerRuntime

from ._common import LABELS, Settings, available, median
from ._engine import API, Engine
from ._report import Section, Target, fmt, ratio

OUT_LINE = "o" * 98 + "!"  # 99 chars + "\n" = 100 bytes
ERR_LINE = "e" * 58 + "?"  # 59 chars + "\n" = 60 bytes
GOAL_RAW = 0.9  # ours >= 90 % of the raw socket's MB/s
GOAL_CPU_VS_AIODOCKER = 0.5  # DockerRuntime.logs's client CPU <= 0.5x aiodocker's (issue 15)
GOAL_OTHERS = 2.0  # ours >= 2x docker-py's and aiodocker's lines/s


@dataclass(frozen=True)
class LogFixture:
    name: str
    tty: bool
    out_lines: int
    err_lines: int

    @property
    def lines(self) -> int:
        return self.out_lines + self.err_lines

    @property
    def text_bytes(self) -> int:
        """The log text as a reader gets it (a TTY turns each ``\\n`` into ``\\r\\n``)."""
        extra = 1 if self.tty else 0
        return self.out_lines * (len(OUT_LINE) + 1 + extra) + self.err_lines * (
            len(ERR_LINE) + 1 + extra
        )


def fixture(settings: Settings, tty: bool) -> LogFixture:
    err = math.ceil(settings.log_mb * 1e6 / (1.5 * 100 + 60))
    kind = "tty" if tty else "plain"
    return LogFixture(f"{settings.prefix}-logs-{kind}-{settings.log_mb}m", tty, err * 3 // 2, err)


def ensure_fixture(engine: Engine, fx: LogFixture) -> None:
    script = (
        f'yes "{OUT_LINE}" | head -n {fx.out_lines} & '
        f'yes "{ERR_LINE}" | head -n {fx.err_lines} >&2; wait'
    )
    config = {"Cmd": ["sh", "-c", script], "Tty": fx.tty}
    _, created = engine.ensure(
        fx.name, config, fingerprint=f"logs-v1-{fx.out_lines}-{fx.err_lines}"
    )
    info = engine.inspect(fx.name)
    assert info is not None
    if created or (
        not info["State"]["Running"] and not info["State"]["FinishedAt"].startswith("2")
    ):
        engine.start(fx.name)
    if engine.wait(fx.name) != 0:
        raise RuntimeError(f"log fixture {fx.name} failed")


# -- readers -----------------------------------------------------------------------------

Reader = Any  # async (fixture, timestamps) -> (text bytes, items)


def raw_reader(path: str) -> Reader:
    async def read(fx: LogFixture, timestamps: bool) -> tuple[int, int]:
        query = f"stdout=1&stderr=1&timestamps={int(timestamps)}"
        request = (
            f"GET {API}/containers/{fx.name}/logs?{query} HTTP/1.1\r\n"
            "Host: docker\r\nConnection: close\r\n\r\n"
        ).encode()
        buf = bytearray(1 << 20)
        total = 0
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(path)
            sock.sendall(request)
            recv_into = sock.recv_into
            while n := recv_into(buf):
                total += n
        return total, 0

    return read


def ours_reader(client: DockerClient) -> Reader:
    async def read(fx: LogFixture, timestamps: bool) -> tuple[int, int]:
        size = items = 0
        frames: EngineStream[Frame] | EngineStream[StampedFrame]
        if timestamps:
            frames = client.containers.logs(fx.name, tty=fx.tty, timestamps=True)
        else:
            frames = client.containers.logs(fx.name, tty=fx.tty)
        async with frames:
            async for frame in frames:
                size += len(frame.data)
                items += 1
        return size, items

    return read


def runtime_reader(client: DockerClient) -> Reader:
    """``DockerRuntime.logs``: LogChunks, timestamps always parsed (one inspect first)."""
    runtime = DockerRuntime(client)

    async def read(fx: LogFixture, timestamps: bool) -> tuple[int, int]:
        size = items = 0
        async with runtime.logs(ContainerId(fx.name), follow=False) as chunks:
            async for chunk in chunks:
                size += len(chunk.data)
                items += 1
        return size, items

    return read


def httpx_reader(client: httpx.AsyncClient) -> Reader:
    async def read(fx: LogFixture, timestamps: bool) -> tuple[int, int]:
        size = items = 0
        params = {"stdout": "1", "stderr": "1", "timestamps": str(int(timestamps))}
        url = f"{API}/containers/{fx.name}/logs"
        async with client.stream("GET", url, params=params) as response:
            async for chunk in response.aiter_raw():
                size += len(chunk)
                items += 1
        return size, items

    return read


def aiodocker_reader(docker: Any) -> Reader:
    async def read(fx: LogFixture, timestamps: bool) -> tuple[int, int]:
        size = items = 0
        container = docker.containers.container(fx.name)
        lines = container.log(stdout=True, stderr=True, follow=True, timestamps=timestamps)
        async for line in lines:
            size += len(line)
            items += 1
        return size, items

    return read


def dockerpy_reader(api: Any) -> Reader:
    async def read(fx: LogFixture, timestamps: bool) -> tuple[int, int]:
        size = items = 0
        for chunk in api.logs(fx.name, stream=True, follow=False, timestamps=timestamps):
            size += len(chunk)
            items += 1
        return size, items

    return read


# -- the section -------------------------------------------------------------------------

#: (tty, timestamps) -> the contenders read in that case
CASES: dict[tuple[bool, bool], tuple[str, ...]] = {
    (False, False): ("raw", "ours", "ours-httpx", "httpx", "aiodocker", "docker-py"),
    (False, True): ("raw", "ours", "runtime", "aiodocker", "docker-py"),
    (True, False): ("raw", "ours", "aiodocker"),
    (True, True): ("raw", "ours", "runtime", "aiodocker"),
}
#: docker-py reads a TTY log about 10x slower than the others (~0.6 MB/s here): 200 MB
#: would take minutes per read, so it reads the TTY logs only in ``--quick`` runs.
SLOW_TTY = "docker-py"


async def run(settings: Settings) -> Section:
    section = Section("logs", f"3. Log throughput ({settings.log_mb} MB of log text)")
    started = time.perf_counter()
    engine = Engine(settings.socket_path)
    fixtures = {tty: fixture(settings, tty) for tty in (False, True)}
    for fx in fixtures.values():
        ensure_fixture(engine, fx)
    path = settings.socket_path
    ours = DockerClient(f"unix://{path}")
    ours_httpx = DockerClient(f"unix://{path}", transport_kind="httpx")
    stock = httpx.AsyncClient(
        transport=httpx.AsyncHTTPTransport(uds=path), base_url="http://docker", timeout=None
    )
    readers: dict[str, Reader] = {
        "raw": raw_reader(path),
        "ours": ours_reader(ours),
        "runtime": runtime_reader(ours),
        "ours-httpx": ours_reader(ours_httpx),
        "httpx": httpx_reader(stock),
    }
    closers: list[Any] = [ours.aclose, ours_httpx.aclose, stock.aclose]
    if available("aiodocker"):
        import aiodocker

        adocker = aiodocker.Docker(url=f"unix://{path}")
        readers["aiodocker"] = aiodocker_reader(adocker)
        closers.append(adocker.close)
    if available("docker-py"):
        import docker  # type: ignore[import-untyped]

        api = docker.APIClient(base_url=f"unix://{path}", version="1.41", timeout=600)
        readers["docker-py"] = dockerpy_reader(api)

        async def close_api() -> None:
            api.close()

        closers.append(close_api)
    try:
        for index, ((tty, ts), names) in enumerate(CASES.items()):
            if settings.quick and index:
                names = ("raw", "ours", "runtime")  # the smoke run reads every case once
                if tty and not ts:
                    names += (SLOW_TTY,)
            await _case(
                section, settings, fixtures[tty], ts, [n for n in names if n in readers], readers
            )
    finally:
        for close in closers:
            await close()
    section.columns = [
        "log",
        "contender",
        "s",
        "MB/s",
        "lines/s",
        "CPU s",
        "vs raw",
        "ours ÷ this (lines/s)",
    ]
    section.notes.append(
        f"{settings.log_batches} batch(es) per case, contenders interleaved (order rotated); "
        "medians; ratios are per-batch ratios' medians."
    )
    section.notes.append(
        "stock httpx reads the raw body (no demultiplexing): a transport floor, not a "
        "log reader. aiodocker inspects the container before each read (one extra request), "
        "yields `str` lines; docker-py yields frame payloads; ours yields `Frame` / "
        "`StampedFrame` (timestamp parsed into a datetime, prefix stripped)."
    )
    if not settings.quick:
        section.notes.append(
            "docker-py reads TTY logs ~10x slower than the others (see a `--quick` run), so "
            "the full run leaves it out of the TTY cases."
        )
    section.notes.append(
        "CPU s is this process's CPU time (all threads) during the read; the engine runs "
        "on the same 2 cores, so client CPU slows the daemon that produces the body."
    )
    section.seconds = time.perf_counter() - started
    return section


async def _case(
    section: Section,
    settings: Settings,
    fx: LogFixture,
    timestamps: bool,
    names: list[str],
    readers: dict[str, Reader],
) -> None:
    label = f"{'TTY' if fx.tty else 'non-TTY'}{', timestamps' if timestamps else ''}"
    runs: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    for batch in range(settings.log_batches):
        shift = batch % len(names)
        for name in names[shift:] + names[:shift]:
            for attempt in (1, 2):
                cpu, start = time.process_time(), time.perf_counter()
                try:
                    size, items = await readers[name](fx, timestamps)
                    break
                except Exception as exc:  # the engine restarted under us: wait, read again
                    if attempt == 2:
                        raise
                    section.notes.append(f"{label}, {name}: read again after {exc!r:.120}")
                    await _engine_back(settings.socket_path)
            seconds = time.perf_counter() - start
            runs[name].append(
                {"seconds": seconds, "cpu": time.process_time() - cpu, "size": size, "items": items}
            )
            if name == "ours" and (size != fx.text_bytes or items != fx.lines) and not fx.tty:
                raise RuntimeError(
                    f"ours read {size} bytes in {items} frames from {fx.name}, expected "
                    f"{fx.text_bytes} bytes in {fx.lines} lines"
                )
    data: dict[str, Any] = {}
    for name in names:
        secs = [r["seconds"] for r in runs[name]]
        t = median(secs)
        vs_raw = _per_batch(runs, "raw", name)
        ours_vs = _per_batch(runs, name, "ours") if name not in ("raw", "ours") else float("nan")
        data[name] = {
            "runs": runs[name],
            "seconds": t,
            "mb_per_s": fx.text_bytes / t / 1e6,
            "lines_per_s": fx.lines / t,
            "vs_raw": vs_raw,
            "ours_vs_this": ours_vs,
        }
        section.rows.append(
            [
                label,
                LABELS[name],
                fmt(t, 2),
                fmt(fx.text_bytes / t / 1e6),
                fmt(fx.lines / t / 1e3, 0, " k"),
                fmt(median([r["cpu"] for r in runs[name]]), 2),
                ratio(vs_raw) if name != "raw" else "-",
                ratio(ours_vs) if ours_vs == ours_vs else "-",
            ]
        )
    section.data[label] = data
    if "ours" not in data:
        return
    ours_raw = data["ours"]["vs_raw"]
    section.targets.append(
        Target(
            f"logs {label}: ours vs raw socket MB/s",
            f">= {GOAL_RAW:.0%}",
            f"{ours_raw:.0%} ({data['ours']['mb_per_s']:.1f} vs "
            f"{data['raw']['mb_per_s']:.1f} MB/s)",
            ours_raw >= GOAL_RAW,
        )
    )
    if "runtime" in data:
        runtime_raw = data["runtime"]["vs_raw"]
        section.targets.append(
            Target(
                f"logs {label}: DockerRuntime.logs vs raw socket MB/s",
                f">= {GOAL_RAW:.0%}",
                f"{runtime_raw:.0%} ({data['runtime']['mb_per_s']:.1f} MB/s)",
                runtime_raw >= GOAL_RAW,
            )
        )
        if "aiodocker" in data:
            cpu = median([r["cpu"] for r in runs["runtime"]])
            theirs = median([r["cpu"] for r in runs["aiodocker"]])
            section.targets.append(
                Target(
                    f"logs {label}: DockerRuntime.logs CPU vs aiodocker's",
                    f"<= {GOAL_CPU_VS_AIODOCKER}x",
                    f"{cpu / theirs:.2f}x ({cpu:.2f} vs {theirs:.2f} s)",
                    cpu / theirs <= GOAL_CPU_VS_AIODOCKER,
                )
            )
    for other in ("aiodocker", "docker-py"):
        if other in data:
            value = data[other]["ours_vs_this"]
            section.targets.append(
                Target(
                    f"logs {label}: ours vs {other} lines/s",
                    f">= {GOAL_OTHERS:.0f}x",
                    f"{value:.2f}x",
                    value >= GOAL_OTHERS,
                )
            )


async def _engine_back(path: str, timeout: float = 120.0) -> None:
    """Wait until the engine answers ``/_ping`` again."""
    engine = Engine(path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            engine.ping_headers()
            return
        except OSError:
            await anyio.sleep(0.5)


def _per_batch(runs: dict[str, list[dict[str, float]]], fast: str, slow: str) -> float:
    """Median over batches of ``time(fast) / time(slow)``: ``slow``'s speed relative to ``fast``."""
    pairs = zip(runs[fast], runs[slow], strict=True)
    return median([f["seconds"] / s["seconds"] for f, s in pairs])

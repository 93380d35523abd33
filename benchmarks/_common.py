"""What the benchmark sections share: the contenders, interleaved timing and fd counting."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import statistics
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from lightshuttle_runtime import DockerClient

from ._engine import API

#: Every contender, in table order. "raw" is the floor: a blocking keep-alive socket.
CONTENDERS = ("raw", "ours", "ours-httpx", "httpx", "aiodocker", "docker-py")
LABELS = {
    "raw": "raw socket (floor)",
    "raw-asyncio": "raw asyncio stream (floor)",
    "ours": "lightshuttle (native transport)",
    "runtime": "lightshuttle DockerRuntime.logs (LogChunk)",
    "ours-httpx": 'lightshuttle (transport_kind="httpx")',
    "httpx": "stock httpx.AsyncClient over UDS",
    "aiodocker": "aiodocker",
    "docker-py": "docker-py APIClient",
}


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def available(name: str) -> bool:
    """Whether a contender can run here (docker-py and aiodocker are the ``bench`` extra).

    ``LS_BENCH_SKIP=aiodocker,docker-py`` leaves contenders out on purpose.
    """
    if name in os.environ.get("LS_BENCH_SKIP", "").split(","):
        return False
    if name == "aiodocker":
        return installed("aiodocker")
    if name == "docker-py":
        return installed("docker")
    return True


# -- the contenders for cheap requests ---------------------------------------------------


@dataclass
class Contender:
    """One client, reduced to the calls the latency and concurrency sections make."""

    name: str
    ping: Callable[[], Awaitable[Any]]
    inspect: Callable[[str], Awaitable[Any]]
    close: Callable[[], Awaitable[None]]
    blocking: bool = False  # calls block the thread (the raw socket, docker-py)
    extra: dict[str, Any] = field(default_factory=dict)


def _raw_complete(buf: bytes | bytearray) -> bool:
    """Whether ``buf`` holds one whole response (Content-Length or chunked)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = bytes(buf[:end]).lower()
    at = head.find(b"content-length:")
    if at >= 0:
        stop = head.find(b"\r\n", at)
        length = int(head[at + 15 : stop if stop >= 0 else len(head)])
        return len(buf) >= end + 4 + length
    return buf.endswith(b"0\r\n\r\n")


class RawSocket:
    """A blocking keep-alive socket with hand-written requests: the floor."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)

    def get(self, target: str) -> bytes:
        sock = self.sock
        sock.sendall(b"GET %s HTTP/1.1\r\nHost: docker\r\n\r\n" % target.encode())
        buf = sock.recv(262144)
        while not _raw_complete(buf):
            more = sock.recv(262144)
            if not more:
                raise ConnectionError("the engine closed the connection")
            buf += more
        if not buf.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"raw socket: unexpected answer {buf[:80]!r}")
        return buf

    def close(self) -> None:
        self.sock.close()


class RawAsyncioStream:
    """``asyncio.open_unix_connection`` with keep-alive and hand-written requests: the floor of
    an asyncio client (the event loop's own per-request cost included), bytes only."""

    async def open(self, path: str) -> None:
        import asyncio

        self.reader, self.writer = await asyncio.open_unix_connection(path, limit=1 << 20)

    async def get(self, target: str) -> bytes:
        self.writer.write(b"GET %s HTTP/1.1\r\nHost: docker\r\n\r\n" % target.encode())
        buf = await self.reader.read(262144)
        while not _raw_complete(buf):
            more = await self.reader.read(262144)
            if not more:
                raise ConnectionError("the engine closed the connection")
            buf += more
        if not buf.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"raw asyncio stream: unexpected answer {buf[:80]!r}")
        return buf

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def open_contender(name: str, path: str, *, max_connections: int | None = None) -> Contender:
    """Open contender ``name`` on the engine socket ``path``, ready after one warm-up ping."""
    contender = await _open(name, path, max_connections)
    await contender.ping()
    return contender


async def _open(name: str, path: str, max_connections: int | None) -> Contender:
    if name == "raw":
        raw = RawSocket(path)

        async def raw_ping() -> bytes:
            return raw.get("/_ping")

        async def raw_inspect(cid: str) -> bytes:
            return raw.get(f"{API}/containers/{cid}/json")

        async def raw_close() -> None:
            raw.close()

        return Contender(name, raw_ping, raw_inspect, raw_close, blocking=True, extra={"raw": raw})
    if name == "raw-asyncio":
        stream = RawAsyncioStream()
        await stream.open(path)

        async def stream_ping() -> bytes:
            return await stream.get("/_ping")

        async def stream_inspect(cid: str) -> bytes:
            return await stream.get(f"{API}/containers/{cid}/json")

        return Contender(name, stream_ping, stream_inspect, stream.close, extra={"raw": stream})
    if name in ("ours", "ours-httpx"):
        ours = DockerClient(
            f"unix://{path}",
            transport_kind="native" if name == "ours" else "httpx",
            max_connections=max_connections or 10,
        )
        return Contender(
            name, ours.system.ping, ours.containers.inspect, ours.aclose, extra={"client": ours}
        )
    if name == "httpx":
        limits = (
            httpx.Limits(max_connections=max_connections)
            if max_connections
            else httpx.Limits(max_connections=100, max_keepalive_connections=20)
        )
        client = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=path, limits=limits), base_url="http://docker"
        )

        async def httpx_ping() -> bytes:
            response = await client.get("/_ping")
            response.raise_for_status()
            return response.content

        async def httpx_inspect(cid: str) -> Any:
            response = await client.get(f"{API}/containers/{cid}/json")
            response.raise_for_status()
            return response.json()

        return Contender(name, httpx_ping, httpx_inspect, client.aclose, extra={"client": client})
    if name == "aiodocker":
        import aiodocker

        adocker = aiodocker.Docker(url=f"unix://{path}")

        async def aiodocker_ping() -> bytes:
            # aiodocker has no public ping; this is the call its own version check makes.
            async with adocker._query("_ping", versioned_api=False) as response:
                return await response.read()

        async def aiodocker_inspect(cid: str) -> Any:
            return await adocker.containers.get(cid)

        return Contender(
            name, aiodocker_ping, aiodocker_inspect, adocker.close, extra={"docker": adocker}
        )
    if name == "docker-py":
        import docker  # type: ignore[import-untyped]

        api = docker.APIClient(
            base_url=f"unix://{path}",
            version="1.41",
            **({"max_pool_size": max_connections} if max_connections else {}),
        )

        async def dockerpy_ping() -> Any:
            return api.ping()

        async def dockerpy_inspect(cid: str) -> Any:
            return api.inspect_container(cid)

        async def dockerpy_close() -> None:
            api.close()

        return Contender(
            name, dockerpy_ping, dockerpy_inspect, dockerpy_close, blocking=True, extra={"api": api}
        )
    raise ValueError(f"unknown contender {name!r}")


# -- timing ------------------------------------------------------------------------------


@dataclass
class Samples:
    """Per-round samples of one variant (seconds) and its CPU seconds per round."""

    rounds: list[list[float]] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def round_medians(self) -> list[float]:
        return [statistics.median(r) for r in self.rounds]

    @property
    def median(self) -> float:
        """The median of the per-round medians."""
        return statistics.median(self.round_medians())

    @property
    def cpu_per_call(self) -> float:
        calls = sum(len(r) for r in self.rounds)
        return sum(self.cpu) / calls if calls else float("nan")


async def interleave(
    variants: dict[str, Callable[[], Awaitable[Any]]],
    *,
    rounds: int,
    per_round: int,
    warmup: int,
) -> dict[str, Samples]:
    """Time each variant ``per_round`` times per round, the variants taking turns.

    The order of the variants rotates from round to round, so that no variant always runs
    right after the same neighbour. A noisy spell hurts the variants of that round alike;
    the ratios are therefore taken round by round (:func:`round_ratio`).
    """
    for call in variants.values():
        for _ in range(warmup):
            await call()
    samples = {name: Samples() for name in variants}
    names = list(variants)
    clock = time.perf_counter
    cpu_clock = time.process_time
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            call = variants[name]
            times: list[float] = []
            cpu_start = cpu_clock()
            for _ in range(per_round):
                start = clock()
                await call()
                times.append(clock() - start)
            samples[name].cpu.append(cpu_clock() - cpu_start)
            samples[name].rounds.append(times)
    return samples


def round_ratio(
    top: Samples, bottom: Samples, *, minus: Samples | None = None, minus_bottom: bool = True
) -> float:
    """The median over rounds of ``median(top) / median(bottom)`` in the same round;
    with ``minus``, of ``(top - minus) / (bottom - minus)`` (overheads over a floor)."""
    values = []
    for i, (t, b) in enumerate(zip(top.round_medians(), bottom.round_medians(), strict=True)):
        if minus is not None:
            floor = minus.round_medians()[i]
            t -= floor
            if minus_bottom:
                b -= floor
        values.append(t / b if b > 0 else float("nan"))
    return statistics.median(values)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


# -- file descriptors and connections ----------------------------------------------------


def open_fds() -> tuple[int, int]:
    """(all open file descriptors, of which sockets) of this process."""
    total = sockets = 0
    for fd in os.listdir("/proc/self/fd"):
        total += 1
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                sockets += 1
    return total, sockets


class ConnectCounter:
    """Counts ``connect()`` calls to one Unix socket path, from any library and thread.

    Every contender (our transport, httpcore via anyio, aiohttp via asyncio, docker-py via
    ``socket``) ends in ``socket.socket.connect``; the patch is removed on exit.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.count = 0
        self._lock = threading.Lock()

    def __enter__(self) -> ConnectCounter:
        original = socket.socket.connect
        counter = self

        def connect(sock: socket.socket, address: Any) -> None:
            if address == counter.path or address == counter.path.encode():
                with counter._lock:
                    counter.count += 1
            original(sock, address)

        self._original = original
        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        socket.socket.connect = self._original  # type: ignore[method-assign]


@contextlib.asynccontextmanager
async def opened(name: str, path: str, **kwargs: Any) -> AsyncIterator[Contender]:
    contender = await open_contender(name, path, **kwargs)
    try:
        yield contender
    finally:
        await contender.close()


def rss_kib() -> tuple[int, int]:
    """(current RSS, peak RSS) of this process in KiB, from /proc/self/status."""
    current = peak = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1])
    return current, peak


@dataclass(frozen=True)
class Settings:
    """Sizes and repeat counts of one run (``--quick`` shrinks them all)."""

    socket_path: str
    quick: bool = False
    prefix: str = "ls-bench"  # names of the containers made
    # 1. latency
    rounds: int = 12
    per_round: int = 150
    warmup: int = 100
    # 2. concurrency
    inspects: int = 1000
    in_flight: int = 50
    concurrency_rounds: int = 3
    # 3. logs
    log_mb: int = 200
    log_batches: int = 3
    # 5. list decode
    list_containers: int = 500
    # 6. wait_healthy
    health_runs: int = 10
    # 7. footprint
    import_runs: int = 7
    # 8. memory
    follow_containers: int = 100
    follow_seconds: float = 5.0

    @classmethod
    def quick_settings(cls, socket_path: str) -> Settings:
        return cls(
            socket_path,
            quick=True,
            prefix="ls-bench-quick",
            rounds=3,
            per_round=30,
            warmup=10,
            inspects=100,
            in_flight=10,
            concurrency_rounds=1,
            log_mb=1,
            log_batches=1,
            list_containers=20,
            health_runs=1,
            import_runs=1,
            follow_containers=4,
            follow_seconds=0.5,
        )

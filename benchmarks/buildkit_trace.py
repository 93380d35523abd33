"""What decoding BuildKit's trace costs, as a share of a build's client CPU.

Run: ``PYTHONPATH=src python benchmarks/buildkit_trace.py [--host unix:///run/docker28.sock]
[--lines 20000] [--rounds 3]``. Each round builds a Dockerfile whose ``RUN`` steps print
``--lines`` lines in total (BuildKit sends them as ``VertexLog`` trace records, a few hundred
bytes each, base64 protobuf in JSON) with ``--no-cache``, through ``client.build_events``, and
measures the process CPU time (``time.process_time``) of the whole call: packing the context,
HTTP, JSON lines, base64 + protobuf, the step events. The same response body, kept, is then
decoded again offline into the same events (best of 5), which is the trace-decoding part of
that CPU; the report gives their ratio per round and the median. Target: < 5 %.

Needs a Docker engine (BuildKit); images are tagged ``lsbk-bench:trace`` and removed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
import httpx

from lightshuttle_runtime import DockerClient
from lightshuttle_runtime.api._build import _EventDecoder
from lightshuttle_runtime.models import ImageBuilt

TAG = "lsbk-bench:trace"


def dockerfile(lines: int, steps: int = 4) -> str:
    per_step = lines // steps
    runs = "".join(
        f"RUN i=0; while [ $i -lt {per_step} ]; do echo step {n} line $i of the build; "
        "i=$((i+1)); done\n"
        for n in range(steps)
    )
    return "FROM busybox:local\n" + runs


class KeepingTransport(httpx.AsyncBaseTransport):
    """Keeps a copy of each ``/build`` response body as it streams through."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.chunks: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not request.url.path.endswith("/build"):
            return response
        chunks, body = self.chunks, response.stream

        class Keeping(httpx.AsyncByteStream):
            async def __aiter__(self):  # type: ignore[no-untyped-def]
                async for chunk in body:  # type: ignore[union-attr]
                    chunks.append(chunk)
                    yield chunk

            async def aclose(self) -> None:
                await body.aclose()  # type: ignore[union-attr]

        return httpx.Response(
            response.status_code, headers=response.headers, stream=Keeping(), request=request
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


def decode_offline(chunks: list[bytes]) -> tuple[float, int]:
    """Best-of-5 CPU seconds to decode the kept body into events, and the event count."""
    best, count = float("inf"), 0
    for _ in range(5):
        start = time.process_time()
        decoder = _EventDecoder()
        count = sum(len(decoder.feed(chunk)) for chunk in chunks) + len(decoder.close())
        best = min(best, time.process_time() - start)
    return best, count


async def one_round(host: str, context: Path) -> dict[str, float]:
    inner = DockerClient(host).transport
    keeping = KeepingTransport(inner)
    async with DockerClient(host, transport=keeping) as docker:
        await docker.system.ping()
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        async with docker.build_events(context, tags=TAG, nocache=True, builder="buildkit") as s:
            events = [event async for event in s]
        build_cpu = time.process_time() - start_cpu
        wall = time.perf_counter() - start_wall
        await docker.images.remove(TAG, force=True)
    if not any(isinstance(e, ImageBuilt) for e in events):
        raise SystemExit("the build reported no image")
    decode_cpu, count = decode_offline(keeping.chunks)
    body = sum(map(len, keeping.chunks))
    return {
        "wall_s": wall,
        "client_cpu_s": build_cpu,
        "decode_cpu_s": decode_cpu,
        "share": decode_cpu / build_cpu,
        "events": count,
        "body_bytes": body,
        "records": max(1, b"".join(keeping.chunks).count(b"\n")),
    }


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="lsbk-bench-") as tmp:
        context = Path(tmp)
        (context / "Dockerfile").write_text(dockerfile(args.lines))
        rounds = [await one_round(args.host, context) for _ in range(args.rounds)]
    print(f"engine {args.host}, {args.lines} log lines in 4 RUN steps, {args.rounds} rounds")
    print(
        "| round | wall s | client CPU s | decode CPU s | share of CPU | share of wall "
        "| records | µs/record | events | body |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, r in enumerate(rounds, 1):
        print(
            f"| {n} | {r['wall_s']:.2f} | {r['client_cpu_s']:.3f} | {r['decode_cpu_s']:.4f} | "
            f"{r['share']:.1%} | {r['decode_cpu_s'] / r['wall_s']:.1%} | {r['records']:.0f} | "
            f"{r['decode_cpu_s'] / r['records'] * 1e6:.1f} | {r['events']:.0f} | "
            f"{r['body_bytes'] / 1024:.0f} KiB |"
        )
    share = statistics.median(r["share"] for r in rounds)
    verdict = "met" if share < 0.05 else "NOT met"
    print(
        f"median share of the build's client CPU spent decoding the trace: {share:.1%} "
        f"(target < 5 %: {verdict})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="unix:///var/run/docker.sock")
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    anyio.run(main, parser.parse_args())
    sys.exit(0)

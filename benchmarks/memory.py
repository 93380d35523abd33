"""8. Memory: peak RSS while following the logs of N running containers at once.

Each contender runs in a child process of its own (so that one's memory does not count
for another): it imports its client, makes it, records its RSS (the baseline), then
follows the logs of every container (``follow=True``, ``tail=10``) for a few seconds
and reports its peak RSS (``VmHWM``) and the number of items received. The containers
print a line every 100 ms; they are made once, started for this section and killed
after it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ._common import LABELS, Settings, available, rss_kib
from ._engine import Engine
from ._report import Section, fmt

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = (
    'i=0; while :; do echo "follow line $i from a benchmark container"; '
    "i=$((i+1)); usleep 100000; done"
)
CHILDREN = ("ours", "aiodocker", "docker-py")


def names(settings: Settings) -> list[str]:
    return [f"{settings.prefix}-follow-{i:03d}" for i in range(settings.follow_containers)]


async def run(settings: Settings) -> Section:
    section = Section(
        "memory", f"8. Memory: following the logs of {settings.follow_containers} containers"
    )
    started = time.perf_counter()
    engine = Engine(settings.socket_path)
    containers = names(settings)

    def up(name: str) -> None:
        engine.ensure_running(name, {"Cmd": ["sh", "-c", SCRIPT]}, fingerprint="follow-v1")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(up, containers))
    section.columns = [
        "contender",
        "RSS before following MiB",
        "peak RSS MiB",
        "growth MiB",
        "items received",
    ]
    try:
        for name in CHILDREN:
            if not available(name):
                section.notes.append(f"{name}: not installed, skipped")
                continue
            result = _child(settings, name, containers)
            section.data[name] = result
            section.rows.append(
                [
                    LABELS[name],
                    fmt(result["baseline_kib"] / 1024, 1),
                    fmt(result["peak_kib"] / 1024, 1),
                    fmt((result["peak_kib"] - result["baseline_kib"]) / 1024, 1),
                    f"{result['items']:,}",
                ]
            )
    finally:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(engine.kill, containers))
    section.notes.append(
        f"{settings.follow_seconds:g} s of following; one child process per contender. "
        "Ours is made with max_connections = the number of containers: with the default "
        "(10) the 11th follow waits for a free connection. docker-py follows each "
        "container in a thread."
    )
    section.seconds = time.perf_counter() - started
    return section


def _child(settings: Settings, name: str, containers: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.memory",
            name,
            settings.socket_path,
            str(settings.follow_seconds),
            *containers,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120 + settings.follow_seconds,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory child {name} failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# -- the child -----------------------------------------------------------------------------


async def _follow_ours(path: str, seconds: float, containers: list[str]) -> tuple[int, int]:
    import anyio

    from lightshuttle_runtime import DockerClient

    client = DockerClient(f"unix://{path}", max_connections=len(containers) + 1)
    await client.system.ping()
    baseline, _ = rss_kib()
    count = 0

    async def follow(name: str) -> None:
        nonlocal count
        async with client.containers.logs(name, tty=False, follow=True, tail=10) as frames:
            async for _ in frames:
                count += 1

    with anyio.move_on_after(seconds):
        async with anyio.create_task_group() as tasks:
            for name in containers:
                tasks.start_soon(follow, name)
    await client.aclose()
    return baseline, count


async def _follow_aiodocker(path: str, seconds: float, containers: list[str]) -> tuple[int, int]:
    import asyncio

    import aiodocker

    docker = aiodocker.Docker(url=f"unix://{path}")
    await docker.version()
    baseline, _ = rss_kib()
    count = 0

    async def follow(name: str) -> None:
        nonlocal count
        lines = docker.containers.container(name).log(
            stdout=True, stderr=True, follow=True, tail=10
        )
        async for _ in lines:
            count += 1

    tasks = [asyncio.create_task(follow(n)) for n in containers]
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await docker.close()
    return baseline, count


def _follow_dockerpy(path: str, seconds: float, containers: list[str]) -> tuple[int, int]:
    import threading

    import docker  # type: ignore[import-untyped]

    api = docker.APIClient(base_url=f"unix://{path}", version="1.41", max_pool_size=len(containers))
    api.ping()
    baseline, _ = rss_kib()
    counts = [0] * len(containers)

    def follow(index: int) -> None:
        for _ in api.logs(containers[index], stream=True, follow=True, tail=10):
            counts[index] += 1

    for index in range(len(containers)):
        threading.Thread(target=follow, args=(index,), daemon=True).start()
    time.sleep(seconds)
    return baseline, sum(counts)


def child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("contender", choices=CHILDREN)
    parser.add_argument("socket")
    parser.add_argument("seconds", type=float)
    parser.add_argument("containers", nargs="+")
    args = parser.parse_args(argv)
    if args.contender == "ours":
        import anyio

        baseline, items = anyio.run(_follow_ours, args.socket, args.seconds, args.containers)
    elif args.contender == "aiodocker":
        import asyncio

        baseline, items = asyncio.run(_follow_aiodocker(args.socket, args.seconds, args.containers))
    else:
        baseline, items = _follow_dockerpy(args.socket, args.seconds, args.containers)
    _, peak = rss_kib()
    print(json.dumps({"baseline_kib": baseline, "peak_kib": peak, "items": items}), flush=True)
    os._exit(0)  # docker-py's follow threads never end on their own


if __name__ == "__main__":
    child_main(sys.argv[1:])

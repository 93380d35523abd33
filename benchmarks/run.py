"""Run the benchmark suite against one engine and write the results.

    PYTHONPATH=src python -m benchmarks [--quick] [--host unix:///var/run/docker.sock]

Writes ``benchmarks/results/latest.md`` and ``latest.json`` (``quick.*`` with ``--quick``).
The suite compares, side by side in one process and one run, this client (native
transport and ``transport_kind="httpx"``), stock httpx over UDS, aiodocker, docker-py and a
raw blocking socket; docker-py and aiodocker come from the ``bench`` extra and are skipped
when missing. Containers it needs are made once, labelled ``lightshuttle.bench`` and reused;
``--cleanup`` removes them all.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import anyio

from ._common import Settings
from ._engine import Engine
from ._report import Section, Target, write

RESULTS = Path(__file__).parent / "results"
SECTIONS = (
    "latency",
    "concurrency",
    "logs",
    "decoders",
    "list",
    "health",
    "footprint",
    "cli",
    "memory",
)
#: Sections run only when named in --only: ``remote`` needs the TLS, tcp and ssh endpoints of
#: ``scripts/engines-up``.
OPTIONAL = ("remote",)


#: section -> (module, function)
_RUNNERS = {
    "latency": ("latency", "run"),
    "concurrency": ("concurrency", "run"),
    "logs": ("logs", "run"),
    "decoders": ("decoding", "run_decoders"),
    "list": ("decoding", "run_list"),
    "health": ("health", "run"),
    "footprint": ("footprint", "run"),
    "cli": ("footprint", "run_cli"),
    "memory": ("memory", "run"),
    "remote": ("remote", "run"),
}


def _runner(name: str) -> Callable[[Settings], Awaitable[Section]]:
    module_name, function = _RUNNERS[name]
    module = importlib.import_module(f"benchmarks.{module_name}")
    return getattr(module, function)  # type: ignore[no-any-return]


def machine(engine: Engine) -> dict[str, Any]:
    cpu = "?"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as info:
        mem_kib = int(info.readline().split()[1])
    version = engine.version()
    headers = engine.ping_headers()

    def dist(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{cpu}, {os.cpu_count()} cores, {mem_kib / 2**20:.0f} GiB RAM",
        "os": f"{platform.system()} {platform.release()}",
        "python": f"CPython {platform.python_version()}",
        "engine": f"{headers.get('server', '?')} (API {version.get('ApiVersion', '?')}) at "
        f"{engine.socket_path}",
        "libraries": ", ".join(
            f"{n} {dist(n)}"
            for n in (
                "httpx",
                "httpcore",
                "msgspec",
                "anyio",
                "aiodocker",
                "aiohttp",
                "docker",
                "requests",
            )
        ),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _merged(out: Path, fresh: list[Section]) -> list[Section]:
    """The sections of the results file at ``out``, with ``fresh`` ones in their place."""
    path = out.with_suffix(".json")
    old: dict[str, Section] = {}
    if path.exists():
        for raw in json.loads(path.read_text())["sections"]:
            raw["targets"] = [Target(**t) for t in raw["targets"]]
            old[raw["key"]] = Section(**raw)
    old.update({s.key: s for s in fresh})
    return [old[key] for key in SECTIONS if key in old]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"),
        help="the engine (unix:// only; default DOCKER_HOST or /var/run/docker.sock)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run in seconds")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS + OPTIONAL,
        help="run only these sections (default: all but remote, which runs only when named)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="output path without suffix (default benchmarks/results/latest, or quick)",
    )
    parser.add_argument("--log-batches", type=int, help="reads per contender and log case")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the other sections of the existing results file (with --only)",
    )
    parser.add_argument(
        "--cleanup", action="store_true", help="remove every container the suite made, and exit"
    )
    args = parser.parse_args(argv)
    path = args.host.removeprefix("unix://")
    engine = Engine(path)
    if args.cleanup:
        print(f"removed {engine.cleanup()} containers labelled lightshuttle.bench")
        return 0
    settings = Settings.quick_settings(path) if args.quick else Settings(path)
    if args.log_batches:
        settings = dataclasses.replace(settings, log_batches=args.log_batches)
    out = args.out or RESULTS / ("quick" if args.quick else "latest")
    meta: dict[str, Any] = {"mode": "quick" if args.quick else "full", "machine": machine(engine)}
    sections: list[Section] = []
    failed: list[str] = []
    for name in args.only or SECTIONS:
        started = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        try:
            section = anyio.run(_runner(name), settings)
        except Exception as exc:  # one failed section must not lose the others' results
            traceback.print_exc()
            section = Section(name, f"{name}: FAILED")
            section.notes.append(f"the section failed: {type(exc).__name__}: {exc}"[:500])
            failed.append(name)
        sections.append(section)
        print(f"   {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        write(out, meta, _merged(out, sections) if args.merge else sections)
    meta["machine"]["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if args.merge:
        meta["machine"]["merged"] = f"sections {', '.join(args.only or SECTIONS)} re-run then"
        sections = _merged(out, sections)
    md_path, json_path = write(out, meta, sections)
    print(md_path.read_text())
    print(f"wrote {md_path} and {json_path}", file=sys.stderr)
    if failed:
        print(f"failed sections: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0

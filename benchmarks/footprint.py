"""7. Footprint: import time, installed size and transitive runtime dependencies.

Import time: ``python -X importtime -c "import NAME"`` in a fresh interpreter, the
cumulative microseconds of the top-level module, median of several runs (bytecode
caches warm). Dependencies: the ``Requires-Dist`` entries without an ``extra`` marker
(and whose markers hold here), followed transitively through the installed metadata;
ours are read from ``pyproject.toml``. Size: the files a distribution installs
(its RECORD) without ``__pycache__``; ours: the package's source tree.
"""

from __future__ import annotations

import contextlib
import os
import re
import statistics
import subprocess
import sys
import time
import tomllib
from importlib import metadata
from pathlib import Path

from ._common import Settings, available, installed
from ._report import Section, Target, fmt

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "lightshuttle_runtime"
GOAL_IMPORT_MS = 80.0
GOAL_DEPS = 3
#: What ``import lightshuttle_runtime`` may add above ``import httpx`` (issue 15).
GOAL_ABOVE_HTTPX_MS = 30.0
#: (label, module imported, distribution)
SUBJECTS = (
    ("lightshuttle_runtime", "lightshuttle_runtime", "lightshuttle-runtime"),
    ("aiodocker", "aiodocker", "aiodocker"),
    ("docker-py", "docker", "docker"),
    ("reference: httpx alone", "httpx", "httpx"),
)


def import_ms(module: str, runs: int) -> tuple[float, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    values = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        for line in done.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].strip() == module and not parts[2].startswith("  "):
                values.append(int(parts[1]) / 1000)
    return statistics.median(values), values


def _requirement_names(requires: list[str] | None) -> list[str]:
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover - packaging comes with pip and pytest
        Requirement = None  # type: ignore[assignment,misc]
    names = []
    for text in requires or []:
        if Requirement is not None:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            names.append(req.name)
        elif "extra ==" not in text:
            names.append(re.split(r"[ ;<>=!~\[(]", text, maxsplit=1)[0])
    return names


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_deps(dist: str) -> list[str]:
    if dist == "lightshuttle-runtime":
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        return _requirement_names(project["dependencies"])
    return _requirement_names(metadata.requires(dist))


def closure(dist: str) -> list[str]:
    seen: dict[str, None] = {}
    todo = direct_deps(dist)
    while todo:
        name = _canonical(todo.pop())
        if name in seen:
            continue
        seen[name] = None
        with contextlib.suppress(metadata.PackageNotFoundError):
            todo += direct_deps(name)
    return sorted(seen)


def dist_size(dist: str) -> int:
    if dist == "lightshuttle-runtime":
        return sum(
            p.stat().st_size
            for p in PACKAGE.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        )
    files = metadata.files(dist) or []
    total = 0
    for file in files:
        if "__pycache__" in file.parts:
            continue
        path = Path(str(file.locate()))
        if path.is_file():
            total += path.stat().st_size
    return total


async def run(settings: Settings) -> Section:
    section = Section("footprint", "7. Footprint")
    started = time.perf_counter()
    section.columns = [
        "package",
        "import ms (median)",
        "direct runtime deps",
        "transitive runtime deps",
        "own size MB",
        "size with deps MB",
    ]
    for label, module, dist in SUBJECTS:
        if not installed(module) or not available(label):
            section.notes.append(f"{label}: not installed, skipped")
            continue
        ms, values = import_ms(module, settings.import_runs)
        deps = direct_deps(dist)
        every = closure(dist)
        own = dist_size(dist)
        total = own + sum(dist_size(d) for d in every if _installed_dist(d))
        section.data[label] = {
            "import_ms": ms,
            "import_runs_ms": values,
            "direct": deps,
            "transitive": every,
            "own_bytes": own,
            "total_bytes": total,
        }
        section.rows.append(
            [
                label,
                fmt(ms, 1),
                str(len(deps)),
                f"{len(every)}: {', '.join(every)}",
                fmt(own / 1e6, 2),
                fmt(total / 1e6, 2),
            ]
        )
    ours = section.data["lightshuttle_runtime"]
    section.targets.append(
        Target(
            "import time",
            f"<= {GOAL_IMPORT_MS:.0f} ms",
            f"{ours['import_ms']:.1f} ms",
            ours["import_ms"] <= GOAL_IMPORT_MS,
        )
    )
    httpx_alone = section.data.get("reference: httpx alone")
    if httpx_alone is not None:
        above = ours["import_ms"] - httpx_alone["import_ms"]
        section.targets.append(
            Target(
                "import above httpx's",
                f"<= {GOAL_ABOVE_HTTPX_MS:.0f} ms",
                f"{above:.1f} ms ({ours['import_ms']:.1f} - {httpx_alone['import_ms']:.1f})",
                above <= GOAL_ABOVE_HTTPX_MS,
            )
        )
    section.targets.append(
        Target(
            "runtime dependencies",
            f"{GOAL_DEPS} direct",
            f"{len(ours['direct'])} direct ({', '.join(ours['direct'])}), "
            f"{len(ours['transitive'])} transitive",
            len(ours["direct"]) == GOAL_DEPS,
        )
    )
    section.notes.append(
        f"import: `python -X importtime -c 'import X'`, cumulative time of X, median of "
        f"{settings.import_runs} runs in fresh interpreters."
    )
    section.seconds = time.perf_counter() - started
    return section


def _installed_dist(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True

"""7. Footprint: import time, installed size and transitive runtime dependencies.

Import time: ``python -X importtime -c "import NAME"`` in a fresh interpreter, the
cumulative microseconds of the top-level module, median of several runs, the subjects taking
turns. Two conditions: bytecode caches warm (as a package installed by pip, which compiles
it; here through a private ``PYTHONPYCACHEPREFIX``), and this source tree as the workplace
runs it (``PYTHONDONTWRITEBYTECODE=1``: our modules compiled at every start, the installed
packages' caches used). Dependencies: the ``Requires-Dist`` entries without an ``extra`` marker
(and whose markers hold here), followed transitively through the installed metadata;
ours are read from ``pyproject.toml``. Size: the files a distribution installs
(its RECORD) without ``__pycache__``; ours: the package's source tree.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from importlib import metadata
from pathlib import Path

from ._common import Settings, available, installed
from ._report import Section, Target, fmt, ratio

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


def _env(cache: str | None) -> dict[str, str]:
    """The environment of a measured process: bytecode cached in ``cache`` (None: as
    inherited, which here means no bytecode written for our source tree)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    if cache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache
    return env


def _import_once(module: str, env: dict[str, str]) -> float:
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
            return int(parts[1]) / 1000
    raise RuntimeError(f"no import time for {module} in {done.stderr[-300:]!r}")


def import_ms(modules: list[str], runs: int, cache: str | None) -> dict[str, list[float]]:
    """Each module's import times (ms), the modules taking turns run by run."""
    env = _env(cache)
    if cache is not None:
        for module in modules:  # warm the cache
            _import_once(module, env)
    values: dict[str, list[float]] = {m: [] for m in modules}
    for index in range(runs):
        shift = index % len(modules)
        for module in modules[shift:] + modules[:shift]:
            values[module].append(_import_once(module, env))
    return values


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
        "import ms (median, bytecode cached)",
        "import ms (PYTHONDONTWRITEBYTECODE=1)",
        "direct runtime deps",
        "transitive runtime deps",
        "own size MB",
        "size with deps MB",
    ]
    subjects = [
        (label, module, dist)
        for label, module, dist in SUBJECTS
        if installed(module) and available(label)
    ]
    for label, module, _ in SUBJECTS:
        if (label, module) not in [(lb, m) for lb, m, _ in subjects]:
            section.notes.append(f"{label}: not installed, skipped")
    modules = [module for _, module, _ in subjects]
    with tempfile.TemporaryDirectory(prefix="ls-bench-pyc-") as cache:
        warm = import_ms(modules, settings.import_runs, cache)
    cold = import_ms(modules, settings.import_runs, None)
    for label, module, dist in subjects:
        values = warm[module]
        ms = statistics.median(values)
        deps = direct_deps(dist)
        every = closure(dist)
        own = dist_size(dist)
        total = own + sum(dist_size(d) for d in every if _installed_dist(d))
        section.data[label] = {
            "import_ms": ms,
            "import_runs_ms": values,
            "import_ms_no_bytecode": statistics.median(cold[module]),
            "import_runs_ms_no_bytecode": cold[module],
            "direct": deps,
            "transitive": every,
            "own_bytes": own,
            "total_bytes": total,
        }
        section.rows.append(
            [
                label,
                fmt(ms, 1),
                fmt(statistics.median(cold[module]), 1),
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
        # Run by run (the two took turns), so that a noisy spell hurts both alike.
        above = statistics.median(
            a - b
            for a, b in zip(ours["import_runs_ms"], httpx_alone["import_runs_ms"], strict=True)
        )
        above_cold = statistics.median(
            a - b
            for a, b in zip(
                ours["import_runs_ms_no_bytecode"],
                httpx_alone["import_runs_ms_no_bytecode"],
                strict=True,
            )
        )
        section.notes.append(
            f"above httpx without bytecode caches for our tree (PYTHONDONTWRITEBYTECODE=1): "
            f"{above_cold:.1f} ms: compiling our modules at every start."
        )
        section.targets.append(
            Target(
                "import above httpx's",
                f"<= {GOAL_ABOVE_HTTPX_MS:.0f} ms",
                f"{above:.1f} ms (medians {ours['import_ms']:.1f} vs "
                f"{httpx_alone['import_ms']:.1f}; bytecode cached)",
                above <= GOAL_ABOVE_HTTPX_MS,
            )
        )
    dockerpy = section.data.get("docker-py")
    if dockerpy is not None:
        x = statistics.median(
            a / b for a, b in zip(ours["import_runs_ms"], dockerpy["import_runs_ms"], strict=True)
        )
        section.targets.append(
            Target(
                "import vs docker-py's",
                "<= 1.0x",
                f"{x:.2f}x ({ours['import_ms']:.1f} vs {dockerpy['import_ms']:.1f} ms)",
                x <= 1.0,
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
        f"{settings.import_runs} runs in fresh interpreters, the subjects taking turns; "
        "'above httpx' is the median of the run-by-run differences."
    )
    section.seconds = time.perf_counter() - started
    return section


def _installed_dist(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


# -- 7b. the command line's start-up ---------------------------------------------------------

#: ``lightshuttle-runtime CMD`` whole process <= this x a one-line docker-py script (issue 15).
GOAL_CLI_VS_DOCKERPY = 0.7
#: (command, the docker-py one-liner doing the same)
CLI_COMMANDS = (
    ("ps", "import docker; docker.from_env().containers.list()"),
    ("version", "import docker; docker.from_env().version()"),
)


def _ours_cli() -> list[str]:
    script = Path(sys.executable).parent / "lightshuttle-runtime"
    return [str(script)] if script.exists() else [sys.executable, "-m", "lightshuttle_runtime"]


def _wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


async def run_cli(settings: Settings) -> Section:
    section = Section("cli", "7b. Command-line start-up (whole processes)")
    started = time.perf_counter()
    section.columns = ["command", "ms (median)", "ms (best)", "x the docker-py script"]
    host = f"unix://{settings.socket_path}"
    runs = max(3, settings.import_runs * 2)
    docker_cli = shutil.which("docker")
    with tempfile.TemporaryDirectory(prefix="ls-bench-pyc-") as cache:
        env = {**_env(cache), "DOCKER_HOST": host}
        for command, one_liner in CLI_COMMANDS:
            variants: dict[str, list[str]] = {
                f"lightshuttle-runtime {command}": [*_ours_cli(), "--host", host, command],
            }
            if installed("docker") and available("docker-py"):
                variants[f"docker-py: `{one_liner}`"] = [sys.executable, "-c", one_liner]
            if docker_cli is not None:
                variants[f"reference: docker {command} (Go)"] = [docker_cli, command]
            for argv in variants.values():  # warm the bytecode cache and the engine
                _wall(argv, env)
            times: dict[str, list[float]] = {label: [] for label in variants}
            labels = list(variants)
            for index in range(runs):
                shift = index % len(labels)
                for label in labels[shift:] + labels[:shift]:
                    times[label].append(_wall(variants[label], env))
            ours_label = labels[0]
            reference = labels[1] if len(labels) > 1 and labels[1].startswith("docker-py") else None
            section.data[command] = {label: t for label, t in times.items()}
            for label, values in times.items():
                x = (
                    statistics.median(a / b for a, b in zip(values, times[reference], strict=True))
                    if reference
                    else float("nan")
                )
                section.rows.append(
                    [label, fmt(statistics.median(values)), fmt(min(values)), ratio(x)]
                )
            if reference is not None:
                x = statistics.median(
                    a / b for a, b in zip(times[ours_label], times[reference], strict=True)
                )
                section.targets.append(
                    Target(
                        f"CLI {command} vs a one-line docker-py script",
                        f"<= {GOAL_CLI_VS_DOCKERPY:.1f}x",
                        f"{x:.2f}x ({statistics.median(times[ours_label]):.0f} vs "
                        f"{statistics.median(times[reference]):.0f} ms)",
                        x <= GOAL_CLI_VS_DOCKERPY,
                    )
                )
    section.notes.append(
        f"{runs} runs of each command, taking turns (order rotated), bytecode cached; ratios "
        "are the medians of run-by-run ratios. docker-py's `from_env()` asks the engine its "
        "API version first (one more request); ours negotiates it with one `GET /_ping`."
    )
    section.seconds = time.perf_counter() - started
    return section

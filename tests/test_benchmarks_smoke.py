"""The benchmark suite's quick mode runs end to end against Docker (a smoke test, not a
measurement: the full suite never runs in CI)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKER_SOCKET = os.environ.get("LS_DOCKER_SOCKET", "/var/run/docker.sock")
SECTIONS = [
    "latency",
    "concurrency",
    "logs",
    "decoders",
    "list",
    "health",
    "footprint",
    "cli",
    "memory",
]


def _docker_answers() -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2)
            sock.connect(DOCKER_SOCKET)
            sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@pytest.mark.live
@pytest.mark.timeout(180)
def test_quick_mode_writes_every_section(tmp_path: Path) -> None:
    if not _docker_answers():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"no Docker engine answers on {DOCKER_SOCKET}")
        pytest.skip(f"no Docker engine answers on {DOCKER_SOCKET}")
    out = tmp_path / "quick"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--host",
            f"unix://{DOCKER_SOCKET}",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.with_suffix(".json").read_text())
    assert results["meta"]["mode"] == "quick"
    sections = {s["key"]: s for s in results["sections"]}
    assert list(sections) == SECTIONS
    for key, section in sections.items():
        assert section["rows"], f"section {key} has no rows"
    latency = sections["latency"]["data"]
    assert latency["ping"]["raw"]["median_us"] > 0
    assert latency["inspect"]["ours"]["median_us"] > 0
    targets = [t["name"] for s in results["sections"] for t in s["targets"]]
    assert "wait_healthy reaction (median)" in targets
    markdown = out.with_suffix(".md").read_text()
    assert "## Targets (issue 6)" in markdown
    assert "| raw socket (floor) |" in markdown

"""Two runs of the live suite on one machine take turns per engine (``hold_engine``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import engine_lock_path

HOLDER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from tests.conftest import hold_engine
    hold_engine({socket!r}, wait=0)
    print("held", flush=True)
    time.sleep(30)
    """
)


def _holder(root: Path, socket: str, lock_dir: Path) -> subprocess.Popen[str]:
    env = {"LS_LIVE_LOCK_DIR": str(lock_dir), "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(root=str(root), socket=socket)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def _end(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.wait()
    assert process.stdout is not None
    process.stdout.close()


def test_a_held_engine_makes_another_run_wait_then_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket = str(tmp_path / "engine.sock")
    monkeypatch.setenv("LS_LIVE_LOCK_DIR", str(tmp_path))
    process = _holder(Path(__file__).parent.parent, socket, tmp_path)
    try:
        lock = engine_lock_path(socket)
        assert lock.parent == tmp_path
        assert f"pid {process.pid}" in lock.read_text()
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                HOLDER.format(root=str(Path(__file__).parent.parent), socket=socket),
            ],
            env={"LS_LIVE_LOCK_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode != 0
        assert f"held by pid {process.pid}" in result.stderr
        assert "LS_LIVE_WAIT" in result.stderr
    finally:
        _end(process)


def test_an_engine_is_free_again_when_its_holder_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket = str(tmp_path / "engine.sock")
    monkeypatch.setenv("LS_LIVE_LOCK_DIR", str(tmp_path))
    root = Path(__file__).parent.parent
    first = _holder(root, socket, tmp_path)
    _end(first)
    second = _holder(root, socket, tmp_path)  # the lock went with the first process
    _end(second)

"""The engine dies mid-stream and comes back: live, against the real daemons.

Each test follows a container's logs and the engine's events on one client, kills the engine's
API process with SIGKILL (found through the socket's peer credentials), and checks that both
streams raise StreamInterruptedError within 1 s, after yielding what had arrived; that a call
made while the engine is down fails at once with a typed connection error; and, once the engine
is restarted with ``scripts/engines-up``, that the next call on the same client succeeds (no
manual reset).

Docker: ``dockerd`` is killed; with live-restore off its containers die too, which is why these
tests are marked ``daemon_restart`` and run last (tests/reliability/conftest.py moves them), and
why they make and remove their own container. Podman: the ``podman system service`` process is
killed; its containers live on under conmon, but the restarted service is equivalent.

Needs root (to kill and restart daemons); skipped otherwise, and when the engine does not run
here as a local process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from lightshuttle_runtime import (
    DockerClient,
    DockerConnectionError,
    NotFoundError,
    StreamInterruptedError,
)
from lightshuttle_runtime.models import ContainerCreateRequest
from tests.conftest import IN_CI, Engine, engine_answers

pytestmark = [pytest.mark.anyio, pytest.mark.live, pytest.mark.daemon_restart]

ENGINES_UP = Path(__file__).parents[2] / "scripts" / "engines-up"
INTERRUPT_BOUND = 1.0
PROCESS_NAMES = {"docker": "dockerd", "docker28": "dockerd", "podman": "podman"}
# The trap lets the restarted dockerd stop it at once (PID 1 ignores an untrapped SIGTERM, and
# dockerd, live-restore off, would wait 10 s before killing it).
TICKER = [
    "sh",
    "-c",
    "trap 'exit 0' TERM; i=0; while true; do echo line $i; i=$((i+1)); sleep 0.05; done",
]


def listener_pid(path: str) -> int:
    """The pid of the process that accepted our connection on the Unix socket ``path``."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, _uid, _gid = struct.unpack("3i", creds)
    return int(pid)


def engine_process(engine: Engine) -> int:
    """The engine's API process, or skip (fail under CI) when we may not kill it."""
    if os.geteuid() != 0:
        pytest.skip("killing and restarting an engine needs root")
    pid = listener_pid(engine.socket_path)
    comm = Path(f"/proc/{pid}/comm").read_text().strip()
    if comm != PROCESS_NAMES[engine.name]:
        message = f"{engine.socket_path} is served by {comm!r} (pid {pid}), not a local daemon"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return pid


async def restart(engine: Engine) -> None:
    """Start the engine again with scripts/engines-up and wait until it answers /_ping."""
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        f"LS_{engine.name.upper()}_SOCKET": engine.socket_path,
    }
    with anyio.fail_after(120):
        done = await anyio.run_process([str(ENGINES_UP), engine.name], env=env, check=False)
        assert done.returncode == 0, done.stderr.decode()
        while not engine_answers(engine.socket_path):
            await anyio.sleep(0.1)


@contextlib.asynccontextmanager
async def engine_back_afterwards(engine: Engine) -> AsyncIterator[None]:
    """Whatever happens in the block, the engine answers again after it."""
    try:
        yield
    finally:
        with anyio.CancelScope(shield=True):
            if not engine_answers(engine.socket_path):
                await restart(engine)


async def remove(docker: DockerClient, name: str) -> None:
    with contextlib.suppress(NotFoundError):
        await docker.containers.remove(name, force=True)


async def test_engine_killed_mid_stream_then_back(engine: Engine, anyio_backend: str) -> None:
    pid = engine_process(engine)
    name = f"ls-rel-restart-{anyio_backend}"
    outcomes: dict[str, tuple[int, BaseException | None, float]] = {}
    killed_at = 0.0
    async with engine_back_afterwards(engine), DockerClient(engine.host) as docker:
        await remove(docker, name)
        created = await docker.containers.create(
            ContainerCreateRequest(image="busybox:local", cmd=TICKER), name=name
        )
        await docker.containers.start(created.id)
        received = anyio.Event()
        seen = {"logs": 0, "events": 0}

        async def follow_logs() -> None:
            try:
                async with docker.containers.logs(created.id, tty=False, follow=True) as logs:
                    async for frame in logs:
                        assert frame.data.startswith(b"line ")
                        seen["logs"] += 1
                        if seen["logs"] >= 5 and seen["events"]:
                            received.set()
            except BaseException as exc:
                outcomes["logs"] = (seen["logs"], exc, time.monotonic())
                if not isinstance(exc, Exception):
                    raise
            else:
                outcomes["logs"] = (seen["logs"], None, time.monotonic())

        async def follow_events() -> None:
            try:
                async with docker.events.stream(filters={"container": [created.id]}) as events:
                    async for _message in events:
                        seen["events"] += 1
            except BaseException as exc:
                outcomes["events"] = (seen["events"], exc, time.monotonic())
                if not isinstance(exc, Exception):
                    raise
            else:
                outcomes["events"] = (seen["events"], None, time.monotonic())

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                group.start_soon(follow_logs)
                group.start_soon(follow_events)
                await anyio.sleep(0.3)  # both subscriptions are in place
                await docker.containers.kill(created.id, signal="SIGWINCH")  # an event
                await received.wait()
                killed_at = time.monotonic()
                os.kill(pid, signal.SIGKILL)

        # Down: a call fails at once with a typed error, no hang.
        with anyio.fail_after(5), pytest.raises(DockerConnectionError) as down:
            await docker.system.ping()
        assert not isinstance(down.value, StreamInterruptedError)

        await restart(engine)
        # Back: the same client, no reset.
        with anyio.fail_after(10):
            assert (await docker.system.ping()).api_version
            info = await docker.containers.inspect(created.id)
            assert info.id == created.id
        await remove(docker, name)

    for stream, (count, error, at) in outcomes.items():
        assert count > 0, f"{stream}: nothing was yielded before the kill"
        assert isinstance(error, StreamInterruptedError), f"{stream}: {error!r}"
        assert at - killed_at < INTERRUPT_BOUND, f"{stream}: {at - killed_at:.3f} s"

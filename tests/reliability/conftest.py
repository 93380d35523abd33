"""Shared pieces of the reliability suite: a FakeEngine that plays a tiny Docker, fd counting.

The FakeEngine here answers like an engine on API 1.41: ``/_ping``, container inspect, logs and
events, each scriptable per test through :class:`Script`. Tests that kill the live Docker
daemon are marked ``daemon_restart`` and moved to the end of the session, so that no other
test's container is running when the daemon dies.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import struct
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field

import pytest

from lightshuttle_runtime import DockerClient
from lightshuttle_runtime.testing import (
    Behaviour,
    FakeEngine,
    ReceivedRequest,
    respond,
    respond_json,
    stall_mid_stream,
)

API = "/v1.41"
#: Multiplies every hypothesis test's example count here (LS_HYPOTHESIS_SCALE=20 for a deep run).
HYPOTHESIS_SCALE = int(os.environ.get("LS_HYPOTHESIS_SCALE", "1"))


def examples(count: int) -> int:
    """``count`` hypothesis examples, scaled by ``LS_HYPOTHESIS_SCALE``."""
    return count * HYPOTHESIS_SCALE


CONTAINER = "c0ffee"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "daemon_restart: kills and restarts the live Docker daemon; runs last in the session",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the daemon-restart tests last (a stable sort keeps everything else in order)."""
    items.sort(key=lambda item: item.get_closest_marker("daemon_restart") is not None)


def frame(stream: int, data: bytes) -> bytes:
    """One multiplexed logs frame: ``[stream, 0, 0, 0, size]`` then the payload."""
    return struct.pack(">BxxxI", stream, len(data)) + data


def event(action: str, actor: str = CONTAINER) -> bytes:
    """One ``GET /events`` record, newline-terminated."""
    record = {"Type": "container", "Action": action, "Actor": {"ID": actor}, "time": 1}
    return json.dumps(record).encode() + b"\n"


def inspect_body(container: str = CONTAINER) -> dict[str, object]:
    return {"Id": container, "Name": "/fake", "State": {"Status": "running", "Running": True}}


@dataclass
class Script:
    """How the fake answers each endpoint; tests replace the entries they care about."""

    logs: Callable[[ReceivedRequest], Behaviour] = field(
        default=lambda _r: stall_mid_stream([frame(1, b"hello\n")])
    )
    events: Callable[[ReceivedRequest], Behaviour] = field(
        default=lambda _r: stall_mid_stream([event("start")])
    )
    inspect: Callable[[ReceivedRequest], Behaviour] = field(
        default=lambda _r: respond_json(inspect_body())
    )

    def answer(self, request: ReceivedRequest) -> Behaviour:
        path = request.path
        if path == "/_ping":
            return respond(200, b"OK")
        if path == f"{API}/events":
            return self.events(request)
        if path.startswith(f"{API}/containers/") and path.endswith("/logs"):
            return self.logs(request)
        if path.startswith(f"{API}/containers/") and path.endswith("/json"):
            return self.inspect(request)
        message = f"not scripted: {request.method} {request.target}"
        return respond_json({"message": message}, status=404)


@pytest.fixture
def sock_path() -> Iterator[str]:
    """A short socket path (Unix socket paths are limited to about 100 bytes)."""
    folder = tempfile.mkdtemp(prefix="ls-rel-")
    yield os.path.join(folder, "engine.sock")
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
async def fake(sock_path: str, script: Script) -> AsyncIterator[FakeEngine]:
    async with FakeEngine(sock_path, script.answer) as engine:
        yield engine


def client_for(path: str, **options: object) -> DockerClient:
    """A DockerClient on the socket ``path``, API pinned (no ``/_ping`` first)."""
    options.setdefault("api_version", "1.41")
    return DockerClient(f"unix://{path}", **options)  # type: ignore[arg-type]


def open_fds() -> int:
    """The number of file descriptors this process holds."""
    gc.collect()
    return len(os.listdir("/proc/self/fd"))

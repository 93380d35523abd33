"""Shared fixtures: the async backends, and the engines the live tests run against.

A test that takes the ``docker`` fixture runs once per engine (Docker, Podman). Live cases
skip when their engine does not answer, except under ``CI=true``, where a missing engine is
a failure.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from lightshuttle_runtime import DockerClient

ENGINE_SOCKETS = {
    "docker": os.environ.get("LS_DOCKER_SOCKET", "/var/run/docker.sock"),
    "podman": os.environ.get("LS_PODMAN_SOCKET", "/run/podman/podman.sock"),
}
IN_CI = os.environ.get("CI", "").lower() == "true"


@dataclass(frozen=True)
class Engine:
    """One engine under test: ``name`` is ``docker`` or ``podman``."""

    name: str
    socket_path: str

    @property
    def host(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def is_podman(self) -> bool:
        return self.name == "podman"


def engine_answers(path: str) -> bool:
    """Whether something answers ``GET /_ping`` on the Unix socket ``path``."""
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(2)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=[pytest.param(name, marks=pytest.mark.live) for name in ENGINE_SOCKETS])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A live engine; skipped when it does not answer (a failure under CI=true)."""
    found = Engine(request.param, ENGINE_SOCKETS[request.param])
    if not engine_answers(found.socket_path):
        message = f"{found.name} engine not answering on {found.socket_path}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: live tests must run; start it with scripts/engines-up)")
        pytest.skip(message)
    return found


@pytest.fixture
async def docker(engine: Engine) -> AsyncIterator[DockerClient]:
    """A DockerClient connected to ``engine``."""
    async with DockerClient(engine.host) as client:
        yield client

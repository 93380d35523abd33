"""The engine socket is missing, is not a socket, refuses, or denies permission.

Each case gives its own error class and message, naming the socket path. The permission case
runs the client in a child process as ``nobody`` against a ``0660 root:root`` socket (root
itself ignores file modes).
"""

from __future__ import annotations

import os
import socket
import sys
import textwrap
from pathlib import Path

import anyio
import pytest

from lightshuttle_runtime import (
    DockerClient,
    DockerConnectionError,
    SocketNotFoundError,
    SocketPermissionError,
)
from lightshuttle_runtime.runtime import DockerRuntime, EngineConnectError
from lightshuttle_runtime.testing import FakeEngine

from .conftest import client_for

pytestmark = pytest.mark.anyio

SRC = str(Path(__file__).parents[2] / "src")
NOBODY = 65534


async def failure(path: str) -> DockerConnectionError:
    async with client_for(path, api_version=None) as docker:
        with pytest.raises(DockerConnectionError) as caught:
            await docker.containers.list()
    return caught.value


async def test_missing_socket(sock_path: str) -> None:
    error = await failure(sock_path)
    assert type(error) is SocketNotFoundError
    assert f"the engine socket {sock_path} does not exist" in str(error)
    assert "host=" in str(error)  # the address was the client's argument


async def test_missing_socket_named_by_docker_host(
    sock_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{sock_path}")
    async with DockerClient() as docker:
        with pytest.raises(SocketNotFoundError, match=sock_path) as caught:
            await docker.system.ping()
    assert "came from DOCKER_HOST" in str(caught.value) and "host=" not in str(caught.value)


@pytest.mark.parametrize("kind", ["file", "directory"])
async def test_not_a_socket(sock_path: str, kind: str) -> None:
    if kind == "file":
        Path(sock_path).write_text("not a socket")
    else:
        os.mkdir(sock_path)
    error = await failure(sock_path)
    assert type(error) is SocketNotFoundError
    assert f"{sock_path} is not a socket" in str(error)


async def test_socket_nobody_listens_on(sock_path: str) -> None:
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(sock_path)  # bound, never listening: what a dead daemon leaves behind
        error = await failure(sock_path)
    assert type(error) is DockerConnectionError
    assert f"could not connect to the engine at {sock_path}" in str(error)


async def test_the_runtime_says_it_cannot_use_the_engine(sock_path: str) -> None:
    async with client_for(sock_path) as docker:
        with pytest.raises(EngineConnectError, match=sock_path) as caught:
            await DockerRuntime(docker).inspect("c0ffee")  # type: ignore[arg-type]
    assert isinstance(caught.value.__cause__, SocketNotFoundError)


CHILD = textwrap.dedent(
    """
    import os, sys
    import anyio
    from lightshuttle_runtime import DockerClient, DockerError

    anyio.run(anyio.sleep, 0)  # load everything first: the interpreter may live under /root
    os.setgroups([])
    os.setgid({uid})
    os.setuid({uid})

    async def main() -> None:
        async with DockerClient(sys.argv[1], api_version="1.41") as docker:
            try:
                await docker.containers.list()
            except DockerError as exc:
                print(type(exc).__name__)
                print(exc)
            else:
                print("no error")

    anyio.run(main)
    """
)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a root-owned socket")
async def test_permission_denied_for_a_non_root_user(sock_path: str) -> None:
    os.chmod(os.path.dirname(sock_path), 0o755)
    async with FakeEngine(sock_path) as fake:
        os.chown(sock_path, 0, 0)
        os.chmod(sock_path, 0o660)
        child = await anyio.run_process(
            [sys.executable, "-c", CHILD.format(uid=NOBODY), f"unix://{sock_path}"],
            env={**os.environ, "PYTHONPATH": SRC, "PYTHONDONTWRITEBYTECODE": "1"},
            check=False,
        )
    assert child.returncode == 0, child.stderr.decode()
    name, message = child.stdout.decode().split("\n", 1)
    assert name == SocketPermissionError.__name__
    assert f"permission denied on the engine socket {sock_path}" in message
    assert fake.connections_accepted == 0

"""Interactive exec over every remote way in: TLS (Docker), plain tcp (Podman) and ssh (both),
live on loopback. What the unix-socket tests prove (tests/api/test_interactive.py) holds here
too: stdin's end reaches the process while its output keeps coming, bytes come back intact,
and a TTY's size is set.

Ending stdin is a half-close of the connection's write side. Over TLS the Docker CLI sends
``close_notify``; OpenSSL drops what the engine sends after that, so this client shuts the TCP
write side under the TLS session instead, which the engine reads as the end of input too.
Over ssh, the end of input travels as the forwarded channel's EOF, or by dial-stdio (to the
remote docker CLI's default engine, or to the socket the URL's path names) as the end of ssh's
stdin.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import AsyncIterator

import anyio
import pytest

from lightshuttle_runtime import DockerClient, InteractiveSession, SSHMode, TransportKind
from tests.api.test_interactive import container, round_trip
from tests.test_remote import client, kind, remote  # noqa: F401 - fixtures
from tests.test_ssh import OPTIONS, route, sshd  # noqa: F401 - fixtures

pytestmark = [pytest.mark.anyio, pytest.mark.live]


@pytest.fixture(params=["native", "httpx"])
def ssh_kind(request: pytest.FixtureRequest) -> TransportKind:
    value: TransportKind = request.param
    return value


@pytest.fixture
async def ssh_client(
    route: tuple[str, SSHMode],  # noqa: F811 - the imported fixture
    ssh_kind: TransportKind,
) -> AsyncIterator[DockerClient]:
    url, mode = route
    async with DockerClient(
        url, transport_kind=ssh_kind, ssh_options=OPTIONS, ssh_mode=mode
    ) as docker:
        yield docker


async def stdin_end_then_output(docker: DockerClient) -> None:
    async with container(docker, ["sleep", "600"]) as ident:
        with anyio.fail_after(30):
            async with docker.exec.session(ident, ["sh", "-c", "cat; echo done"]) as s:
                await s.send(b"hello ")
                await s.close_stdin()
                assert await s.output() == (b"hello done\n", b"")
                assert await s.exit_code() == 0


async def bytes_through_cat(docker: DockerClient) -> None:
    data = random.Random(7).randbytes(256 * 1024)
    async with container(docker, ["sleep", "600"]) as ident:
        with anyio.fail_after(60):
            async with docker.exec.session(ident, ["cat"]) as session:
                out, err = await round_trip(session, data)
                assert await session.exit_code() == 0
    assert hashlib.sha256(out).digest() == hashlib.sha256(data).digest()
    assert err == b""


async def tty_size(docker: DockerClient) -> None:
    async with container(docker, ["sleep", "600"]) as ident:
        with anyio.fail_after(30):
            session: InteractiveSession
            async with docker.exec.session(ident, ["sh"], tty=True) as session:
                await session.resize(41, 132)
                await session.send(b"stty size; exit 0\n")
                out, _err = await session.output()
    assert b"41 132" in out


CHECKS = [stdin_end_then_output, bytes_through_cat, tty_size]


@pytest.mark.parametrize("check", CHECKS, ids=[check.__name__ for check in CHECKS])
async def test_over_tcp_and_tls(client: DockerClient, check) -> None:  # noqa: F811
    await check(client)


@pytest.mark.parametrize("check", CHECKS, ids=[check.__name__ for check in CHECKS])
async def test_over_ssh(ssh_client: DockerClient, check) -> None:
    await check(ssh_client)

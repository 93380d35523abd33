"""Interactive exec and attach: stdin, half-close, TTY, resize, detach — on Docker and Podman,
through both built-in transports (``native`` and httpx's stock one), live and replayed.

Each test's client is parametrized by the transport kind; recording goes through that kind's
transport, so each kind has its own cassette (``...[native-docker].json``).
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import time
from collections.abc import AsyncIterator

import anyio
import pytest

from lightshuttle_runtime import (
    DockerClient,
    ExecResult,
    InteractiveSession,
    InvalidArgumentError,
    TransportKind,
)
from lightshuttle_runtime.models import ContainerCreateRequest
from lightshuttle_runtime.testing.pytest_plugin import finish_cassette
from tests.conftest import Engine, engine_cassette

pytestmark = pytest.mark.anyio

KINDS = ["native", "httpx"]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> TransportKind:
    return "native" if request.param == "native" else "httpx"


@pytest.fixture
async def transport_docker(
    engine: Engine, kind: TransportKind, request: pytest.FixtureRequest, anyio_backend: str
) -> AsyncIterator[DockerClient]:
    """A client on ``engine`` through the ``kind`` transport: live, recording, or replaying."""
    cassette = engine_cassette(request, engine, anyio_backend, kind)
    async with DockerClient(engine.host, transport=cassette, transport_kind=kind) as docker:
        yield docker
    if cassette is not None:
        finish_cassette(request.node, cassette)


@contextlib.asynccontextmanager
async def container(docker: DockerClient, cmd: list[str], **config: object) -> AsyncIterator[str]:
    """A started busybox container, removed afterwards. Unnamed: the engine picks a unique
    name on every run, and a replay needs no name from the recording."""
    created = await docker.containers.create(
        ContainerCreateRequest(image="busybox:local", cmd=cmd, **config),  # type: ignore[arg-type]
    )
    try:
        await docker.containers.start(created.id)
        yield created.id
    finally:
        with anyio.CancelScope(shield=True):
            await docker.containers.remove(created.id, force=True)


@pytest.fixture
async def running(transport_docker: DockerClient) -> AsyncIterator[str]:
    async with container(transport_docker, ["sleep", "600"]) as ident:
        yield ident


def payload(size: int) -> bytes:
    """Random bytes, the same on every run (a replay must send what was recorded)."""
    return random.Random(size).randbytes(size)


async def round_trip(session: InteractiveSession, data: bytes) -> tuple[bytes, bytes]:
    """Send ``data`` in 64 KiB pieces and close stdin while reading all the output."""
    output: tuple[bytes, bytes] = (b"", b"")

    async def collect() -> None:
        nonlocal output
        output = await session.output()

    async with anyio.create_task_group() as group:
        group.start_soon(collect)
        view = memoryview(data)
        for start in range(0, len(data), 64 * 1024):
            await session.send(bytes(view[start : start + 64 * 1024]))
        await session.close_stdin()
    return output


async def test_random_bytes_through_cat_come_back_equal(
    transport_docker: DockerClient, running: str
) -> None:
    data = payload(64 * 1024)
    with anyio.fail_after(60):
        async with transport_docker.exec.session(running, ["cat"]) as session:
            out, err = await round_trip(session, data)
            assert await session.exit_code() == 0
    assert hashlib.sha256(out).hexdigest() == hashlib.sha256(data).hexdigest()
    assert err == b""


async def test_read_a_line_and_answer(transport_docker: DockerClient, running: str) -> None:
    with anyio.fail_after(30):
        # Awaited, the pending session gives the created exec's session, opened by the block.
        s = await transport_docker.exec.session(running, ["sh", "-c", "read x; echo got $x"])
        assert isinstance(s, InteractiveSession)
        async with s:
            await s.send(b"hello\n")
            frames = [frame async for frame in s]
            assert await s.exit_code() == 0
    assert b"".join(f.data for f in frames if f.stream == 1) == b"got hello\n"


async def test_stdin_end_ends_cat_while_its_output_is_still_read(
    transport_docker: DockerClient, running: str
) -> None:
    with anyio.fail_after(30):
        async with transport_docker.exec.session(
            running, ["sh", "-c", "cat; echo done >&2"]
        ) as session:
            await session.send(b"first ")
            await session.send(b"second")
            await session.close_stdin()  # nothing read yet: the output is still to come
            await session.close_stdin()  # a second close is a no-op
            with pytest.raises(InvalidArgumentError, match="stdin was closed"):
                await session.send(b"late")
            out, err = await session.output()
            assert await session.exit_code() == 0
    assert (out, err) == (b"first second", b"done\n")


async def test_exit_code_of_an_interactive_exec(
    transport_docker: DockerClient, running: str
) -> None:
    with anyio.fail_after(30):
        async with transport_docker.exec.session(running, ["sh", "-c", "read x; exit $x"]) as s:
            await s.send(b"7\n")
            assert await s.exit_code() == 7


async def test_run_with_input_bytes_and_iterable(
    transport_docker: DockerClient, running: str
) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        for piece in (b"one\n", b"two\n", b"three\n"):
            yield piece

    with anyio.fail_after(30):
        counted = await transport_docker.exec.run(running, ["wc", "-l"], input=b"a\nb\n")
        sorted_ = await transport_docker.exec.run(running, ["sort", "-r"], input=pieces())
        # The process exits without reading: not an error, like a broken pipe.
        ignored = await transport_docker.exec.run(
            running, ["sh", "-c", "exit 4"], input=b"x" * 100_000
        )
    assert counted == ExecResult(exit_code=0, stdout=b"2\n", stderr=b"")
    assert sorted_ == ExecResult(exit_code=0, stdout=b"two\nthree\none\n", stderr=b"")
    assert ignored.exit_code == 4


async def test_tty_exec_sees_the_size_set_by_resize(
    transport_docker: DockerClient, running: str
) -> None:
    with anyio.fail_after(30):
        async with transport_docker.exec.session(running, ["sh"], tty=True) as session:
            assert session.tty
            await session.resize(33, 111)
            await session.send(b"stty size; exit 3\n")
            out, err = await session.output()
            assert await session.exit_code() == 3
    assert b"33 111" in out
    assert err == b""  # a TTY carries everything as stdout


async def test_attach_to_cat_with_stdin_once_then_close_stdin(
    transport_docker: DockerClient, engine: Engine
) -> None:
    with anyio.fail_after(60):
        async with (
            container(
                transport_docker,
                ["cat"],
                open_stdin=True,
                stdin_once=True,
                attach_stdin=True,
            ) as ident,
            transport_docker.containers.attach(ident, stdin=True) as session,
        ):
            assert not session.tty  # found out by inspecting the container
            await session.send(b"hello\n")
            first = await session.__anext__()
            assert (first.stream, first.data) == (1, b"hello\n")
            await session.close_stdin()  # StdinOnce: the engine closes cat's stdin
            assert [frame async for frame in session] == []
            assert await session.exit_code() == 0


async def test_closing_stdin_of_an_attach_without_stdin_once(
    transport_docker: DockerClient, engine: Engine
) -> None:
    """Without ``StdinOnce`` the engines differ on what the end of stdin does (README)."""
    with anyio.fail_after(60):
        async with container(
            transport_docker, ["cat"], open_stdin=True, attach_stdin=True
        ) as ident:
            async with transport_docker.containers.attach(ident, stdin=True) as session:
                await session.send(b"hello\n")
                first = await session.__anext__()
                assert (first.stream, first.data) == (1, b"hello\n")
                await session.close_stdin()
                # both end the session; nothing else was written
                assert [frame async for frame in session] == []
            if engine.is_podman:
                # Podman closes the process's stdin all the same: cat ends, exit code 0
                assert (await transport_docker.containers.wait(ident)).status_code == 0
            else:
                # Docker ends only the attach: cat keeps its stdin open and runs on
                state = (await transport_docker.containers.inspect(ident)).state
                assert state.running is True


async def test_attach_then_detach_leaves_the_container_running(
    transport_docker: DockerClient, engine: Engine
) -> None:
    with anyio.fail_after(60):
        async with container(
            transport_docker, ["cat"], open_stdin=True, tty=True, attach_stdin=True
        ) as ident:
            async with transport_docker.containers.attach(
                ident, stdin=True, detach_keys="ctrl-x,x"
            ) as session:
                assert session.tty
                await session.resize(20, 70)
                await session.send(b"ping\r")
                seen = b""
                while b"ping" not in seen.replace(b"\r\n", b""):
                    seen += (await session.__anext__()).data
                await session.send(b"\x18x")  # ctrl-x then x: the detach keys
                if engine.is_podman:
                    # Podman 4.3's compat attach ignores detachKeys: the keys reach cat (its
                    # TTY echoes ^X), and detaching is leaving the block.
                    seen = b""
                    while b"^Xx" not in seen:
                        seen += (await session.__anext__()).data
                else:
                    # Docker ends the session on the keys (nothing of them reaches cat).
                    rest = b"".join([frame.data async for frame in session])
                    assert b"^X" not in rest
            state = (await transport_docker.containers.inspect(ident)).state
            assert state.running is True


async def test_leaving_the_block_mid_stream_closes_the_connection(
    transport_docker: DockerClient, running: str
) -> None:
    with anyio.fail_after(30):
        async with transport_docker.exec.session(running, ["cat"]) as session:
            await session.send(b"x\n")
            assert (await session.__anext__()).data == b"x\n"
        # Closed: the session refuses further use, with a clear error.
        with pytest.raises(InvalidArgumentError, match="closed"):
            await session.send(b"more")
        with anyio.move_on_after(0.5) as scope:
            async with transport_docker.exec.session(running, ["cat"]) as session:
                await session.__anext__()  # nothing comes: cancelled by the scope
        assert scope.cancelled_caught
    transport = transport_docker.transport
    active = getattr(transport, "active_connections", 0)
    assert active == 0


@pytest.mark.timeout(300)
@pytest.mark.parametrize("size", [10 * 1024 * 1024])
async def test_ten_megabytes_through_cat_live(
    engine: Engine, kind: TransportKind, size: int
) -> None:
    """Live only (a 10 MB cassette is not worth keeping; the 256 KiB test replays)."""
    data = random.randbytes(size)
    async with (
        DockerClient(engine.host, transport_kind=kind) as docker,
        container(docker, ["sleep", "600"]) as ident,
    ):
        with anyio.fail_after(240):
            started = time.perf_counter()
            async with docker.exec.session(ident, ["cat"]) as session:
                out, _err = await round_trip(session, data)
                code = await session.exit_code()
            elapsed = time.perf_counter() - started
    print(f"\n10 MB round trip {engine.name}/{kind}: {elapsed:.2f} s")
    assert code == 0
    assert hashlib.sha256(out).digest() == hashlib.sha256(data).digest()

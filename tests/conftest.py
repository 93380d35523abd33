"""Shared fixtures: the async backends, and the engines the live tests run against.

A test that takes the ``docker`` fixture runs once per engine (Docker 20.10 ``docker``, Docker
28.5 ``docker28``, Podman 4.3 ``podman``) live, and once per engine from that engine's cassette
(``docker-replay``, ``docker28-replay``, ``podman-replay``), with no engine at all:
``tests/cassettes/<test module path>/<test name>[<engine>].json``. The live runs record those
cassettes when pytest runs with ``--docker-record-mode=all`` (or ``once``/``new_episodes``),
from the asyncio backend only; the replays run on both backends. ``scripts/record-cassettes``
re-records them all.

Live cases skip when their engine does not answer, except under ``CI=true``, where a missing
engine is a failure. Replay cases skip while their cassette has not been recorded.

Live tests use fixed container names (a replay must send what was recorded), so two runs of
the suite on one machine would collide on them: the first live test of a run on an engine
takes that engine (an exclusive ``flock`` on a file in ``LS_LIVE_LOCK_DIR``, default the
temporary directory) until the run ends, and another run waits for it (``LS_LIVE_WAIT``
seconds, default 1800) and then fails saying which process holds the engine.
"""

from __future__ import annotations

import fcntl
import hashlib
import inspect
import os
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lightshuttle_runtime import API_VERSION_MAX, DockerClient, TransportKind
from lightshuttle_runtime._config import parse_version
from lightshuttle_runtime.testing import CassetteTransport
from lightshuttle_runtime.testing.pytest_plugin import (
    cassette_test_name,
    finish_cassette,
    record_mode,
)
from tests.anyio_wakeup_race import tolerate_in_anyio_runner

#: The fixtures that replay a cassette when the engine is a ``*-replay`` one.
REPLAYING_FIXTURES = frozenset({"docker", "transport_docker"})
ENGINE_SOCKETS = {
    "docker": os.environ.get("LS_DOCKER_SOCKET", "/var/run/docker.sock"),
    "docker28": os.environ.get("LS_DOCKER28_SOCKET", "/run/docker28.sock"),
    "podman": os.environ.get("LS_PODMAN_SOCKET", "/run/podman/podman.sock"),
}
IN_CI = os.environ.get("CI", "").lower() == "true"
TESTS = Path(__file__).parent
CASSETTES = TESTS / "cassettes"


@dataclass(frozen=True)
class Engine:
    """One engine under test: ``name`` is ``docker`` (Docker 20.10), ``docker28`` (Docker 28.5)
    or ``podman``; ``replay`` when the test's ``docker`` client plays that engine's cassette (then
    nothing may talk to ``socket_path``)."""

    name: str
    socket_path: str
    replay: bool = False

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


def announced_api_version(path: str) -> str:
    """The ``Api-Version`` header of ``GET /_ping`` on the Unix socket ``path`` (the highest
    API version the engine speaks)."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(path)
        sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head and (chunk := sock.recv(4096)):
            head += chunk
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "api-version":
            return value.strip()
    raise AssertionError(f"no Api-Version header on {path}'s /_ping")


def negotiated(announced: str) -> str:
    """The API version a client negotiates with an engine announcing ``announced``: the lower
    of that and ``API_VERSION_MAX``."""
    return min(announced, API_VERSION_MAX, key=parse_version)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


#: The built-in transports a ``both_transports`` test runs through on each live engine.
TRANSPORT_KINDS: tuple[TransportKind, ...] = ("native", "httpx")


def pytest_configure(config: pytest.Config) -> None:
    tolerate_in_anyio_runner()  # anyio's cancelled-read race: see tests/anyio_wakeup_race.py
    config.addinivalue_line(
        "markers",
        "both_transports: run live through both built-in transports (the transport_kind "
        "fixture: native and httpx); replays, which use no transport, run once",
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    """Let go of the engines this run held (see :func:`hold_engine`)."""
    while _HELD:
        _HELD.popitem()[1].close()


@pytest.fixture
def transport_kind() -> TransportKind:
    """The built-in transport the ``docker`` fixture's client uses: ``native``, unless the test
    is marked ``both_transports`` (then each of :data:`TRANSPORT_KINDS` on each live engine)."""
    return "native"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``engine``: the live engines; tests using a cassette-backed client (``docker``, or
    ``transport_docker`` of a module that parametrizes the transport) also get the replays.
    A ``both_transports`` test gets ``(engine, transport_kind)`` pairs: every live engine
    through every built-in transport, and each replay once."""
    if not _uses_our_engine(metafunc):
        return
    replaying = bool(REPLAYING_FIXTURES.intersection(metafunc.fixturenames))
    if metafunc.definition.get_closest_marker("both_transports") is not None:
        pairs = [
            pytest.param(name, kind, marks=pytest.mark.live, id=f"{name}-{kind}")
            for name in ENGINE_SOCKETS
            for kind in TRANSPORT_KINDS
        ]
        if replaying:
            pairs += [
                pytest.param(f"{name}-replay", "native", id=f"{name}-replay")
                for name in ENGINE_SOCKETS
            ]
        metafunc.parametrize(("engine", "transport_kind"), pairs, indirect=["engine"])
        return
    params = [pytest.param(name, marks=pytest.mark.live, id=name) for name in ENGINE_SOCKETS]
    if replaying:
        params += [pytest.param(f"{name}-replay", id=f"{name}-replay") for name in ENGINE_SOCKETS]
    metafunc.parametrize("engine", params, indirect=True)


def _uses_our_engine(metafunc: pytest.Metafunc) -> bool:
    """Whether the test's ``engine`` is this file's fixture (not a module's own fixture or a
    plain parametrized argument of that name)."""
    if "engine" not in metafunc.fixturenames:
        return False
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        if "engine" in ([n.strip() for n in names.split(",")] if isinstance(names, str) else names):
            return False
    # pytest has no public way to ask which fixture a name resolves to.
    definitions: Sequence[Any] = getattr(metafunc, "_arg2fixturedefs", {}).get("engine") or []
    return bool(definitions) and inspect.getsourcefile(definitions[-1].func) == __file__


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> Engine:
    """A live engine (skipped when it does not answer, a failure under CI=true), or the name of
    the engine a replay plays."""
    name, _, mode = str(request.param).partition("-")
    found = Engine(name, ENGINE_SOCKETS[name], replay=mode == "replay")
    if not found.replay and not engine_answers(found.socket_path):
        message = f"{found.name} engine not answering on {found.socket_path}"
        if IN_CI:
            pytest.fail(
                f"{message} (CI=true: live tests must run; start it with scripts/engines-up)"
            )
        pytest.skip(message)
    if not found.replay:
        hold_engine(found.socket_path)
    return found


#: The engines this run holds: socket path -> the open lock file (kept open until exit).
_HELD: dict[str, Any] = {}


def engine_lock_path(socket_path: str) -> Path:
    """The lock file that stands for the engine at ``socket_path`` (one per socket)."""
    lock_dir = Path(os.environ.get("LS_LIVE_LOCK_DIR") or tempfile.gettempdir())
    digest = hashlib.sha256(socket_path.encode()).hexdigest()[:16]
    return lock_dir / f"lightshuttle-live-{digest}.lock"


def hold_engine(socket_path: str, wait: float | None = None) -> None:
    """Take the engine at ``socket_path`` for this process (until it exits); wait while another
    run holds it, failing the test after ``wait`` s (``LS_LIVE_WAIT``, default 1800)."""
    if socket_path in _HELD:
        return
    if wait is None:
        wait = float(os.environ.get("LS_LIVE_WAIT", "1800"))
    path = engine_lock_path(socket_path)
    lock = path.open("a+")
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                lock.seek(0)
                holder = lock.read().strip() or "another process"
                lock.close()
                pytest.fail(
                    f"the engine at {socket_path} is held by {holder} (another run of the live "
                    f"tests; lock {path}) after waiting {wait:g} s: let it finish, or raise "
                    "LS_LIVE_WAIT"
                )
            time.sleep(0.2)
    lock.seek(0)
    lock.truncate()
    lock.write(f"pid {os.getpid()}\n")
    lock.flush()
    _HELD[socket_path] = lock


def engine_cassette_path(item: pytest.Item, engine: Engine) -> Path:
    """``tests/cassettes/<test module path>/<test name>[<params>-<engine>].json``."""
    module = item.path.relative_to(TESTS).with_suffix("")
    # A both_transports test's live runs share one cassette: it is recorded through the native
    # transport and replayed once (a replay uses no transport).
    exclude = ("anyio_backend", "engine", "transport_kind")
    name = cassette_test_name(item, exclude=exclude, extra=(engine.name,))
    return CASSETTES / module / f"{name}.json"


def engine_cassette(
    request: pytest.FixtureRequest,
    engine: Engine,
    anyio_backend: str,
    transport_kind: TransportKind = "native",
) -> CassetteTransport | None:
    """The cassette ``docker`` goes through: replaying, recording (through the
    ``transport_kind`` built-in transport), or none (plain live)."""
    path = engine_cassette_path(request.node, engine)
    if engine.replay:
        if not path.exists():
            pytest.skip(
                f"no cassette {path.relative_to(TESTS.parent)} yet: record it with "
                "scripts/record-cassettes"
            )
        return CassetteTransport(path, save_on_close=False)
    mode = record_mode(request.config)
    if mode == "none" or anyio_backend != "asyncio":
        return None
    return CassetteTransport(
        path,
        record_mode=mode,
        transport=lambda: DockerClient(engine.host, transport_kind=transport_kind).transport,
        save_on_close=False,
    )


@pytest.fixture
async def docker(
    engine: Engine,
    request: pytest.FixtureRequest,
    anyio_backend: str,
    transport_kind: TransportKind,
) -> AsyncIterator[DockerClient]:
    """A DockerClient on ``engine`` through the ``transport_kind`` built-in transport: live,
    live and recording (through the native transport only), or replaying its cassette."""
    cassette = (
        engine_cassette(request, engine, anyio_backend)
        if engine.replay or transport_kind == "native"
        else None
    )
    async with DockerClient(
        engine.host, transport=cassette, transport_kind=transport_kind
    ) as client:
        yield client
    if cassette is not None:
        finish_cassette(request.node, cassette)


@pytest.fixture(autouse=True)
def _no_user_credentials(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suite never reads the user's Docker credentials: ``DOCKER_CONFIG`` is an empty
    directory and ``DOCKER_AUTH_CONFIG`` unset, unless a test sets its own."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path_factory.mktemp("docker-config")))
    monkeypatch.delenv("DOCKER_AUTH_CONFIG", raising=False)

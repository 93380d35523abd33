"""Engines over ``ssh://`` through the system's ``ssh``: offline (the command lines, ssh's
messages classified, a missing ``ssh``) and live on loopback (``scripts/engines-up ssh``: an
sshd on 127.0.0.1:2222 letting root in by the key in ``/etc/lightshuttle-ssh``), reaching
Docker 20.10's and Podman 4.3's sockets by ``docker --host=unix://PATH system dial-stdio`` (a
URL with a path, as the Docker CLI) and by forwarding (``ssh_mode="forward"``, and the fallback
when the remote has no ``docker``), and Docker by ``docker system dial-stdio``, each on both
built-in transports, and every ssh failure provoked for real, with the same error on both
transports. Container names are unique per run (``ls-reach-ssh-*``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from lightshuttle_runtime import (
    DockerClient,
    DockerConnectionError,
    EngineSSHError,
    InvalidArgumentError,
    SSHMode,
    StreamInterruptedError,
    TransportKind,
)
from lightshuttle_runtime._transports import NativeTransport, _ssh
from lightshuttle_runtime._transports._ssh import (
    SSHConnector,
    SSHForwardTransport,
    classify_ssh_failure,
    dial_stdio_command,
    forward_command,
)
from lightshuttle_runtime._transports._ssh_httpx import HttpxSSHTransport
from lightshuttle_runtime._transports._ssh_path import SSHPathTransport
from tests.round_trip import recorded_client, round_trip

pytestmark = pytest.mark.anyio

SSH_DIR = Path(os.environ.get("LS_SSH_DIR", "/etc/lightshuttle-ssh"))
SSH_TARGET = os.environ.get("LS_SSH_TARGET", "root@127.0.0.1:2222")
SOCKETS = {
    "docker": "/var/run/docker.sock",
    "docker28": os.environ.get("LS_DOCKER28_SOCKET", "/run/docker28.sock"),
    "podman": "/run/podman/podman.sock",
}
IN_CI = os.environ.get("CI", "").lower() == "true"
IMAGE = "busybox:local"
LIMIT = 60
KEY = SSH_DIR / "id_ed25519"
KNOWN = SSH_DIR / "known_hosts"
#: The test key and known_hosts (the sshd of engines-up is not in the user's ~/.ssh).
OPTIONS = ["-i", str(KEY), "-o", f"UserKnownHostsFile={KNOWN}", "-o", "IdentitiesOnly=yes"]


# -- offline: command lines and ssh's messages -------------------------------------------------


def test_dial_stdio_command_line() -> None:
    assert dial_stdio_command("host", user="me", port=2222, connect_timeout=5) == [
        "ssh",
        "-l",
        "me",
        "-p",
        "2222",
        "-o",
        "ConnectTimeout=5",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-T",
        "--",
        "host",
        "docker system dial-stdio",
    ]
    with_path = dial_stdio_command("host", path="/run/user/1000/docker.sock")
    assert with_path[-1] == "docker --host=unix:///run/user/1000/docker.sock system dial-stdio"
    assert "-l" not in with_path and "-p" not in with_path


def test_forward_command_line() -> None:
    line = forward_command("h", "/tmp/x/engine.sock", "/run/podman/podman.sock", options=["-v"])
    assert line[line.index("-L") + 1] == "/tmp/x/engine.sock:/run/podman/podman.sock"
    assert {"ExitOnForwardFailure=yes", "BatchMode=yes", "StrictHostKeyChecking=yes"} <= set(line)
    assert "-N" in line and line.index("-v") < line.index("--")
    assert line[-2:] == ["--", "h"]


@pytest.mark.parametrize(
    ("stderr", "code", "reason"),
    [
        (
            "No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict "
            "checking.\nHost key verification failed.\n",
            255,
            "host-key-unknown",
        ),
        (
            "@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
            "Host key verification failed.\n",
            255,
            "host-key-changed",
        ),
        ("root@127.0.0.1: Permission denied (publickey).\n", 255, "auth-refused"),
        ("ssh: connect to host 127.0.0.1 port 2: Connection refused\n", 255, "refused"),
        (
            "ssh: Could not resolve hostname nope.invalid: Name or service not known\n",
            255,
            "unreachable",
        ),
        ("ssh: connect to host 10.1.1.1 port 22: Connection timed out\n", 255, "timeout"),
        ("bash: line 1: docker: command not found\n", 127, "no-docker"),
        ("sh: 1: docker: not found\n", 127, "no-docker"),
        ("channel 1: open failed: connect failed: open failed\n", None, "forward-failed"),
        (
            "failed to open the raw stream connection: dial unix /run/x.sock: connect: no such "
            "file or directory\n",
            1,
            "no-socket",
        ),
        ("", 1, "exited"),
    ],
)
def test_ssh_messages_are_classified(stderr: str, code: int | None, reason: str) -> None:
    assert classify_ssh_failure(stderr, code) == reason


@pytest.mark.parametrize(
    ("path", "mode"),
    [("/run/podman/podman.sock", "forward"), ("/run/podman/podman.sock", "auto"), ("", "auto")],
    ids=["forward", "path-dial-stdio", "dial-stdio"],
)
async def test_no_ssh_binary_says_so(
    monkeypatch: pytest.MonkeyPatch, path: str, mode: SSHMode, kind: TransportKind
) -> None:
    monkeypatch.setattr(_ssh.shutil, "which", lambda name: None)
    host = f"ssh://me@example.invalid{path}"
    async with DockerClient(host, transport_kind=kind, ssh_mode=mode) as docker:
        with pytest.raises(EngineSSHError) as caught:
            await docker.system.ping()
    assert caught.value.reason == "ssh-missing"
    assert "openssh-client" in str(caught.value)


@pytest.mark.parametrize(
    ("kind", "transport_type"), [("native", NativeTransport), ("httpx", HttpxSSHTransport)]
)
def test_dial_stdio_on_either_transport(kind: TransportKind, transport_type: type) -> None:
    docker = DockerClient("ssh://me@example.invalid:2200", transport_kind=kind)
    assert isinstance(docker.transport, transport_type)
    connector = _connector(docker)
    assert connector.command[-2:] == ["example.invalid", "docker system dial-stdio"]
    assert not connector.processes  # nothing is started before the first request


def test_a_path_is_dialled_through_the_remote_docker_first() -> None:
    docker = DockerClient("ssh://me@example.invalid/run/podman/podman.sock")
    transport = docker.transport
    assert isinstance(transport, SSHPathTransport) and transport.way is None
    assert _connector(docker).command[-1] == (
        "docker --host=unix:///run/podman/podman.sock system dial-stdio"
    )


@pytest.mark.parametrize(
    ("url", "mode", "transport_type"),
    [
        ("ssh://h/run/podman/podman.sock", "forward", SSHForwardTransport),
        ("ssh://h/run/podman/podman.sock", "dial-stdio", NativeTransport),
        ("ssh://h", "dial-stdio", NativeTransport),
        ("ssh://h", "auto", NativeTransport),
    ],
)
def test_ssh_mode_chooses_the_way(url: str, mode: SSHMode, transport_type: type) -> None:
    assert isinstance(DockerClient(url, ssh_mode=mode).transport, transport_type)


def test_forwarding_needs_a_path_and_modes_are_checked() -> None:
    with pytest.raises(InvalidArgumentError, match="path"):
        DockerClient("ssh://h", ssh_mode="forward")
    with pytest.raises(InvalidArgumentError, match="ssh_mode"):
        DockerClient("ssh://h", ssh_mode="tunnel")  # type: ignore[arg-type]


def test_a_password_in_the_url_is_refused() -> None:
    from lightshuttle_runtime import UnsupportedHostError

    with pytest.raises(UnsupportedHostError, match="password"):
        DockerClient("ssh://me:secret@example.invalid/run/podman/podman.sock")


# -- live ----------------------------------------------------------------------------------------


def _sshd_answers() -> bool:
    if shutil.which("ssh") is None or not KEY.exists():
        return False
    user, _, hostport = SSH_TARGET.rpartition("@")
    host, _, port = hostport.rpartition(":")
    command = ["ssh", *OPTIONS, "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", "-p", port]
    try:
        done = subprocess.run(
            [*command, f"{user}@{host}", "true"], capture_output=True, timeout=10, check=False
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


@pytest.fixture(scope="module")
def sshd() -> str:
    if not _sshd_answers():
        message = f"no sshd letting us in at {SSH_TARGET} with {KEY}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: start it with scripts/engines-up ssh)")
        pytest.skip(message)
    return SSH_TARGET


@pytest.fixture(params=["docker", "podman"])
def engine_socket(request: pytest.FixtureRequest, sshd: str) -> str:
    path = SOCKETS[request.param]
    if not os.path.exists(path):
        pytest.skip(f"no {request.param} socket {path} on the ssh host")
    return path


@pytest.fixture(params=["native", "httpx"])
def kind(request: pytest.FixtureRequest) -> TransportKind:
    value: TransportKind = request.param
    return value


#: The ways ssh reaches an engine here: forwarding an engine's socket, dial-stdio to the socket
#: the URL's path names (Docker 20.10's CLI relays to Docker 28.5 and Podman too), or plain
#: dial-stdio, which reaches the remote docker CLI's default engine (Docker 20.10) only.
ROUTES = (
    "docker-forward",
    "podman-forward",
    "docker-path-dial-stdio",
    "docker28-path-dial-stdio",
    "podman-path-dial-stdio",
    "docker-dial-stdio",
)


@pytest.fixture(params=ROUTES)
def route(request: pytest.FixtureRequest, sshd: str) -> tuple[str, SSHMode]:
    """The ``ssh://`` address of one of :data:`ROUTES` and the ``ssh_mode`` taking it."""
    engine, _, way = str(request.param).partition("-")
    path = SOCKETS[engine]
    if not os.path.exists(path):
        pytest.skip(f"no {engine} socket {path} on the ssh host")
    if way == "dial-stdio":
        return f"ssh://{sshd}", "auto"
    return f"ssh://{sshd}{path}", "forward" if way == "forward" else "dial-stdio"


@pytest.fixture
async def client(route: tuple[str, SSHMode], kind: TransportKind) -> AsyncIterator[DockerClient]:
    url, mode = route
    async with DockerClient(url, transport_kind=kind, ssh_options=OPTIONS, ssh_mode=mode) as docker:
        yield docker


def _connector(docker: DockerClient) -> SSHConnector:
    """The dial-stdio connector of either built-in transport (the first way of a URL with a
    path)."""
    transport = docker.transport
    if isinstance(transport, SSHPathTransport):
        transport = transport.dial
    connector = getattr(transport, "connector", None)
    assert isinstance(connector, SSHConnector)
    return connector


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not alive either (not reaped would be a leak: check its state).
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.live
async def test_round_trip(client: DockerClient) -> None:
    await round_trip(client, f"ls-reach-ssh-{uuid.uuid4().hex[:10]}")


@pytest.mark.live
async def test_one_ssh_process_ended_with_the_client(engine_socket: str, sshd: str) -> None:
    docker = DockerClient(f"ssh://{sshd}{engine_socket}", ssh_options=OPTIONS, ssh_mode="forward")
    transport = docker.transport
    assert isinstance(transport, SSHForwardTransport)
    async with docker:
        await docker.system.ping()
        process = transport.process
        assert process is not None
        pid = process.pid
        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(docker.system.ping)
        assert transport.process is process  # one ssh for every connection
    assert transport.process is None
    assert not _alive(pid)


@pytest.mark.live
async def test_cancelled_first_request_leaves_no_ssh(engine_socket: str, sshd: str) -> None:
    docker = DockerClient(f"ssh://{sshd}{engine_socket}", ssh_options=OPTIONS, ssh_mode="forward")
    transport = docker.transport
    assert isinstance(transport, SSHForwardTransport)
    async with docker:
        with anyio.move_on_after(0.05):
            await docker.system.ping()
        pid = transport.process.pid if transport.process is not None else None
    if pid is not None:
        assert not _alive(pid)


async def _ssh_error(
    host: str, options: list[str], kind: TransportKind, mode: SSHMode = "auto"
) -> EngineSSHError:
    async with DockerClient(
        host, ssh_options=options, transport_kind=kind, ssh_mode=mode
    ) as docker:
        with anyio.fail_after(30):
            with pytest.raises(EngineSSHError) as caught:
                await docker.system.ping()
    assert type(caught.value) is EngineSSHError  # the same on both transports
    return caught.value


@pytest.mark.live
async def test_an_unknown_host_key_is_refused(
    sshd: str, kind: TransportKind, tmp_path: Path
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    options = ["-i", str(KEY), "-o", f"UserKnownHostsFile={empty}", "-o", "IdentitiesOnly=yes"]
    error = await _ssh_error(f"ssh://{sshd}/run/podman/podman.sock", options, kind)
    assert error.reason == "host-key-unknown"
    assert "known_hosts" in str(error) and "ssh-keyscan" in str(error)
    assert empty.read_text() == ""  # nothing was accepted


@pytest.mark.live
async def test_a_refused_key_says_so(sshd: str, kind: TransportKind, tmp_path: Path) -> None:
    key = tmp_path / "id_other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    options = ["-i", str(key), "-o", f"UserKnownHostsFile={KNOWN}", "-o", "IdentitiesOnly=yes"]
    error = await _ssh_error(f"ssh://{sshd}/run/podman/podman.sock", options, kind)
    assert error.reason == "auth-refused"
    assert "Permission denied" in error.stderr


@pytest.mark.live
async def test_no_sshd_listening(kind: TransportKind) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = await _ssh_error(f"ssh://root@127.0.0.1:{port}/run/podman/podman.sock", OPTIONS, kind)
    assert error.reason == "refused"
    assert f"127.0.0.1:{port}" in str(error)


@pytest.mark.live
async def test_a_missing_remote_socket(sshd: str, kind: TransportKind) -> None:
    url = f"ssh://{sshd}/run/ls-reach-no-such.sock"
    forwarded = await _ssh_error(url, OPTIONS, kind, "forward")
    assert forwarded.reason == "forward-failed"
    dialled = await _ssh_error(url, OPTIONS, kind)
    assert dialled.reason == "no-socket"
    for error in (forwarded, dialled):
        assert "/run/ls-reach-no-such.sock" in str(error)


@pytest.mark.live
async def test_a_path_goes_through_the_remote_docker(
    engine_socket: str, kind: TransportKind
) -> None:
    url = f"ssh://{SSH_TARGET}{engine_socket}"
    async with DockerClient(url, ssh_options=OPTIONS, transport_kind=kind) as docker:
        await docker.system.ping()
        transport = docker.transport
        assert isinstance(transport, SSHPathTransport) and transport.way == "dial-stdio"
        assert _connector(docker).processes  # the dial-stdio ssh serves the connection


@pytest.mark.live
async def test_a_path_is_forwarded_when_the_remote_has_no_docker(
    engine_socket: str, kind: TransportKind
) -> None:
    """A Podman host without ``docker``: the first request finds none (the remote command
    is changed, as in the dial-stdio test below) and the client forwards from then on."""
    url = f"ssh://{SSH_TARGET}{engine_socket}"
    async with DockerClient(url, ssh_options=OPTIONS, transport_kind=kind) as docker:
        _connector(docker).command[-1] = "ls-reach-no-docker system dial-stdio"
        await docker.system.ping()
        transport = docker.transport
        assert isinstance(transport, SSHPathTransport) and transport.way == "forward"
        forward = transport.current
        assert isinstance(forward, SSHForwardTransport) and forward.process is not None
        assert not _connector(docker).processes  # the failed dial-stdio ssh is gone
        info = await docker.system.info()  # a larger answer through the forwarded socket
        assert info.ncpu >= 1


@pytest.mark.live
async def test_the_client_works_again_after_ssh_ended(engine_socket: str, sshd: str) -> None:
    url = f"ssh://{sshd}{engine_socket}"
    async with DockerClient(url, ssh_options=OPTIONS, ssh_mode="forward") as docker:
        await docker.system.ping()
        transport = docker.transport
        assert isinstance(transport, SSHForwardTransport) and transport.process is not None
        transport.process.kill()
        await transport.process.wait()
        # A connection kept from before may fail once; then a new ssh serves.
        for attempt in range(2):
            try:
                await docker.system.ping()
                break
            except DockerConnectionError:
                if attempt:
                    raise


def test_transport_type_is_httpx_base() -> None:
    assert issubclass(SSHForwardTransport, httpx.AsyncBaseTransport)


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param("docker", marks=pytest.mark.live),
        "docker-replay",
        pytest.param("podman", marks=pytest.mark.live),
        "podman-replay",
    ],
)
async def test_recorded_round_trip(
    variant: str, request: pytest.FixtureRequest, anyio_backend: str
) -> None:
    """The round trip over ssh live (recorded with ``--docker-record-mode``), and replayed
    offline from its cassette (fixed container names, as every recorded test)."""
    engine, replay = variant.removesuffix("-replay"), variant.endswith("-replay")
    if not replay and not _sshd_answers():
        pytest.skip(f"no sshd letting us in at {SSH_TARGET}")
    host = f"ssh://{SSH_TARGET}{SOCKETS[engine]}"
    async with recorded_client(
        request, engine, host, replay=replay, anyio_backend=anyio_backend, ssh_options=OPTIONS
    ) as client:
        await round_trip(client, f"ls-reach-rt-ssh-{engine}")


# -- dial-stdio (either transport, one ssh process per connection) ------------------------------


@pytest.mark.live
async def test_dial_stdio_one_process_per_connection(sshd: str, kind: TransportKind) -> None:
    docker = DockerClient(
        f"ssh://{sshd}", ssh_options=OPTIONS, max_connections=3, transport_kind=kind
    )
    connector = _connector(docker)
    async with docker:
        for _ in range(5):
            await docker.system.ping()
        assert len(connector.processes) == 1  # kept alive: one connection, one ssh
        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(docker.system.ping)
        assert 1 <= len(connector.processes) <= 3
        pids = [process.pid for process in connector.processes]
    assert not connector.processes
    assert not any(_alive(pid) for pid in pids)


@pytest.mark.live
async def test_dial_stdio_cancelled_stream_leaves_no_ssh(sshd: str, kind: TransportKind) -> None:
    docker = DockerClient(f"ssh://{sshd}", ssh_options=OPTIONS, transport_kind=kind)
    connector = _connector(docker)
    async with docker:
        with anyio.move_on_after(1):
            async with docker.events.stream() as events:
                async for _ in events:
                    pass
        pids = [process.pid for process in connector.processes]
    assert not connector.processes
    assert not any(_alive(pid) for pid in pids)


@pytest.mark.live
async def test_dial_stdio_ssh_killed_mid_stream(sshd: str, kind: TransportKind) -> None:
    """ssh (the connection) ending inside a stream interrupts it; the client then goes on
    (an idle connection whose ssh ended is replaced)."""
    docker = DockerClient(f"ssh://{sshd}", ssh_options=OPTIONS, transport_kind=kind)
    connector = _connector(docker)
    async with docker:
        await docker.system.ping()
        with anyio.fail_after(30), pytest.raises(StreamInterruptedError):
            async with docker.events.stream() as events:
                killed = list(connector.processes)  # the stream's ssh (and any idle one)
                for process in killed:
                    process.kill()
                async for _ in events:
                    pass
        # Until ssh has ended, its idle connection looks alive: httpcore (unlike the native
        # transport) does not retry a request on one that ends under it.
        for process in killed:
            await process.wait()
        await docker.system.ping()
        pids = [process.pid for process in [*killed, *connector.processes]]
    assert not connector.processes
    assert not any(_alive(pid) for pid in pids)


@pytest.mark.live
async def test_dial_stdio_unknown_host_key(sshd: str, kind: TransportKind, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    options = ["-i", str(KEY), "-o", f"UserKnownHostsFile={empty}", "-o", "IdentitiesOnly=yes"]
    error = await _ssh_error(f"ssh://{sshd}", options, kind)
    assert error.reason == "host-key-unknown"
    assert "known_hosts" in str(error) and empty.read_text() == ""


@pytest.mark.live
async def test_dial_stdio_refused_key(sshd: str, kind: TransportKind, tmp_path: Path) -> None:
    key = tmp_path / "id_other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    options = ["-i", str(key), "-o", f"UserKnownHostsFile={KNOWN}", "-o", "IdentitiesOnly=yes"]
    error = await _ssh_error(f"ssh://{sshd}", options, kind)
    assert error.reason == "auth-refused"


@pytest.mark.live
async def test_dial_stdio_without_docker_on_the_remote(sshd: str, kind: TransportKind) -> None:
    """A remote PATH without ``docker`` (``PATH=/nonexistent`` set by a remote command
    prefix would need sshd's PermitUserEnvironment; instead the remote command is changed)."""
    host = f"ssh://{sshd}"
    docker = DockerClient(host, ssh_options=OPTIONS, transport_kind=kind)
    connector = _connector(docker)
    connector.command[-1] = "ls-reach-no-docker system dial-stdio"
    async with docker:
        with pytest.raises(EngineSSHError) as caught:
            await docker.system.ping()
    assert caught.value.reason == "no-docker"
    assert "docker" in str(caught.value)


@pytest.mark.live
async def test_dial_stdio_no_sshd(kind: TransportKind) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = await _ssh_error(f"ssh://root@127.0.0.1:{port}", OPTIONS, kind)
    assert error.reason == "refused"

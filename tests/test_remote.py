"""Engines over TCP: Docker with TLS (client certificates) and Podman in plain HTTP, live on
loopback (``scripts/engines-up`` starts both), on both built-in transports where they reach
``tcp://``, and every connection error provoked for real.

Endpoints (override with ``LS_DOCKER_TLS_HOST``, ``LS_PODMAN_TCP_HOST``, ``LS_TLS_DIR``):
Docker 20.10 with ``--tlsverify`` on ``tcp://127.0.0.1:2376`` (CA, client certificate and key in
``/etc/lightshuttle-tls``), Podman 4.3 on ``tcp://127.0.0.1:2375``. Container names are unique
per run (``ls-reach-<random>``) and removed at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from lightshuttle_runtime import (
    DockerClient,
    EngineRefusedError,
    EngineTLSError,
    EngineUnreachableError,
    TLSConfig,
    TransportKind,
)
from tests.round_trip import recorded_client, round_trip

pytestmark = pytest.mark.anyio

TLS_DIR = Path(os.environ.get("LS_TLS_DIR", "/etc/lightshuttle-tls"))
DOCKER_TLS_HOST = os.environ.get("LS_DOCKER_TLS_HOST", "tcp://127.0.0.1:2376")
PODMAN_TCP_HOST = os.environ.get("LS_PODMAN_TCP_HOST", "tcp://127.0.0.1:2375")
IN_CI = os.environ.get("CI", "").lower() == "true"
IMAGE = "busybox:local"
LIMIT = 60
KINDS: tuple[TransportKind, ...] = ("native", "httpx")


def good_tls() -> TLSConfig:
    return TLSConfig(str(TLS_DIR / "ca.pem"), str(TLS_DIR / "cert.pem"), str(TLS_DIR / "key.pem"))


@dataclass(frozen=True)
class Remote:
    name: str
    host: str
    tls: TLSConfig | None


def _answers(remote: Remote) -> bool:
    """Whether ``GET /_ping`` over TCP (and TLS) answers 200 within 2 s."""
    host, _, port = remote.host.removeprefix("tcp://").rpartition(":")
    request = b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n"
    try:
        with socket.create_connection((host, int(port)), timeout=2) as raw:
            if remote.tls is None:
                raw.sendall(request)
                return raw.recv(64).startswith(b"HTTP/1.1 200")
            context = remote.tls.ssl_context()
            with context.wrap_socket(raw, server_hostname=host) as sock:
                sock.sendall(request)
                return sock.recv(64).startswith(b"HTTP/1.1 200")
    except (OSError, ssl.SSLError, ValueError):
        return False


def _need(remote: Remote) -> Remote:
    if remote.tls is not None and not (TLS_DIR / "ca.pem").exists():
        pytest.skip(f"no TLS material in {TLS_DIR} (scripts/engines-up docker makes it)")
    if not _answers(remote):
        message = f"{remote.name} not answering on {remote.host}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: start it with scripts/engines-up)")
        pytest.skip(message)
    return remote


@pytest.fixture(params=["docker-tls", "podman-tcp"])
def remote(request: pytest.FixtureRequest) -> Remote:
    if request.param == "docker-tls":
        return _need(Remote("docker-tls", DOCKER_TLS_HOST, good_tls()))
    return _need(Remote("podman-tcp", PODMAN_TCP_HOST, None))


@pytest.fixture
def docker_tls() -> Remote:
    return _need(Remote("docker-tls", DOCKER_TLS_HOST, good_tls()))


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> TransportKind:
    value: TransportKind = request.param
    return value


@pytest.fixture
async def client(remote: Remote, kind: TransportKind) -> AsyncIterator[DockerClient]:
    async with DockerClient(remote.host, tls=remote.tls or False, transport_kind=kind) as docker:
        yield docker


def unique(prefix: str = "ls-reach") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# -- the round trip ----------------------------------------------------------------------------


@pytest.mark.live
async def test_round_trip(client: DockerClient, remote: Remote) -> None:
    """Start with a health check, wait until healthy, follow logs, exec, stop, remove."""
    await round_trip(client, unique())


@pytest.mark.live
async def test_ping_and_version(client: DockerClient, remote: Remote) -> None:
    info = await client.system.ping()
    assert info.api_version
    version = await client.system.version()
    assert version.api_version
    assert client.address.scheme == "tcp"
    assert (client.address.tls is not None) == (remote.tls is not None)


# -- finding a TCP engine by the environment and by a context -----------------------------------


@pytest.mark.live
async def test_tls_from_the_environment(
    docker_tls: Remote, kind: TransportKind, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_tls.host)
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(TLS_DIR))
    async with DockerClient(transport_kind=kind) as docker:
        assert docker.address.tls is not None and docker.address.tls.source == "DOCKER_TLS_VERIFY"
        assert (await docker.system.ping()).api_version


@pytest.mark.live
async def test_tls_from_a_context_store(
    docker_tls: Remote, kind: TransportKind, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A context as ``docker context create --docker host=...,ca=...,cert=...,key=...`` writes
    it: the TLS material copied into the store."""
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    digest = hashlib.sha256(b"ls-tls").hexdigest()
    meta = tmp_path / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    endpoint = {"Host": docker_tls.host, "SkipTLSVerify": False}
    (meta / "meta.json").write_text(
        json.dumps({"Name": "ls-tls", "Metadata": {}, "Endpoints": {"docker": endpoint}})
    )
    store = tmp_path / "contexts" / "tls" / digest / "docker"
    store.mkdir(parents=True)
    for kind_name in ("ca", "cert", "key"):
        shutil.copy(TLS_DIR / f"{kind_name}.pem", store / f"{kind_name}.pem")
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "ls-tls"}))
    async with DockerClient(transport_kind=kind) as docker:
        assert docker.address.context == "ls-tls"
        assert (await docker.system.ping()).api_version


@pytest.mark.live
async def test_an_ssl_context_is_used_as_is(docker_tls: Remote, kind: TransportKind) -> None:
    context = good_tls().ssl_context()
    async with DockerClient(docker_tls.host, tls=context, transport_kind=kind) as docker:
        assert (await docker.system.ping()).api_version


# -- errors, provoked ----------------------------------------------------------------------------


async def _ping_error(host: str, tls: TLSConfig | bool, kind: TransportKind) -> BaseException:
    async with DockerClient(host, tls=tls, transport_kind=kind, connect_timeout=5) as docker:
        with anyio.fail_after(20):
            try:
                await docker.system.ping()
            except Exception as exc:
                return exc
    raise AssertionError(f"{host}: ping succeeded")


async def self_signed(directory: Path) -> tuple[str, str]:
    """A self-signed certificate and its key, made with openssl (no engine's CA signed it)."""
    cert, key = directory / "stranger-cert.pem", directory / "stranger-key.pem"
    made = await anyio.run_process(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=stranger",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "extendedKeyUsage=clientAuth",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=False,
    )
    if made.returncode != 0:
        pytest.skip("openssl could not make a certificate")
    return str(cert), str(key)


@pytest.mark.live
async def test_a_wrong_ca_is_named(docker_tls: Remote, kind: TransportKind, tmp_path: Path) -> None:
    other_ca, _ = await self_signed(tmp_path)
    tls = TLSConfig(other_ca, str(TLS_DIR / "cert.pem"), str(TLS_DIR / "key.pem"))
    error = await _ping_error(docker_tls.host, tls, kind)
    assert isinstance(error, EngineTLSError), error
    assert error.reason == "unknown-ca"
    assert docker_tls.host in str(error) and other_ca in str(error)


@pytest.mark.live
async def test_a_missing_client_certificate_says_so(
    docker_tls: Remote, kind: TransportKind
) -> None:
    error = await _ping_error(docker_tls.host, TLSConfig(str(TLS_DIR / "ca.pem")), kind)
    assert isinstance(error, EngineTLSError), error
    assert error.reason == "client-certificate-missing"
    assert "cert.pem" in str(error) and docker_tls.host in str(error)


@pytest.mark.live
async def test_a_refused_client_certificate_says_so(
    docker_tls: Remote, kind: TransportKind, tmp_path: Path
) -> None:
    """A certificate the engine's CA did not sign (a self-signed one made here)."""
    cert, key = await self_signed(tmp_path)
    tls = TLSConfig(str(TLS_DIR / "ca.pem"), cert, key)
    error = await _ping_error(docker_tls.host, tls, kind)
    assert isinstance(error, EngineTLSError), error
    assert error.reason == "client-certificate-refused"


@pytest.mark.live
async def test_a_host_name_the_certificate_does_not_list(
    docker_tls: Remote, kind: TransportKind
) -> None:
    """This machine's own name, when it resolves to loopback (the server certificate lists
    only 127.0.0.1 and localhost)."""
    name = socket.gethostname()
    try:
        resolved = socket.gethostbyname(name)
    except OSError:
        resolved = ""
    port = docker_tls.host.rpartition(":")[2]
    if not resolved.startswith("127.") or name == "localhost":
        pytest.skip(f"{name} does not resolve to loopback")
    error = await _ping_error(f"tcp://{name}:{port}", good_tls(), kind)
    if isinstance(error, EngineRefusedError):
        pytest.skip(f"{name} resolves to {resolved}, where the engine does not listen")
    assert isinstance(error, EngineTLSError), error
    assert error.reason == "hostname-mismatch"


@pytest.mark.live
async def test_plain_http_to_the_tls_port(docker_tls: Remote, kind: TransportKind) -> None:
    error = await _ping_error(docker_tls.host, False, kind)
    assert isinstance(error, EngineTLSError), error
    assert error.reason == "tls-required"
    assert "DOCKER_TLS_VERIFY" in str(error)


@pytest.mark.live
async def test_tls_to_the_plain_port(kind: TransportKind) -> None:
    _need(Remote("podman-tcp", PODMAN_TCP_HOST, None))
    if not (TLS_DIR / "ca.pem").exists():
        pytest.skip(f"no TLS material in {TLS_DIR}")
    error = await _ping_error(PODMAN_TCP_HOST, good_tls(), kind)
    assert isinstance(error, EngineTLSError), error
    assert error.reason == "not-tls"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.live
@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
async def test_connection_refused(kind: TransportKind, tls: bool) -> None:
    host = f"tcp://127.0.0.1:{_free_port()}"
    given: TLSConfig | bool = good_tls() if tls and (TLS_DIR / "ca.pem").exists() else False
    error = await _ping_error(host, given, kind)
    assert isinstance(error, EngineRefusedError), error
    assert error.address == host and host in str(error)


@pytest.mark.live
async def test_a_name_that_does_not_resolve(kind: TransportKind) -> None:
    error = await _ping_error("tcp://ls-no-such-host.invalid:2375", False, kind)
    assert isinstance(error, EngineUnreachableError), error
    assert "ls-no-such-host.invalid" in str(error)


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param("docker-tls", marks=pytest.mark.live),
        "docker-tls-replay",
        pytest.param("podman-tcp", marks=pytest.mark.live),
        "podman-tcp-replay",
    ],
)
async def test_recorded_round_trip(
    variant: str, request: pytest.FixtureRequest, anyio_backend: str
) -> None:
    """The round trip live (recorded with ``--docker-record-mode``), and replayed offline from
    its cassette (fixed container names, as every recorded test)."""
    endpoint, replay = variant.removesuffix("-replay"), variant.endswith("-replay")
    tls = endpoint == "docker-tls"
    host = DOCKER_TLS_HOST if tls else PODMAN_TCP_HOST
    if not replay:
        _need(Remote(endpoint, host, good_tls() if tls else None))
    live_tls: TLSConfig | bool = good_tls() if tls and not replay else False
    async with recorded_client(
        request,
        endpoint,
        host,
        replay=replay,
        anyio_backend=anyio_backend,
        tls=live_tls,
    ) as client:
        await round_trip(client, f"ls-reach-rt-{endpoint}")

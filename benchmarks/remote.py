"""9. Remote engines: latency over TCP, TLS and ssh, and connection set-up time.

Endpoints (``scripts/engines-up`` starts them; override with ``LS_DOCKER_TLS_HOST``,
``LS_PODMAN_TCP_HOST``, ``LS_SSH_TARGET``, ``LS_TLS_DIR``, ``LS_SSH_DIR``):

- TLS: Docker 20.10 with ``--tlsverify`` on ``tcp://127.0.0.1:2376`` (client certificates);
- tcp: Podman 4.3 on plain ``tcp://127.0.0.1:2375``;
- ssh: ``ssh://root@127.0.0.1:2222/var/run/docker.sock`` with ``ssh_mode="forward"`` (Docker
  over a forwarded socket), and
  ``ssh://root@127.0.0.1:2222`` (``docker system dial-stdio``, one ssh per connection).

Per endpoint and contender (ours on each built-in transport that reaches the scheme,
docker-py and aiodocker where they reach it with the same settings): sequential
``GET /_ping`` and ``GET /containers/{id}/json`` on kept-alive connections (medians of
per-round medians, the contenders taking turns), and set-up: a fresh client's first ping
(TLS handshake, ssh spawn and authentication), median of several.
"""

from __future__ import annotations

import os
import ssl
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightshuttle_runtime import DockerClient, DockerError, TLSConfig

from ._common import Settings, available, interleave
from ._report import Section, fmt

TLS_DIR = Path(os.environ.get("LS_TLS_DIR", "/etc/lightshuttle-tls"))
SSH_DIR = Path(os.environ.get("LS_SSH_DIR", "/etc/lightshuttle-ssh"))
DOCKER_TLS_HOST = os.environ.get("LS_DOCKER_TLS_HOST", "tcp://127.0.0.1:2376")
PODMAN_TCP_HOST = os.environ.get("LS_PODMAN_TCP_HOST", "tcp://127.0.0.1:2375")
SSH_TARGET = os.environ.get("LS_SSH_TARGET", "root@127.0.0.1:2222")
SSH_OPTIONS = [
    "-i",
    str(SSH_DIR / "id_ed25519"),
    "-o",
    f"UserKnownHostsFile={SSH_DIR / 'known_hosts'}",
    "-o",
    "IdentitiesOnly=yes",
]
INSPECTED = "ls-bench-remote-inspect"
SETUPS = 10


@dataclass
class Opened:
    ping: Callable[[], Awaitable[Any]]
    inspect: Callable[[str], Awaitable[Any]]
    close: Callable[[], Awaitable[None]]


def _tls() -> TLSConfig:
    return TLSConfig(str(TLS_DIR / "ca.pem"), str(TLS_DIR / "cert.pem"), str(TLS_DIR / "key.pem"))


def _ours(host: str, kind: str, **options: Any) -> Callable[[], Awaitable[Opened]]:
    async def open_() -> Opened:
        client = DockerClient(host, transport_kind=kind, **options)  # type: ignore[arg-type]
        return Opened(client.system.ping, client.containers.inspect, client.aclose)

    return open_


def _dockerpy(host: str, tls: bool) -> Callable[[], Awaitable[Opened]]:
    async def open_() -> Opened:
        import docker  # type: ignore[import-untyped]

        config = None
        if tls:
            config = docker.tls.TLSConfig(
                client_cert=(str(TLS_DIR / "cert.pem"), str(TLS_DIR / "key.pem")),
                ca_cert=str(TLS_DIR / "ca.pem"),
                verify=True,
            )
        api = docker.APIClient(base_url=host, version="1.41", tls=config)
        api.trust_env = False  # else REQUESTS_CA_BUNDLE replaces the CA given

        async def ping() -> Any:
            return api.ping()

        async def inspect(cid: str) -> Any:
            return api.inspect_container(cid)

        async def close() -> None:
            api.close()

        return Opened(ping, inspect, close)

    return open_


def _aiodocker(host: str, tls: bool) -> Callable[[], Awaitable[Opened]]:
    async def open_() -> Opened:
        import aiodocker

        context = None
        url = host.replace("tcp://", "https://") if tls else host
        if tls:
            context = ssl.create_default_context(cafile=str(TLS_DIR / "ca.pem"))
            context.load_cert_chain(str(TLS_DIR / "cert.pem"), str(TLS_DIR / "key.pem"))
        adocker = aiodocker.Docker(url=url, ssl_context=context)

        async def ping() -> bytes:
            async with adocker._query("_ping", versioned_api=False) as response:
                return await response.read()

        async def inspect(cid: str) -> Any:
            return await adocker.containers.get(cid)

        return Opened(ping, inspect, adocker.close)

    return open_


def _endpoints() -> dict[str, tuple[str, dict[str, Callable[[], Awaitable[Opened]]]]]:
    """endpoint -> (host, contender -> opener)."""
    ssh_host = f"ssh://{SSH_TARGET}/var/run/docker.sock"
    tls_options = {"tls": _tls()}
    found: dict[str, tuple[str, dict[str, Callable[[], Awaitable[Opened]]]]] = {
        "TLS (Docker 20.10)": (
            DOCKER_TLS_HOST,
            {
                "ours": _ours(DOCKER_TLS_HOST, "native", **tls_options),
                "ours-httpx": _ours(DOCKER_TLS_HOST, "httpx", **tls_options),
                "aiodocker": _aiodocker(DOCKER_TLS_HOST, True),
                "docker-py": _dockerpy(DOCKER_TLS_HOST, True),
            },
        ),
        "tcp (Podman 4.3)": (
            PODMAN_TCP_HOST,
            {
                "ours": _ours(PODMAN_TCP_HOST, "native", tls=False),
                "ours-httpx": _ours(PODMAN_TCP_HOST, "httpx", tls=False),
                "aiodocker": _aiodocker(PODMAN_TCP_HOST, False),
                "docker-py": _dockerpy(PODMAN_TCP_HOST, False),
            },
        ),
        "ssh, forwarding (Docker 20.10)": (
            ssh_host,
            {
                "ours": _ours(ssh_host, "native", ssh_options=SSH_OPTIONS, ssh_mode="forward"),
                "ours-httpx": _ours(ssh_host, "httpx", ssh_options=SSH_OPTIONS, ssh_mode="forward"),
            },
        ),
        "ssh, dial-stdio (Docker 20.10)": (
            f"ssh://{SSH_TARGET}",
            {"ours": _ours(f"ssh://{SSH_TARGET}", "native", ssh_options=SSH_OPTIONS)},
        ),
    }
    return found


async def _ensure_container(opener: Callable[[], Awaitable[Opened]], host: str) -> str | None:
    """The id of a running ``sleep`` container on the endpoint's engine (made once)."""
    from lightshuttle_runtime.models import ContainerCreateRequest

    async with DockerClient(
        host,
        ssh_options=SSH_OPTIONS,
        **({"tls": _tls()} if host == DOCKER_TLS_HOST else {"tls": False}),
    ) as docker:
        try:
            info = await docker.containers.inspect(INSPECTED)
        except DockerError:
            created = await docker.containers.create(
                ContainerCreateRequest(
                    image="busybox:local",
                    cmd=["sleep", "86400"],
                    labels={"lightshuttle.bench": "remote"},
                ),
                name=INSPECTED,
            )
            await docker.containers.start(created.id)
            return created.id
        if not (info.state and info.state.running):
            await docker.containers.start(info.id)
        return info.id


async def _setup_ms(opener: Callable[[], Awaitable[Opened]]) -> float:
    """Median milliseconds from a fresh client to its first ping's answer."""
    times = []
    for _ in range(SETUPS):
        started = time.perf_counter()
        opened = await opener()
        try:
            await opened.ping()
            times.append(time.perf_counter() - started)
        finally:
            await opened.close()
    return statistics.median(times) * 1e3


async def run(settings: Settings) -> Section:
    section = Section("remote", "9. Remote engines: tcp, TLS and ssh")
    started = time.perf_counter()
    section.columns = ["endpoint", "contender", "ping µs", "inspect µs", "set-up ms (first ping)"]
    skipped: list[str] = []
    for endpoint, (host, openers) in _endpoints().items():
        opened: dict[str, Opened] = {}
        for name, opener in openers.items():
            if name in ("aiodocker", "docker-py") and not available(name):
                continue
            try:
                candidate = await opener()
            except Exception as exc:
                skipped.append(f"{endpoint} / {name}: {type(exc).__name__}: {exc}"[:200])
                continue
            try:
                await candidate.ping()
            except Exception as exc:
                skipped.append(f"{endpoint} / {name}: {type(exc).__name__}: {exc}"[:200])
                await candidate.close()
                continue
            opened[name] = candidate
        if not opened:
            continue
        try:
            container = await _ensure_container(next(iter(openers.values())), host)
            assert container is not None
            pings = await interleave(
                {name: o.ping for name, o in opened.items()},
                rounds=settings.rounds,
                per_round=settings.per_round // 2,
                warmup=settings.warmup // 4,
            )
            inspects = await interleave(
                {name: _bind(o.inspect, container) for name, o in opened.items()},
                rounds=settings.rounds,
                per_round=settings.per_round // 2,
                warmup=settings.warmup // 4,
            )
        finally:
            for candidate in opened.values():
                await candidate.close()
        data: dict[str, Any] = {}
        for name in opened:
            setup = await _setup_ms(openers[name])
            data[name] = {
                "ping_us": pings[name].median * 1e6,
                "inspect_us": inspects[name].median * 1e6,
                "setup_ms": setup,
            }
            section.rows.append(
                [
                    endpoint,
                    name,
                    fmt(pings[name].median * 1e6),
                    fmt(inspects[name].median * 1e6),
                    fmt(setup, 1),
                ]
            )
        section.data[endpoint] = data
    section.notes.append(
        f"Set-up: a new client, then its first GET /_ping, median of {SETUPS} (TLS: TCP "
        "connect and handshake; ssh: ssh spawned and authenticated, then the forward set up or "
        "the remote docker CLI started). Latency: "
        f"{settings.rounds} rounds, contenders taking turns, on kept-alive connections."
    )
    section.notes.append(
        "docker-py and aiodocker over ssh are not compared: both need the host's ssh "
        "configuration (~/.ssh/config) for the test key, which the benchmark does not write."
    )
    section.notes += [f"skipped: {line}" for line in skipped]
    section.seconds = time.perf_counter() - started
    return section


def _bind(func: Callable[[str], Awaitable[Any]], arg: str) -> Callable[[], Awaitable[Any]]:
    async def call() -> Any:
        return await func(arg)

    return call

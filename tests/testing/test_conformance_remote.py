"""The transport conformance suite over real TCP and TLS: the native transport on its
:class:`TCPConnector` (plain, and TLS with client certificates) and httpx's transport on
:class:`HttpxTCPTransport`, each reaching the suite's fake engine through a relay process
(``tests/tcp_proxy.py``: TCP or TLS in front of the fake engine's Unix socket); and over
dial-stdio's process pipes: both transports on an :class:`SSHConnector` whose command is
``tests/stdio_relay.py`` (dial-stdio's relaying, without ssh: one process per connection).

The relay is a process of its own, so the suite's descriptor-leak checks count only the
client's descriptors. A behaviour that depends on the relay, not on the transport, is listed in
:data:`RELAY_LIMITS` with the reason (strict xfail: it must flip once it holds).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from lightshuttle_runtime import TLSConfig
from lightshuttle_runtime._transports import NativeTransport
from lightshuttle_runtime._transports._remote import HttpxTCPTransport
from lightshuttle_runtime._transports._ssh import SSHConnector
from lightshuttle_runtime._transports._ssh_httpx import HttpxSSHTransport
from lightshuttle_runtime._transports._tcp import TCPConnector
from lightshuttle_runtime.testing import TRANSPORT_CHECKS, TransportCheck

pytestmark = pytest.mark.anyio

PROXY = Path(__file__).resolve().parent.parent / "tcp_proxy.py"
STDIO_RELAY = Path(__file__).resolve().parent.parent / "stdio_relay.py"
TLS_DIR = Path(os.environ.get("LS_TLS_DIR", "/etc/lightshuttle-tls"))
HAVE_TLS = all(
    (TLS_DIR / name).exists() for name in ("ca.pem", "server-cert.pem", "server-key.pem")
)

#: (variant, check) -> why the behaviour does not show: the relay's limit, or a known fault of
#: a library under the transport.
RELAY_LIMITS: dict[tuple[str, str], str] = {
    (variant, "connect-failure"): (
        "a missing engine socket is SocketNotFoundError on unix://; through the relay the TCP "
        "connection is accepted and then reset (tests/test_remote.py provokes tcp's own "
        "connect failures for real)"
    )
    for variant in ("native-tcp", "native-tls", "httpx-tcp", "httpx-tls")
} | {
    (variant, "connect-failure"): (
        "over dial-stdio a missing engine socket is the process's failure (the client's "
        "address is no unix:// one to explain); tests/test_ssh.py provokes ssh's own failures "
        "for real"
    )
    for variant in ("native-dial-stdio", "httpx-dial-stdio")
}

#: (variant, check) -> a known fault of the transport itself (strict xfail: fix, then drop it).
KNOWN_FAULTS: dict[tuple[str, str], str] = {}

#: The same for faults that show only when the timing hits them (xfail, not strict).
SOMETIMES: dict[tuple[str, str], str] = {
    ("httpx-tls", "cancel-stream-before-answer"): (
        "httpcore: a connection cancelled during its TLS handshake leaves the TCP socket to the "
        "garbage collector (its start_tls closes the stream on Exception only, and cancellation "
        "is a BaseException): a ResourceWarning when the cancel lands in the handshake; the "
        "native transport's TLS connector closes it"
    )
}


class Relay:
    """``tests/tcp_proxy.py`` in front of one fake engine socket."""

    def __init__(self, path: str, tls: bool) -> None:
        args = [sys.executable, str(PROXY), path]
        if tls:
            args += [str(TLS_DIR / f) for f in ("server-cert.pem", "server-key.pem", "ca.pem")]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class Relayed(httpx.AsyncBaseTransport):
    """The transport under test, and its relay stopped with it."""

    def __init__(self, inner: httpx.AsyncBaseTransport, relay: Relay) -> None:
        self.inner = inner
        self.relay = relay
        self.reuses_requests = getattr(inner, "reuses_requests", False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        try:
            await self.inner.aclose()
        finally:
            self.relay.stop()


def _context(tls: bool) -> object:
    if not tls:
        return None
    return TLSConfig(
        str(TLS_DIR / "ca.pem"), str(TLS_DIR / "cert.pem"), str(TLS_DIR / "key.pem")
    ).ssl_context()


def dial_stdio(variant: str) -> Callable[[str], httpx.AsyncBaseTransport]:
    def make(path: str) -> httpx.AsyncBaseTransport:
        connector = SSHConnector([sys.executable, str(STDIO_RELAY), path], f"ssh://relay{path}")
        if variant.startswith("native"):
            return NativeTransport(connector)
        return HttpxSSHTransport(connector)

    return make


def factory(variant: str) -> Callable[[str], httpx.AsyncBaseTransport]:
    if variant.endswith("dial-stdio"):
        return dial_stdio(variant)
    tls = variant.endswith("tls")

    def make(path: str) -> httpx.AsyncBaseTransport:
        relay = Relay(path, tls)
        context = _context(tls)
        inner: httpx.AsyncBaseTransport
        if variant.startswith("native"):
            inner = NativeTransport(TCPConnector("127.0.0.1", relay.port, ssl_context=context))  # type: ignore[arg-type]
        else:
            inner = HttpxTCPTransport("127.0.0.1", relay.port, ssl_context=context)  # type: ignore[arg-type]
        return Relayed(inner, relay)

    return make


VARIANTS = [
    "native-tcp",
    "native-tls",
    "httpx-tcp",
    "httpx-tls",
    "native-dial-stdio",
    "httpx-dial-stdio",
]


def cases() -> list[object]:
    return [
        pytest.param(variant, check, id=f"{variant}-{check.name}")
        for variant in VARIANTS
        for check in TRANSPORT_CHECKS
    ]


@pytest.mark.parametrize(("variant", "check"), cases())
async def test_conformance_over_tcp(
    variant: str, check: TransportCheck, request: pytest.FixtureRequest
) -> None:
    if variant.endswith("tls") and not HAVE_TLS:
        pytest.skip(f"no TLS material in {TLS_DIR} (scripts/engines-up docker makes it)")
    reason = RELAY_LIMITS.get((variant, check.name)) or KNOWN_FAULTS.get((variant, check.name))
    if reason is not None:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    reason = SOMETIMES.get((variant, check.name))
    if reason is not None:
        request.applymarker(pytest.mark.xfail(strict=False, reason=reason))
    await check(factory(variant))

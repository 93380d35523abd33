"""httpx's stock transport to an ``ssh://`` engine by ``docker system dial-stdio``.

httpcore's connection pool opens its connections through a network backend; ours,
:class:`DialStdioBackend`, opens each one as the native transport does: one ``ssh ... docker
system dial-stdio`` process (:meth:`SSHConnector.connect`), its stdin and stdout the
connection, ended with it. httpcore and h11 do the rest, as for every ``transport_kind="httpx"``
address.

ssh's failures surface as httpcore's errors (httpx's, once httpx maps them) caused by anyio's,
themselves caused by :class:`SSHFailure`, so the session raises the same
:class:`EngineSSHError` (reason, stderr's tail) as on the native transport.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import anyio
import httpcore
import httpx
from anyio.abc import ByteStream

from ._httpx import transport_pair
from ._native import LONG_LIVED
from ._remote import close_if_hijacking
from ._ssh import SSHConnector
from ._upgrade import SEND_EOF

__all__ = ["ByteStreamNetworkStream", "DialStdioBackend", "HttpxSSHTransport"]

_STREAM_ERRORS = (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError)


class HttpxSSHTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncHTTPTransport`` whose connections are dial-stdio ssh processes.

    Long-lived streams (follow logs, events, wait, attach) go through a second stock transport
    with no connection limit and no keep-alive, as on the other built-in transports.

    Args:
        connector: starts one ssh process per connection (its ``processes`` are those alive).
        max_connections: connections (ssh processes) serving ordinary requests at once, and
            kept alive.

    Raises (from :meth:`handle_async_request`): ``httpx.ConnectError`` (no ``ssh`` binary,
    ``SSHFailure`` as a cause), ``httpx.ConnectTimeout``, ``httpx.ReadError`` /
    ``httpx.WriteError`` (ssh ended: before any answer with ``SSHFailure`` in the causes),
    ``httpx.RemoteProtocolError`` (the engine's end of stream inside a body), httpx's timeouts.
    """

    def __init__(self, connector: SSHConnector, *, max_connections: int = 10) -> None:
        self.connector = connector
        backend = DialStdioBackend(connector)
        self._inner, self._streams = transport_pair(
            lambda limits: _stock_on(backend, limits), max_connections
        )

    def __repr__(self) -> str:
        return f"<HttpxSSHTransport {self.connector.address}>"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        close_if_hijacking(request)
        inner = self._streams if request.extensions.get(LONG_LIVED, False) else self._inner
        return await inner.handle_async_request(request)

    async def aclose(self) -> None:
        try:
            await self._streams.aclose()
        finally:
            await self._inner.aclose()


def _stock_on(
    backend: httpcore.AsyncNetworkBackend, limits: httpx.Limits
) -> httpx.AsyncHTTPTransport:
    """httpx's stock transport, its pool opening connections through ``backend``."""
    transport = httpx.AsyncHTTPTransport(verify=False, trust_env=False, limits=limits)
    # httpx takes no network backend, httpcore's pool does (its public argument): the stock
    # transport gets a pool of the same limits on ours in place of its own. ``_pool`` is the
    # one private name used (httpx has kept it since 0.18; _httpx's stray-bytes check too).
    transport._pool = httpcore.AsyncConnectionPool(
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=backend,
    )
    return transport


class DialStdioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend whose every connection is one ``connector.connect()`` (an
    ssh dial-stdio process), whatever host and port httpcore asks for.

    ``connect_tcp`` raises ``httpcore.ConnectError`` (caused by :class:`SSHFailure`, e.g.
    ``ssh-missing``) or ``httpcore.ConnectTimeout``.
    """

    def __init__(self, connector: SSHConnector) -> None:
        self._connector = connector

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = self._connector.address
        try:
            with anyio.fail_after(timeout):
                stream = await self._connector.connect()
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(
                f"starting ssh to the engine at {address} took over {timeout} s"
            ) from exc
        except OSError as exc:
            raise httpcore.ConnectError(
                f"cannot connect to the engine at {address}: {exc}"
            ) from exc
        return ByteStreamNetworkStream(stream)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


class ByteStreamNetworkStream(httpcore.AsyncNetworkStream):
    """An anyio byte stream as httpcore's network stream: ``b""`` at its end, anyio's and the
    OS's errors as ``httpcore.ReadError``/``WriteError``, timeouts as httpcore's.

    ``get_extra_info``: ``"is_readable"`` is true once the stream is no longer alive (ssh
    ended: httpcore then drops the idle connection); :data:`SEND_EOF` gives the stream's
    ``send_eof`` (half-close of an upgraded connection, ``close_stdin``).
    """

    def __init__(self, stream: ByteStream) -> None:
        self._stream = stream

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            with anyio.fail_after(timeout):
                return await self._stream.receive(max_bytes)
        except anyio.EndOfStream:
            return b""
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(f"no answer within {timeout} s") from exc
        except _STREAM_ERRORS as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            with anyio.fail_after(timeout):
                await self._stream.send(buffer)
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(f"the request was not taken within {timeout} s") from exc
        except _STREAM_ERRORS as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("TLS over an ssh dial-stdio connection is not supported")

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            is_alive = getattr(self._stream, "is_alive", None)
            return callable(is_alive) and not is_alive()
        if info == SEND_EOF:
            return self._stream.send_eof
        return None

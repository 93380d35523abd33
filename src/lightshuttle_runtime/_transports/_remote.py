"""httpx's stock transport towards a ``tcp://`` engine, plain or TLS.

The session addresses every request to ``http://docker/...`` (the name the Unix socket
transports ignore); :class:`HttpxTCPTransport` rewrites each request to the engine's origin
(``https://host:port`` with TLS, a ``tcp://`` URL's path prefix included) before handing it to
``httpx.AsyncHTTPTransport``, so cassettes and the session stay the same for every address.

Docker answers an exec start or an attach that does not upgrade with a body that ends when
the connection does; over TLS it ends it with ``close_notify`` but keeps the TCP connection
open, which httpcore takes for a reusable connection (the next request on it then fails).
Such requests are sent with ``Connection: close``, so the connection is never reused.

It also keeps httpx's contract where httpcore lets the standard library's errors through: an
``ssl.SSLError`` or ``OSError`` raised while the answer's head is read (TLS 1.3 sends the
server's refusal of a client certificate after the handshake) becomes ``httpx.ConnectError``,
and one raised while a body is read becomes ``httpx.ReadError``.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import AsyncGenerator, AsyncIterator

import httpx

from ._httpx import transport_pair
from ._native import LONG_LIVED

__all__ = ["HttpxTCPTransport", "close_if_hijacking"]

#: The requests Docker answers by hijacking the connection (a body ended by closing it).
_HIJACKING = re.compile(rb"/(?:exec/[^/]+/start|containers/[^/]+/attach)$")


class HttpxTCPTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncHTTPTransport`` to ``host:port``, with TLS when ``ssl_context`` is given.

    Proxies from the environment are not used (``trust_env=False``), as for the native
    transport: the engine address is always dialled directly.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None = None,
        path_prefix: str = "",
        max_connections: int = 10,
    ) -> None:
        self._scheme = "https" if ssl_context is not None else "http"
        self._host = host
        self._port = port
        self._prefix = path_prefix.rstrip("/").encode()
        self._host_header = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        verify = ssl_context if ssl_context is not None else False
        # Long-lived streams (follow logs, events, wait, attach) outside max_connections, as
        # on the other built-in transports.
        self._inner, self._streams = transport_pair(
            lambda limits: httpx.AsyncHTTPTransport(
                # Plain HTTP needs no CA bundle (loading httpx's default one costs ~40 ms).
                verify=verify,
                trust_env=False,
                limits=limits,
            ),
            max_connections,
        )

    def __repr__(self) -> str:
        return f"<HttpxTCPTransport {self._scheme}://{self._host_header}>"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(
            scheme=self._scheme,
            host=self._host,
            port=self._port,
            raw_path=self._prefix + request.url.raw_path,
        )
        request.headers["Host"] = self._host_header
        close_if_hijacking(request)
        inner = self._streams if request.extensions.get(LONG_LIVED, False) else self._inner
        try:
            response = await inner.handle_async_request(request)
        except (ssl.SSLError, OSError) as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc
        if response.status_code != 101:
            assert isinstance(response.stream, httpx.AsyncByteStream)
            response.stream = _GuardedStream(response.stream, request)
        return response

    async def aclose(self) -> None:
        try:
            await self._streams.aclose()
        finally:
            await self._inner.aclose()


def close_if_hijacking(request: httpx.Request) -> None:
    """Send ``Connection: close`` with a request Docker answers by hijacking the connection
    without upgrading it (exec start, attach): its body ends when the connection does."""
    if "upgrade" not in request.headers and _HIJACKING.search(request.url.raw_path.split(b"?")[0]):
        request.headers["Connection"] = "close"


class _GuardedStream(httpx.AsyncByteStream):
    """A response body whose ``ssl.SSLError``/``OSError`` become ``httpx.ReadError``."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        inner = aiter(self._inner)
        try:
            async for chunk in inner:
                yield chunk
        except (ssl.SSLError, OSError) as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=self._request) from exc
        finally:
            # Finish httpx's own generator here, not in the GC (a ResourceWarning under trio).
            if isinstance(inner, AsyncGenerator):
                await inner.aclose()

    async def aclose(self) -> None:
        await self._inner.aclose()

"""httpx's stock transport, as ``DockerClient(transport_kind="httpx")`` builds it.

:class:`HttpxTransport` is ``httpx.AsyncHTTPTransport(uds=...)`` — httpcore's own pool,
connections and h11 do every byte of I/O — with two additions, both there because our native
transport behaves so and the client's contract depends on it:

- **long-lived streams have a pool of their own.** A request marked long-lived
  (``extensions[LONG_LIVED]``: follow logs, events, wait, attach) goes through a second stock
  ``AsyncHTTPTransport`` with no connection limit, so streams never take the connections that
  ordinary requests wait for, nor wait for each other;
- **a keep-alive connection left with stray bytes is expired.** When a response is followed by
  bytes the engine had no business sending (already read into h11's buffer), the pool closes
  that connection instead of reading them as the next answer.

The second reads h11's ``trailing_data`` through httpcore's private attributes
(``AsyncHTTPConnection._connection._h11_state``); when a future httpcore names them otherwise
the check finds nothing and the connection is kept, as stock httpx keeps it
(``tests/testing/test_conformance.py``'s ``stray-bytes`` check would then fail).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpcore
import httpx

from ._native import LONG_LIVED

__all__ = ["HttpxTransport", "httpx_transport", "transport_pair"]


class HttpxTransport(httpx.AsyncHTTPTransport):
    """httpx's ``AsyncHTTPTransport`` on a Unix socket, long-lived streams on a second one.

    Args:
        socket_path: the engine's socket.
        max_connections: connections serving ordinary requests at once (and kept alive);
            long-lived streams are not counted.
    """

    def __init__(self, socket_path: str, *, max_connections: int) -> None:
        super().__init__(
            uds=socket_path,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )
        _expire_stray_bytes(self)
        self.socket_path = socket_path
        self._streams = httpx.AsyncHTTPTransport(
            uds=socket_path,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=0),
        )
        _expire_stray_bytes(self._streams)

    def __repr__(self) -> str:
        return f"HttpxTransport({self.socket_path!r})"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.extensions.get(LONG_LIVED, False):
            return await self._streams.handle_async_request(request)
        return await super().handle_async_request(request)

    async def aclose(self) -> None:
        try:
            await self._streams.aclose()
        finally:
            await super().aclose()


def httpx_transport(socket_path: str, *, max_connections: int) -> HttpxTransport:
    """The transport ``transport_kind="httpx"`` uses (see :class:`HttpxTransport`)."""
    return HttpxTransport(socket_path, max_connections=max_connections)


def transport_pair(
    make: Callable[[httpx.Limits], httpx.AsyncHTTPTransport], max_connections: int
) -> tuple[httpx.AsyncHTTPTransport, httpx.AsyncHTTPTransport]:
    """Two stock transports made by ``make(limits)``, both expiring stray bytes: one for
    ordinary requests (``max_connections``, as many kept alive), one for long-lived streams
    (no limit, none kept alive)."""
    ordinary = make(
        httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    )
    streams = make(httpx.Limits(max_connections=None, max_keepalive_connections=0))
    _expire_stray_bytes(ordinary)
    _expire_stray_bytes(streams)
    return ordinary, streams


def _expire_stray_bytes(transport: httpx.AsyncHTTPTransport) -> None:
    pool = getattr(transport, "_pool", None)
    create = getattr(pool, "create_connection", None)
    if isinstance(pool, httpcore.AsyncConnectionPool) and callable(create):

        def create_connection(origin: httpcore.Origin) -> httpcore.AsyncConnectionInterface:
            return _DiscardStrayBytes(create(origin))

        pool.create_connection = create_connection  # type: ignore[method-assign]


class _DiscardStrayBytes(httpcore.AsyncConnectionInterface):
    """One of httpcore's connections, expired as soon as it sits idle on stray bytes."""

    def __init__(self, inner: httpcore.AsyncConnectionInterface) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()

    def info(self) -> str:
        return self._inner.info()

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return self._inner.can_handle_request(origin)

    def is_available(self) -> bool:
        return self._inner.is_available() and not _holds_stray_bytes(self._inner)

    def has_expired(self) -> bool:
        return self._inner.has_expired() or _holds_stray_bytes(self._inner)

    def is_idle(self) -> bool:
        return self._inner.is_idle()

    def is_closed(self) -> bool:
        return self._inner.is_closed()

    def __repr__(self) -> str:
        return repr(self._inner)


def _holds_stray_bytes(connection: Any) -> bool:
    """Whether an idle HTTP/1.1 connection has bytes buffered beyond its last response."""
    if not connection.is_idle():
        return False
    h11_connection = getattr(getattr(connection, "_connection", None), "_h11_state", None)
    trailing = getattr(h11_connection, "trailing_data", None)
    # (bytes buffered, whether the engine's end of stream was seen): an engine that ended the
    # connection (over TLS a close_notify may leave TCP open) makes it unusable too.
    return bool(trailing and (trailing[0] or trailing[1]))

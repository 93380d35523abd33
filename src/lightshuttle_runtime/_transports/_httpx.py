"""httpx's stock transport, as ``DockerClient(transport_kind="httpx")`` builds it.

It is ``httpx.AsyncHTTPTransport(uds=...)`` with httpcore's own pool, connections and h11, and
one addition: a keep-alive connection whose last response was followed by bytes the engine
had no business sending (stray bytes after the body, already read into h11's buffer) is
treated as expired, so the pool closes it instead of reading those bytes as the next answer.
Our native transport discards such a connection in the same way.

The check reads h11's ``trailing_data`` through httpcore's private attributes
(``AsyncHTTPConnection._connection._h11_state``); when a future httpcore names them otherwise
the check finds nothing and the connection is kept, as stock httpx keeps it
(``tests/testing/test_conformance.py``'s ``stray-bytes`` check would then fail).
"""

from __future__ import annotations

from typing import Any

import httpcore
import httpx

__all__ = ["httpx_transport"]


def httpx_transport(socket_path: str, *, max_connections: int) -> httpx.AsyncHTTPTransport:
    """httpx's ``AsyncHTTPTransport`` on a Unix socket, discarding connections with stray bytes.

    Args:
        socket_path: the engine's socket.
        max_connections: connections open at once (and kept alive), at least 1.
    """
    transport = httpx.AsyncHTTPTransport(
        uds=socket_path,
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
    )
    pool = getattr(transport, "_pool", None)
    create = getattr(pool, "create_connection", None)
    if isinstance(pool, httpcore.AsyncConnectionPool) and callable(create):

        def create_connection(origin: httpcore.Origin) -> httpcore.AsyncConnectionInterface:
            return _DiscardStrayBytes(create(origin))

        pool.create_connection = create_connection  # type: ignore[method-assign]
    return transport


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
    return bool(trailing and trailing[0])

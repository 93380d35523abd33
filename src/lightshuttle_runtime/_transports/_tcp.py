"""The native transport's connector to a ``tcp://`` engine, plain or with TLS.

Plain TCP returns the transport's own :class:`~._connector.SocketStream` (its fast path) on a
non-blocking socket with ``TCP_NODELAY``; TLS wraps that stream in anyio's ``TLSStream``
(the handshake done in :meth:`TCPConnector.connect`, the server's certificate checked against
the context's CAs with the host name). Failures are ``OSError``: the resolver's
``socket.gaierror``, ``ConnectionRefusedError``, ``ssl.SSLError``...; the session explains them.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl

import anyio
from anyio.abc import ByteStream
from anyio.streams.tls import TLSStream

from ._connector import SocketStream

__all__ = ["TCPConnector"]


class _TLSStream(TLSStream):
    """anyio's TLS stream, half-closing (``send_eof``) by shutting the TCP write side.

    anyio does not implement ``send_eof`` under TLS, and a close_notify would not do either:
    OpenSSL drops what the engine sends after its own close_notify. The engine's TLS read
    ends (an unexpected EOF), which ends the process's stdin all the same; its output keeps
    coming, as with the httpx transport (``_upgrade``). Seen live on Docker over TLS.
    """

    async def send_eof(self) -> None:
        await self.transport_stream.send_eof()


class TCPConnector:
    """Connects to ``host:port``, with TLS when ``ssl_context`` is given.

    Args:
        host: a host name or IP address (IPv6 without brackets).
        port: the TCP port.
        ssl_context: TLS settings (:meth:`TLSConfig.ssl_context`), or ``None`` for plain HTTP.
        path_prefix: kept for messages only (a ``tcp://host:port/prefix`` URL's path).
    """

    def __init__(self, host: str, port: int, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.ssl_context = ssl_context

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"

    def __repr__(self) -> str:
        return f"TCPConnector({self.address!r}, tls={self.ssl_context is not None})"

    async def connect(self) -> ByteStream:
        """One connection, past the TLS handshake when there is TLS.

        Raises:
            OSError: the name does not resolve (``socket.gaierror``), the connection is
                refused or unreachable, or TLS fails (``ssl.SSLError``, or
                ``ConnectionResetError`` when the engine drops the handshake).
        """
        stream = await self._connect_tcp()
        if self.ssl_context is None:
            return stream
        try:
            return await _TLSStream.wrap(
                stream,
                server_side=False,
                hostname=self.host,
                ssl_context=self.ssl_context,
                standard_compatible=False,
            )
        except BaseException as exc:
            await anyio.aclose_forcefully(stream)
            if isinstance(exc, anyio.BrokenResourceError):
                cause = exc.__cause__
                if isinstance(cause, OSError):
                    raise cause from exc
                raise ConnectionResetError(
                    errno.ECONNRESET, f"the engine closed the TLS handshake ({exc!r})"
                ) from exc
            if isinstance(exc, anyio.EndOfStream):
                raise ConnectionResetError(
                    errno.ECONNRESET, "the engine closed the connection during the TLS handshake"
                ) from exc
            raise

    async def _connect_tcp(self) -> SocketStream:
        """Each resolved address in turn; the last error when none accepts."""
        infos = await anyio.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        last: OSError | None = None
        for family, kind, proto, _, sockaddr in infos:
            sock = socket.socket(family, kind, proto)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                code = sock.connect_ex(sockaddr)
                if code in (errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK):
                    await anyio.wait_writable(sock)
                    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    # OSError(errno, ...) is the errno's subclass (ConnectionRefusedError...).
                    raise OSError(
                        code,
                        f"{os.strerror(code)} (connecting to {sockaddr[0]} port {sockaddr[1]})",
                    )
            except OSError as exc:
                sock.close()
                last = exc
                continue
            except BaseException:
                sock.close()
                raise
            return SocketStream(sock)
        assert last is not None
        raise last

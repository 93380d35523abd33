"""The upgraded connection every transport hands over after ``101 Switching Protocols``.

The seam: a transport puts the connection's raw byte stream in the 101 response's
``extensions["network_stream"]``. Our own transports put an :class:`anyio.abc.ByteStream`
there (receive, send, ``send_eof`` half-closes the write side). httpx's stock transport puts
httpcore's network stream there (``read``/``write``/``aclose``, no half-close);
:func:`upgraded_stream` adapts it, half-closing through its socket (``shutdown(SHUT_WR)``,
under TLS as well: see :meth:`_HttpcoreStream.send_eof`), or, for a network stream that is no
socket (ssh dial-stdio's process pipes), through the coroutine function it offers as
``get_extra_info(SEND_EOF)``.
"""

from __future__ import annotations

import socket
from typing import Any, Protocol

import anyio
import httpx
from anyio.abc import ByteStream, SocketAttribute

__all__ = ["SEND_EOF", "UpgradeError", "upgraded_stream"]

#: The ``get_extra_info`` key under which one of our httpcore network streams that has no
#: socket offers its half-close: an ``async () -> None`` ending the write side.
SEND_EOF = "lightshuttle_send_eof"

_RECV_SIZE = 64 * 1024


class UpgradeError(Exception):
    """The response carries no upgraded stream this library can drive (internal)."""


class _NetworkStream(Protocol):
    """What httpcore's ``AsyncNetworkStream`` offers (structural, to avoid importing it)."""

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes: ...

    async def write(self, buffer: bytes, timeout: float | None = None) -> None: ...

    async def aclose(self) -> None: ...

    def get_extra_info(self, info: str) -> Any: ...


def upgraded_stream(response: httpx.Response) -> ByteStream:
    """The bidirectional byte stream of a 101 response (the bytes that came after the
    response head come first).

    Raises:
        UpgradeError: the transport put no usable stream in ``network_stream``.
    """
    stream = response.extensions.get("network_stream")
    if isinstance(stream, ByteStream):
        return stream
    if stream is not None and all(
        callable(getattr(stream, name, None)) for name in ("read", "write", "aclose")
    ):
        return _HttpcoreStream(stream)
    raise UpgradeError(
        f"the transport answered 101 but gave no upgraded stream ({type(stream).__name__} in "
        "response.extensions['network_stream'])"
    )


class _HttpcoreStream(ByteStream):
    """httpcore's network stream as an anyio byte stream; errors follow anyio's contract
    (:class:`anyio.EndOfStream` at the engine's end, :class:`anyio.BrokenResourceError` on
    a failure, :class:`anyio.ClosedResourceError` after close)."""

    def __init__(self, stream: _NetworkStream) -> None:
        self._stream = stream
        self._closed = False

    @property
    def extra_attributes(self) -> dict[Any, Any]:
        sock = self._socket()
        return {} if sock is None else {SocketAttribute.raw_socket: lambda: sock}

    def _socket(self) -> Any:
        """The socket under the stream: a :class:`socket.socket` (asyncio backend) or a
        ``trio.socket.SocketType`` (trio backend); both have ``shutdown``."""
        sock = self._extra("socket")
        return sock if callable(getattr(sock, "shutdown", None)) else None

    def _extra(self, info: str) -> Any:
        get = getattr(self._stream, "get_extra_info", None)
        return get(info) if callable(get) else None

    async def receive(self, max_bytes: int = _RECV_SIZE) -> bytes:
        if self._closed:
            raise anyio.ClosedResourceError
        try:
            data = await self._stream.read(max_bytes)
        except Exception as exc:  # httpcore.ReadError and the backend's own errors
            raise anyio.BrokenResourceError(str(exc)) from exc
        if not data:
            raise anyio.EndOfStream
        return data

    async def send(self, item: bytes) -> None:
        if self._closed:
            raise anyio.ClosedResourceError
        try:
            await self._stream.write(item)
        except Exception as exc:
            raise anyio.BrokenResourceError(str(exc)) from exc

    async def send_eof(self) -> None:
        if self._closed:
            raise anyio.ClosedResourceError
        half_close = self._extra(SEND_EOF)
        if callable(half_close):
            try:
                await half_close()
            except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
                raise anyio.BrokenResourceError(str(exc)) from exc
            return
        sock = self._socket()
        if sock is None:
            raise anyio.BrokenResourceError(
                "this connection cannot half-close its write side (no socket under it)"
            )
        try:
            # Under TLS too: the Docker CLI sends close_notify (Go's CloseWrite), but OpenSSL
            # drops what the engine sends after its own close_notify, so the TCP write side
            # is shut instead. The engine's TLS read then ends (an unexpected EOF), which
            # ends the process's stdin all the same; its output keeps coming. Seen live.
            sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise anyio.BrokenResourceError(str(exc)) from exc

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._stream.aclose()

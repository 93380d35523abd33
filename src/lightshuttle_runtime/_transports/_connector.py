"""The connector seam: how the native transport reaches an engine.

The native HTTP/1.1 transport (:class:`~._native.NativeTransport`) does everything HTTP —
framing, keep-alive pool, timeouts, upgrades — over byte streams it gets from a
:class:`Connector`: one call to :meth:`Connector.connect` per connection, returning an
:class:`anyio.abc.ByteStream`. The Unix-socket connector (:class:`UnixConnector`) is the first.

Adding a connector (tcp, TLS, ssh, ...)
---------------------------------------
Write a class with

- ``address``: a string naming the engine in messages and ``repr`` (``"tcp://10.0.0.5:2376"``);
- ``async def connect(self) -> anyio.abc.ByteStream``: open one connection, already past any
  handshake (TLS, ssh), so that the stream carries the HTTP/1.1 bytes. The transport bounds
  the call with the connect timeout (a cancel scope: be cancellable, close what you opened when
  cancelled). Raise ``OSError`` when the engine cannot be reached (``ConnectionRefusedError``,
  ``FileNotFoundError``, ``PermissionError``, ``ssl.SSLError``...): the transport turns it into
  ``httpx.ConnectError`` with the ``OSError`` as ``__cause__``, and the session explains it.

and pass it: ``NativeTransport(MyConnector(...), max_connections=...)``. Any anyio byte stream
works (``anyio.connect_tcp(...)``, ``anyio.streams.tls.TLSStream``, a process's stdin/stdout
joined with ``anyio.streams.stapled.StapledByteStream``). The stream's errors follow anyio's
contract (``EndOfStream`` when the engine closes, ``BrokenResourceError`` when it fails);
``send_eof`` half-closes for ``close_stdin`` on an upgraded connection (a stream that cannot
raises ``BrokenResourceError`` or ``NotImplementedError``).

Optional, for speed or precision: a stream with a method ``is_alive() -> bool`` is asked,
before an idle keep-alive connection is reused, whether the engine closed it (the default asks
the raw socket, ``SocketAttribute.raw_socket``, with a non-blocking peek: right for plain
sockets, over-cautious for TLS, whose idle socket may hold a session ticket — the connection is
then replaced, which costs a handshake and nothing else). Returning :class:`SocketStream` (a
non-blocking socket driven directly, without anyio's stream layers: what the Unix connector
does) takes the transport's fast path; any other stream goes through :class:`StreamWire`.

Check a new connector with the conformance suite
(``lightshuttle_runtime.testing.check_transport``) through a transport built on it.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

import anyio
import anyio.lowlevel
from anyio.abc import ByteStream, SocketAttribute

__all__ = ["Connector", "SocketStream", "StreamWire", "UnixConnector", "Wire", "as_wire"]

_RECV_SIZE = 64 * 1024
_CHECKPOINT_EVERY = 32  # reads that found data at once before we let other tasks run


@runtime_checkable
class Connector(Protocol):
    """Opens byte streams to one engine (see the module's docstring to write one)."""

    @property
    def address(self) -> str:
        """The engine, as messages name it (``"unix:///var/run/docker.sock"``)."""
        ...

    async def connect(self) -> ByteStream:
        """Open one connection to the engine.

        Raises:
            OSError: the engine cannot be reached (refused, no such socket, not permitted,
                TLS refused...).
        """
        ...


class Wire(Protocol):
    """What the native transport needs of a connection (internal): a byte stream with
    timeouts, a liveness check and synchronous abort/close."""

    #: Set by :meth:`abort`: an end of stream seen afterwards is the transport's doing.
    aborted: bool

    async def receive_within(self, timeout: float | None, size: int = _RECV_SIZE) -> bytes | None:
        """Up to ``size`` bytes; ``b""`` at the end, None when ``timeout`` s passed first.

        Raises:
            OSError, anyio.BrokenResourceError, anyio.ClosedResourceError: the connection failed.
        """
        ...

    async def send_within(self, data: bytes, timeout: float | None) -> bool:
        """Send all of ``data``; False when ``timeout`` s passed first (same errors)."""
        ...

    async def send_eof(self) -> None:
        """Half-close the sending side."""
        ...

    def is_alive(self) -> bool:
        """Whether an idle connection is still open and holds no bytes (no I/O wait)."""
        ...

    def abort(self) -> None:
        """Make a task waiting on the connection wake up with an error (or end)."""
        ...

    def close(self) -> bool:
        """Close now if that can be done without awaiting; False when :meth:`aclose` must."""
        ...

    async def aclose(self) -> None:
        """Close (never blocks for long: used under cancellation too)."""
        ...

    @property
    def stream(self) -> ByteStream:
        """The connection as an anyio byte stream (handed over after a 101)."""
        ...


class SocketStream(ByteStream):
    """A connected non-blocking socket as an anyio byte stream, driven with plain syscalls.

    Reads try the socket first and wait (:func:`anyio.wait_readable`, asyncio and trio alike)
    only when it has nothing; a timeout costs a cancel scope only around an actual wait.
    """

    __slots__ = ("_sock", "_streak", "aborted")

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._streak = 0  # reads in a row that did not have to wait
        self.aborted = False

    @property
    def extra_attributes(self) -> dict[Any, Any]:
        sock = self._sock
        return {SocketAttribute.raw_socket: lambda: sock}

    @property
    def stream(self) -> ByteStream:
        return self

    # -- the fast path (Wire) -------------------------------------------------------------

    async def receive_within(self, timeout: float | None, size: int = _RECV_SIZE) -> bytes | None:
        sock = self._sock
        while True:
            try:
                data = sock.recv(size)
            except BlockingIOError:
                # Trying first, even right after sending a request, measured faster than
                # waiting first.
                self._streak = 0
                if not await _wait(anyio.wait_readable, sock, timeout):
                    return None
                continue
            self._streak += 1
            if self._streak >= _CHECKPOINT_EVERY:
                self._streak = 0
                await anyio.lowlevel.checkpoint()
            return data

    async def send_within(self, data: bytes, timeout: float | None) -> bool:
        sock = self._sock
        try:
            sent = sock.send(data)
        except BlockingIOError:
            sent = 0
        if sent == len(data):
            return True
        view = memoryview(data)[sent:]
        while view:
            if not await _wait(anyio.wait_writable, sock, timeout):
                return False
            with contextlib.suppress(BlockingIOError):
                view = view[sock.send(view) :]
        return True

    def is_alive(self) -> bool:
        try:
            self._sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return True
        except OSError:
            return False
        return False  # EOF, or stray bytes from the server: either way unusable

    def abort(self) -> None:
        self.aborted = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> bool:
        self._sock.close()
        return True

    # -- anyio's ByteStream ---------------------------------------------------------------

    def _check_open(self) -> None:
        if self._sock.fileno() < 0:
            raise anyio.ClosedResourceError

    async def receive(self, max_bytes: int = _RECV_SIZE) -> bytes:
        self._check_open()
        try:
            data = await self.receive_within(None, max_bytes)
        except OSError as exc:
            raise anyio.BrokenResourceError from exc
        if not data:
            if self.aborted:  # shut down by the transport's aclose(), not the engine
                raise anyio.BrokenResourceError("the transport was closed")
            raise anyio.EndOfStream
        return data

    async def send(self, item: bytes) -> None:
        self._check_open()
        try:
            await self.send_within(item, None)
        except OSError as exc:
            raise anyio.BrokenResourceError from exc

    async def send_eof(self) -> None:
        self._check_open()
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise anyio.BrokenResourceError from exc

    async def aclose(self) -> None:
        self._sock.close()


async def _wait(
    wait: Callable[[socket.socket], Awaitable[None]], sock: socket.socket, timeout: float | None
) -> bool:
    """Wait for the socket (readable or writable); False if ``timeout`` s passed first."""
    if timeout is None:
        await wait(sock)
        return True
    with anyio.move_on_after(timeout) as scope:
        await wait(sock)
    return not scope.cancelled_caught


class StreamWire:
    """Any anyio byte stream (a connector's) as a :class:`Wire`."""

    __slots__ = ("aborted", "stream")

    def __init__(self, stream: ByteStream) -> None:
        self.stream = stream
        self.aborted = False

    async def receive_within(self, timeout: float | None, size: int = _RECV_SIZE) -> bytes | None:
        try:
            if timeout is None:
                return await self.stream.receive(size)
            with anyio.move_on_after(timeout):
                return await self.stream.receive(size)
            return None
        except anyio.EndOfStream:
            return b""

    async def send_within(self, data: bytes, timeout: float | None) -> bool:
        if timeout is None:
            await self.stream.send(data)
            return True
        with anyio.move_on_after(timeout):
            await self.stream.send(data)
            return True
        return False

    async def send_eof(self) -> None:
        await self.stream.send_eof()

    def _raw_socket(self) -> socket.socket | None:
        sock = self.stream.extra(SocketAttribute.raw_socket, None)
        return sock if isinstance(sock, socket.socket) else None

    def is_alive(self) -> bool:
        own = getattr(self.stream, "is_alive", None)
        if callable(own):
            return bool(own())
        sock = self._raw_socket()
        if sock is None:
            return True  # nothing to ask: a stale connection is retried once when it can be
        try:
            sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return True
        except OSError:
            return False
        return False

    def abort(self) -> None:
        self.aborted = True
        own = getattr(self.stream, "abort", None)
        if callable(own):  # a stream with no socket to shut (ssh dial-stdio's pipes)
            own()
            return
        sock = self._raw_socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> bool:
        return False  # an anyio stream closes only by awaiting

    async def aclose(self) -> None:
        await anyio.aclose_forcefully(self.stream)


def as_wire(stream: ByteStream) -> Wire:
    """A connector's stream as the transport drives it (our own socket stream directly)."""
    return stream if isinstance(stream, SocketStream) else StreamWire(stream)


class UnixConnector:
    """Connects to an engine's Unix socket (``/var/run/docker.sock``).

    Not :func:`anyio.connect_unix`: under asyncio it leaks the socket when cancelled while the
    listener's backlog is full, and under trio it reports such a connect as done. A Unix-socket
    connect is never "in progress": EAGAIN means "backlog full, try again", so it is retried
    with a short backoff (the transport's connect timeout bounds it).
    """

    def __init__(self, path: str) -> None:
        self.path = path

    @property
    def address(self) -> str:
        return f"unix://{self.path}"

    def __repr__(self) -> str:
        return f"UnixConnector({self.path!r})"

    async def connect(self) -> SocketStream:
        """A connected socket stream.

        Raises:
            OSError: no such socket, not a socket, refused, permission denied.
        """
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            delay = 0.001
            while True:
                try:
                    sock.connect(self.path)
                except BlockingIOError:
                    await anyio.sleep(delay)
                    delay = min(delay * 2, 0.05)
                else:
                    return SocketStream(sock)
        except BaseException:
            sock.close()
            raise

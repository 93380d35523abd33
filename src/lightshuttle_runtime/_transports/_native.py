"""Our native HTTP/1.1 transport, over any connector's byte streams, with a keep-alive pool.

Stock ``httpx.AsyncHTTPTransport`` goes through httpcore and h11 and costs several times a raw
socket round trip per request. :class:`NativeTransport` frames messages with the sans-I/O reader
in :mod:`._http11` and reaches the engine through a :class:`~._connector.Connector` (one byte
stream per connection; see :mod:`._connector` to add one). With the Unix-socket connector
(:class:`UnixSocketTransport`) it does its own non-blocking ``send``/``recv`` on the socket and
waits with anyio only when the socket has nothing to give, so it runs under asyncio and trio
(anyio >= 4.7); a timeout costs a cancel scope only around an actual wait.

Requests are made by calling :meth:`NativeTransport.handle_async_request` directly, or by giving
the transport to ``httpx.AsyncClient(transport=...)``.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any, ClassVar

import anyio
import httpx
from anyio.abc import ByteStream

from .._errors import InvalidArgumentError
from ._connector import Connector, UnixConnector, Wire, as_wire
from ._http11 import (
    LAST_CHUNK,
    HTTPProtocolError,
    NoResponseError,
    ResponseHead,
    ResponseReader,
    encode_chunk,
    encode_request_head,
)

__all__ = ["LONG_LIVED", "NativeTransport", "UnixSocketTransport", "UpgradedStream"]

#: A request extension: ``True`` marks a long-lived stream (follow logs, events, wait, attach),
#: which the built-in transports serve outside the limit of ``max_connections``.
LONG_LIVED = "lightshuttle.long_lived"

_COALESCE_LIMIT = 64 * 1024  # send head and body in one call when the body is this small
#: What a connection's byte stream may raise when it fails (the OS's, or anyio's contract).
_STREAM_ERRORS = (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError)
_IDEMPOTENT = frozenset((b"GET", b"HEAD", b"PUT", b"DELETE", b"OPTIONS", b"TRACE"))

Timeouts = tuple[float | None, float | None, float | None, float | None]
_NO_TIMEOUTS: Timeouts = (None, None, None, None)


def _timeouts(request: httpx.Request) -> Timeouts:
    """Read ``request.extensions["timeout"]`` as (connect, read, write, pool) seconds."""
    spec = request.extensions.get("timeout")
    if not spec:
        return _NO_TIMEOUTS
    return (spec.get("connect"), spec.get("read"), spec.get("write"), spec.get("pool"))


class _Connection:
    """One connection to the engine and the reader of the responses arriving on it."""

    __slots__ = ("idle_since", "partial", "reader", "received_any", "slotted", "wire")

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.slotted = True  # holds one of max_connections (a long-lived stream's does not)
        self.reader = ResponseReader()
        self.idle_since = 0.0
        self.partial = False  # the request was cut short (early answer): never reuse
        self.received_any = False  # any byte of the current response arrived

    @property
    def reused(self) -> bool:
        """True once the connection has served a response and sat idle in the pool."""
        return self.idle_since != 0.0

    @property
    def aborted(self) -> bool:
        """Shut down by :meth:`NativeTransport.aclose`."""
        return self.wire.aborted

    async def fill(self, timeout: float | None, request: httpx.Request) -> None:
        """Receive into the reader, mapping failures to httpx errors."""
        try:
            data = await self.wire.receive_within(timeout)
        except _STREAM_ERRORS as exc:
            raise httpx.ReadError(
                f"reading from the engine failed: {exc or type(exc).__name__}", request=request
            ) from exc
        if data is None:
            raise httpx.ReadTimeout(f"no data from the engine for {timeout} s", request=request)
        if data:
            self.received_any = True
            self.reader.feed(data)
        elif self.wire.aborted:
            raise httpx.ReadError("the transport was closed during the request", request=request)
        else:
            self.reader.feed_eof()


class _Pool:
    """Idle keep-alive connections, in-use connections, and the connection limit."""

    def __init__(self, max_connections: int, max_keepalive: int, keepalive_expiry: float) -> None:
        self.max_connections = max_connections
        self.max_keepalive = max_keepalive
        self.keepalive_expiry = keepalive_expiry
        self.idle: list[_Connection] = []  # most recently used last
        self.active: set[_Connection] = set()
        self.slots_used = 0
        self.waiters: deque[anyio.Event] = deque()
        self.closed = False
        #: Wires that could not be closed without awaiting (dropped by the garbage collector).
        self.closing: list[Wire] = []

    async def wait_for_slot(self, timeout: float | None, request: httpx.Request) -> None:
        """Wait up to ``timeout`` s for one of ``max_connections`` to be handed over."""
        event = anyio.Event()
        self.waiters.append(event)
        try:
            with anyio.move_on_after(timeout):
                await event.wait()
            if not event.is_set():
                raise httpx.PoolTimeout(
                    f"no connection to the engine freed up within {timeout} s "
                    f"(max_connections={self.max_connections})",
                    request=request,
                )
        except BaseException:
            if event.is_set():  # the slot was handed over as we gave up: pass it on
                self.release_slot()
            else:
                self.waiters.remove(event)
            raise

    def release_slot(self) -> None:
        if self.waiters:
            self.waiters.popleft().set()  # hand the slot over; slots_used is unchanged
        else:
            self.slots_used -= 1

    async def pop_idle(self, check_alive: bool) -> _Connection | None:
        """The most recently used idle connection that has not expired.

        Args:
            check_alive: also check (one non-blocking peek) that the engine did not close
                it; a request that can be retried on a fresh connection skips this.
        """
        idle = self.idle
        if not idle:
            return None
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if now - conn.idle_since <= self.keepalive_expiry and (
                not check_alive or conn.wire.is_alive()
            ):
                return conn
            await _close(conn.wire)
        return None

    async def release(self, conn: _Connection) -> None:
        """Take back a connection whose response ended; keep it idle if it can be reused."""
        self.active.discard(conn)
        try:
            reusable = conn.reader.next_message() and not conn.partial
            if reusable and not self.closed and len(self.idle) < self.max_keepalive:
                conn.idle_since = time.monotonic()
                self.idle.append(conn)
            else:
                await _close(conn.wire)
        finally:
            self.release_slot_of(conn)

    async def discard(self, conn: _Connection) -> None:
        """Close a connection that failed or whose response was abandoned."""
        self.active.discard(conn)
        try:
            await _close(conn.wire)
        finally:
            self.release_slot_of(conn)

    def release_slot_of(self, conn: _Connection) -> None:
        if conn.slotted:
            self.release_slot()

    def discard_now(self, conn: _Connection) -> None:
        """:meth:`discard` without awaiting (from ``__del__``): a wire that cannot close
        synchronously is closed by the next :meth:`flush`."""
        self.active.discard(conn)
        if not conn.wire.close():
            self.closing.append(conn.wire)
        self.release_slot_of(conn)

    async def flush(self) -> None:
        """Close the wires :meth:`discard_now` could not."""
        closing, self.closing = self.closing, []
        for wire in closing:
            await _close(wire)


async def _close(wire: Wire) -> None:
    """Close a wire, synchronously when it can; never blocks (used under cancellation)."""
    if not wire.close():
        with anyio.CancelScope(shield=True):
            await wire.aclose()


class _ResponseStream(httpx.AsyncByteStream):
    """A response body, yielded as it arrives; owns its connection until the end."""

    __slots__ = ("_conn", "_first", "_pool", "_request", "_timeout")

    def __init__(
        self,
        pool: _Pool,
        conn: _Connection,
        request: httpx.Request,
        timeout: float | None,
        first: bytes = b"",
    ) -> None:
        self._pool = pool
        self._conn: _Connection | None = conn
        self._request = request
        self._timeout = timeout
        self._first = first  # the body's bytes that came with the head

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def read_all(self) -> bytes:
        """The rest of the body at once, read as iterating reads it (same errors): what the
        session uses for an answer it reads whole, instead of httpx's ``aread()`` machinery."""
        return b"".join([piece async for piece in self])

    async def __anext__(self) -> bytes:
        first = self._first
        if first:
            self._first = b""
            return first
        conn = self._conn
        if conn is None:
            raise StopAsyncIteration
        reader = conn.reader
        try:
            while True:
                data = reader.read_body()
                if data is None:
                    await conn.fill(self._timeout, self._request)
                elif data:
                    return _gather(reader, data)
                else:
                    break
        except HTTPProtocolError as exc:
            self._conn = None
            await self._pool.discard(conn)
            raise httpx.RemoteProtocolError(str(exc), request=self._request) from exc
        except BaseException:
            self._conn = None
            await self._pool.discard(conn)
            raise
        self._conn = None
        await self._pool.release(conn)
        raise StopAsyncIteration

    async def aclose(self) -> None:
        conn = self._conn
        if conn is None:
            return
        self._conn = None
        # The rest of the body may already be buffered (it often comes with the head).
        data: bytes | None
        try:
            while data := conn.reader.read_body():
                pass
        except HTTPProtocolError:
            data = None
        if data is None:
            await self._pool.discard(conn)
        else:
            await self._pool.release(conn)

    def __del__(self) -> None:
        # A body dropped unclosed (``async for ... : break`` outside ``async with``): close the
        # socket and free its pool slot now; otherwise the pool's set of active connections
        # would keep both forever and later requests would wait for the slot.
        conn = self._conn
        if conn is not None:
            self._conn = None
            with contextlib.suppress(Exception):
                self._pool.discard_now(conn)


def _gather(reader: ResponseReader, first: bytes) -> bytes:
    """``first`` joined with every further body piece already received.

    One item per socket read rather than one per chunk: Docker sends each log line as a
    chunk of its own, and handing them out one by one cost more than decoding them. A
    framing error met here is raised by the next read, after these bytes are handed out.
    """
    parts = [first]
    try:
        while more := reader.read_body():
            parts.append(more)
    except HTTPProtocolError:
        pass
    return first if len(parts) == 1 else b"".join(parts)


def _content_coded(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the answer has a ``Content-Encoding`` (httpx's ``aread()`` decodes it)."""
    return any(name.lower() == b"content-encoding" for name, _ in headers)


def _buffered_body(reader: ResponseReader) -> tuple[bytes, bool]:
    """The body bytes already received after the head, and whether they are the whole body
    (true too for no body: HEAD, 204, 304, ``Content-Length: 0``).

    A framing error met here is left to the next read (the stream's), as in :func:`_gather`.
    """
    parts: list[bytes] = []
    try:
        while data := reader.read_body():
            parts.append(data)
    except HTTPProtocolError:
        data = None
    body = parts[0] if len(parts) == 1 else b"".join(parts)
    return body, data is not None


class UpgradedStream(ByteStream):
    """The raw byte stream of a connection after ``101 Switching Protocols``.

    Found in ``response.extensions["network_stream"]`` of a 101 response (an attach or
    exec start sent with ``Upgrade: tcp``). It first yields the bytes that arrived with
    the 101 head. It is usable until the response is closed: closing either closes the
    connection. Errors follow anyio's stream contract: :class:`anyio.EndOfStream` when the
    engine closes, :class:`anyio.BrokenResourceError` when the connection fails,
    :class:`anyio.ClosedResourceError` after close.
    """

    def __init__(self, pool: _Pool, conn: _Connection) -> None:
        self._pool = pool
        self._conn = conn
        self._stream = conn.wire.stream
        self._pending = conn.reader.leftover
        self._released = False

    @property
    def extra_attributes(self) -> dict[Any, Any]:
        return dict(self._stream.extra_attributes)

    def _check_open(self) -> None:
        if self._released:
            raise anyio.ClosedResourceError

    async def receive(self, max_bytes: int = 65536) -> bytes:
        """Return up to ``max_bytes`` bytes once some are available."""
        if self._pending:
            data, self._pending = self._pending[:max_bytes], self._pending[max_bytes:]
            return data
        self._check_open()
        try:
            return await self._stream.receive(max_bytes)
        except OSError as exc:
            raise anyio.BrokenResourceError from exc
        except anyio.EndOfStream:
            if self._conn.aborted:  # shut down by the transport's aclose(), not the engine
                raise anyio.BrokenResourceError("the transport was closed") from None
            raise

    async def send(self, item: bytes) -> None:
        """Send all of ``item``."""
        self._check_open()
        try:
            await self._stream.send(item)
        except OSError as exc:
            raise anyio.BrokenResourceError from exc

    async def send_eof(self) -> None:
        """Close the sending half (the engine sees the end of stdin)."""
        self._check_open()
        try:
            await self._conn.wire.send_eof()
        except (OSError, NotImplementedError) as exc:
            raise anyio.BrokenResourceError from exc

    async def aclose(self) -> None:
        """Close the connection and give its place in the pool back."""
        if not self._released:
            self._released = True
            await self._pool.discard(self._conn)


class _UpgradeResponseStream(httpx.AsyncByteStream):
    """The (empty) body of a 101 response; closing it closes the upgraded socket."""

    def __init__(self, upgraded: UpgradedStream) -> None:
        self._upgraded = upgraded

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration

    async def aclose(self) -> None:
        await self._upgraded.aclose()


class _StaleConnection(Exception):
    """A reused connection turned out to be closed before any answer (internal)."""


class NativeTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over a connector's byte streams, with a pool of keep-alive connections.

    Args:
        connector: opens the connections (:class:`~._connector.UnixConnector`, or any
            :class:`~._connector.Connector`).
        max_connections: connections serving ordinary requests at once; a request that finds
            them all in use waits for one, up to the ``pool`` timeout (then
            ``httpx.PoolTimeout``). A request marked long-lived (``extensions[LONG_LIVED]``:
            the client's follow, events, wait and attach streams) opens a connection outside
            this limit, so streams never starve ordinary calls nor wait for each other; each
            holds one file descriptor while it is open.
        max_keepalive: idle connections kept for reuse.
        keepalive_expiry: seconds an idle connection is kept before it is closed.

    Raises:
        InvalidArgumentError: a limit is out of range.

    Timeouts come from ``request.extensions["timeout"]``, a dict with keys ``connect``,
    ``read``, ``write`` and ``pool`` in seconds, each None for no limit (httpx's
    client sets it). ``read`` bounds each wait for bytes, not the whole body, so a
    stream with ``read=None`` never times out while idle.

    Errors raised by :meth:`handle_async_request` and by reading the body:
    ``httpx.ConnectError`` (the connector's ``OSError``: no socket, not a socket, refused,
    permission denied, TLS refused; it is the ``__cause__``), ``httpx.ConnectTimeout``,
    ``httpx.PoolTimeout``,
    ``httpx.WriteTimeout``, ``httpx.ReadTimeout``, ``httpx.WriteError``,
    ``httpx.ReadError``, ``httpx.RemoteProtocolError`` (malformed answer, or the
    engine closed mid-answer), ``httpx.LocalProtocolError`` (a request that cannot
    be encoded).
    """

    #: :meth:`handle_async_request` never modifies the request it is given, so the session may
    #: send the same (bodiless) request object again.
    reuses_requests: ClassVar[bool] = True

    def __init__(
        self,
        connector: Connector,
        *,
        max_connections: int = 10,
        max_keepalive: int = 10,
        keepalive_expiry: float = 30.0,
    ) -> None:
        if max_connections < 1:
            raise InvalidArgumentError(f"max_connections must be >= 1, got {max_connections}")
        if max_keepalive < 0:
            raise InvalidArgumentError(f"max_keepalive must be >= 0, got {max_keepalive}")
        if keepalive_expiry < 0:
            raise InvalidArgumentError(f"keepalive_expiry must be >= 0, got {keepalive_expiry}")
        self.connector = connector
        self._pool = _Pool(max_connections, max_keepalive, keepalive_expiry)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.connector.address!r})"

    @property
    def idle_connections(self) -> int:
        """The number of idle keep-alive connections held."""
        return len(self._pool.idle)

    @property
    def active_connections(self) -> int:
        """The number of connections serving a request or a response body."""
        return len(self._pool.active)

    async def aclose(self) -> None:
        """Close every connection: idle ones now, in-use ones by shutting them down.

        A task reading a body from a shut-down connection gets ``httpx.ReadError``.
        Requests made after this raise ``RuntimeError``.
        """
        pool = self._pool
        pool.closed = True
        idle, pool.idle = pool.idle, []
        for conn in idle:
            await _close(conn.wire)
        for conn in pool.active:
            conn.wire.abort()
        await pool.flush()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return the response once its head has arrived.

        The body is streamed: read it with ``await response.aread()`` or iterate
        ``response.aiter_raw()``/``aiter_bytes()``, and close the response (``aread()``
        does) to give the connection back to the pool.

        Raises:
            RuntimeError: the transport was closed.
            httpx.TransportError: see the class docstring.
        """
        pool = self._pool
        if pool.closed:
            raise RuntimeError(f"the {type(self).__name__} is closed")
        t_connect, t_read, t_write, t_pool = _timeouts(request)
        method = request.method.encode("ascii")
        head, body = _encode_request(request, method)
        retry = method in _IDEMPOTENT and isinstance(body, bytes)
        fresh = False
        while True:
            conn = await self._acquire(request, t_pool, t_connect, fresh, not retry)
            try:
                response_head = await self._exchange(
                    conn, request, head, body, t_write, t_read, method == b"HEAD"
                )
            except _StaleConnection as exc:
                await pool.discard(conn)
                if retry and not fresh:
                    fresh = True
                    continue
                raise _as_httpx(exc.__cause__, request) from exc.__cause__
            except HTTPProtocolError as exc:
                await pool.discard(conn)
                raise httpx.RemoteProtocolError(str(exc), request=request) from exc
            except BaseException:
                await pool.discard(conn)
                raise
            return await self._response(conn, response_head, request, t_read)

    async def _acquire(
        self,
        request: httpx.Request,
        pool_timeout: float | None,
        connect_timeout: float | None,
        fresh: bool,
        check_alive: bool,
    ) -> _Connection:
        pool = self._pool
        if pool.closing:
            await pool.flush()
        # A long-lived stream (follow logs, events, wait, attach) holds its connection for as
        # long as it lives: it takes none of the max_connections that ordinary requests share.
        slotted = not request.extensions.get(LONG_LIVED, False)
        if slotted:
            if pool.slots_used < pool.max_connections and not pool.waiters:
                pool.slots_used += 1
            else:
                await pool.wait_for_slot(pool_timeout, request)
        try:
            if pool.closed:
                raise RuntimeError(f"the {type(self).__name__} is closed")
            conn = None if fresh else await pool.pop_idle(check_alive)
            if conn is None:
                conn = await self._connect(connect_timeout, request)
        except BaseException:
            if slotted:
                pool.release_slot()
            raise
        conn.slotted = slotted
        conn.received_any = False
        pool.active.add(conn)
        return conn

    async def _connect(self, timeout: float | None, request: httpx.Request) -> _Connection:
        connector = self.connector
        try:
            with anyio.fail_after(timeout):
                stream = await connector.connect()
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(
                f"connecting to the engine at {connector.address} took over {timeout} s",
                request=request,
            ) from exc
        except OSError as exc:
            reason = f"[Errno {exc.errno}] {exc.strerror}" if exc.errno else str(exc)
            raise httpx.ConnectError(
                f"cannot connect to the engine at {connector.address}: {reason}",
                request=request,
            ) from exc
        return _Connection(as_wire(stream))

    async def _exchange(
        self,
        conn: _Connection,
        request: httpx.Request,
        head: bytes,
        body: bytes | AsyncIterable[bytes],
        t_write: float | None,
        t_read: float | None,
        head_request: bool,
    ) -> ResponseHead:
        """Send the request and read the response head."""
        try:
            await self._send(conn, request, head, body, t_write)
        except httpx.WriteError as exc:
            # The engine may have answered and closed early (an error before the body).
            conn.partial = True
            try:
                return await self._read_head(conn, request, t_read, head_request)
            except (HTTPProtocolError, httpx.TransportError):
                pass
            if conn.received_any or not conn.reused:
                raise
            raise _StaleConnection from exc
        try:
            return await self._read_head(conn, request, t_read, head_request)
        except (NoResponseError, httpx.ReadError) as exc:
            if conn.received_any or conn.aborted or not conn.reused:
                if isinstance(exc, NoResponseError):
                    raise httpx.RemoteProtocolError(str(exc), request=request) from exc
                raise
            raise _StaleConnection from exc

    async def _send(
        self,
        conn: _Connection,
        request: httpx.Request,
        head: bytes,
        body: bytes | AsyncIterable[bytes],
        timeout: float | None,
    ) -> None:
        if isinstance(body, bytes):
            if len(body) <= _COALESCE_LIMIT:
                await _send(conn, head + body, timeout, request)
            else:
                await _send(conn, head, timeout, request)
                await _send(conn, body, timeout, request)
            return
        await _send(conn, head, timeout, request)
        chunked = _is_chunked(request)
        async for piece in body:
            data = encode_chunk(piece) if chunked else piece
            if data:
                await _send(conn, data, timeout, request)
        if chunked:
            await _send(conn, LAST_CHUNK, timeout, request)

    async def _read_head(
        self, conn: _Connection, request: httpx.Request, timeout: float | None, head_request: bool
    ) -> ResponseHead:
        reader = conn.reader
        while True:
            response_head = reader.read_head(head_request=head_request)
            if response_head is not None:
                return response_head
            await conn.fill(timeout, request)

    async def _response(
        self, conn: _Connection, head: ResponseHead, request: httpx.Request, t_read: float | None
    ) -> httpx.Response:
        pool = self._pool
        extensions: dict[str, Any] = {
            "http_version": head.http_version,
            "reason_phrase": head.reason,
        }
        stream: httpx.AsyncByteStream
        if head.status == 101:
            upgraded = UpgradedStream(pool, conn)
            extensions["network_stream"] = upgraded
            stream = _UpgradeResponseStream(upgraded)
        else:
            body, complete = _buffered_body(conn.reader)
            if complete and not _content_coded(head.headers):
                # The whole body came with the head (most answers): the connection goes back
                # to the pool now and the response holds its bytes, read. Setting what
                # ``aread()`` returns spares httpx's per-response read and decode machinery
                # (about 35 µs of a 100 µs request overhead); were httpx to stop using that
                # attribute, ``aread()`` would iterate the ByteStream instead: same bytes.
                await pool.release(conn)
                response = httpx.Response(
                    head.status,
                    headers=head.headers,
                    stream=httpx.ByteStream(body),
                    extensions=extensions,
                    request=request,
                )
                response._content = body
                return response
            stream = _ResponseStream(pool, conn, request, t_read, body)
        return httpx.Response(
            head.status,
            headers=head.headers,
            stream=stream,
            extensions=extensions,
            request=request,
        )


async def _send(
    conn: _Connection, data: bytes, timeout: float | None, request: httpx.Request
) -> None:
    try:
        sent = await conn.wire.send_within(data, timeout)
    except _STREAM_ERRORS as exc:
        raise httpx.WriteError(
            f"writing to the engine failed: {exc or type(exc).__name__}", request=request
        ) from exc
    if not sent:
        raise httpx.WriteTimeout(f"the engine accepted no data for {timeout} s", request=request)


def _as_httpx(exc: BaseException | None, request: httpx.Request) -> BaseException:
    if isinstance(exc, NoResponseError):
        return httpx.RemoteProtocolError(str(exc), request=request)
    return exc if exc is not None else httpx.RemoteProtocolError("connection lost", request=request)


def _is_chunked(request: httpx.Request) -> bool:
    """A streamed body is chunk-encoded unless the caller gave its Content-Length."""
    return "content-length" not in request.headers


def _has_transfer_encoding(request: httpx.Request) -> bool:
    return "transfer-encoding" in request.headers


def _announces_chunked(request: httpx.Request) -> bool:
    """Whether the request's own headers frame its body as chunked (last coding ``chunked``)."""
    codings = ",".join(request.headers.get_list("transfer-encoding"))
    return codings.rsplit(",", 1)[-1].strip().lower() == "chunked"


def _encode_request(
    request: httpx.Request, method: bytes
) -> tuple[bytes, bytes | AsyncIterable[bytes]]:
    """Encode the request head; return it with the body (bytes, or an async iterable)."""
    headers: Iterable[tuple[bytes, bytes]] = request.headers.raw
    body: bytes | AsyncIterable[bytes]
    try:
        body = request.content
    except httpx.RequestNotRead:
        stream = request.stream
        if isinstance(stream, AsyncIterable):
            body = stream
        elif isinstance(stream, Iterable):
            body = b"".join(stream)
        else:
            raise httpx.LocalProtocolError(
                f"unsupported request stream {type(stream).__name__}", request=request
            ) from None
    if isinstance(body, bytes) and _announces_chunked(request):
        # A streamed body already read into bytes (a cassette recorder's ``aread()``), or a
        # sync iterable joined above: httpx announced it chunked, so send it chunked.
        body = encode_chunk(body) + LAST_CHUNK
    elif body and "content-length" not in request.headers and not _has_transfer_encoding(request):
        extra = (
            (b"Content-Length", b"%d" % len(body))
            if isinstance(body, bytes)
            else (b"Transfer-Encoding", b"chunked")
        )
        headers = [*headers, extra]
    try:
        head = encode_request_head(method, request.url.raw_path, headers)
    except HTTPProtocolError as exc:
        raise httpx.LocalProtocolError(str(exc), request=request) from exc
    return head, body


class UnixSocketTransport(NativeTransport):
    """The native transport on an engine's Unix socket (:class:`~._connector.UnixConnector`).

    Args:
        path: the socket's filesystem path (``"/var/run/docker.sock"``).
        max_connections, max_keepalive, keepalive_expiry: as :class:`NativeTransport`.

    Raises:
        InvalidArgumentError: a limit is out of range.
    """

    def __init__(
        self,
        path: str,
        *,
        max_connections: int = 10,
        max_keepalive: int = 10,
        keepalive_expiry: float = 30.0,
    ) -> None:
        super().__init__(
            UnixConnector(path),
            max_connections=max_connections,
            max_keepalive=max_keepalive,
            keepalive_expiry=keepalive_expiry,
        )
        self.path = path

    def __repr__(self) -> str:
        return f"UnixSocketTransport({self.path!r})"

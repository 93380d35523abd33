"""A tiny scriptable HTTP/1.1 server on a Unix socket, to test clients against engine faults.

:class:`FakeEngine` listens on a socket path (put it under the test's temporary
directory; Unix socket paths are limited to about 100 bytes), answers each request with
a scripted :class:`Behaviour`, and records what it received. It runs on anyio, so the
same test works under asyncio and trio::

    from lightshuttle_runtime.testing import FakeEngine, respond, close_mid_body

    async with FakeEngine(tmp / "engine.sock") as engine:
        engine.enqueue(respond(200, b"OK"), close_mid_body(b"0123456789", sent=4))
        ...  # the first request gets "OK", the second a body cut after 4 bytes
        assert engine.requests[0].target == "/_ping"

Behaviours queued with :meth:`FakeEngine.enqueue` are used first, one per request in
arrival order; then the ``handler`` given to the constructor (called with the
:class:`ReceivedRequest`, returning a Behaviour, or an awaitable of one); without a
handler the answer is a 404 with a JSON ``message`` naming the request.

A Behaviour is a list of steps (:class:`Send`, :class:`Sleep`, :class:`Close`,
:class:`Stall`, :class:`Echo`) run in order; the helper functions below build the
usual ones: normal answers, chunked streams, and faults (a close mid-body or before the
final chunk, a stall, malformed status line, headers or chunk size, garbage, slow
answers, a 101 upgrade). After the steps, the connection stays open for the next
request unless a step closed it.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import anyio
import anyio.abc

from .._transports._http11 import HTTPProtocolError, RequestReader, encode_chunk

__all__ = [
    "Behaviour",
    "Close",
    "Echo",
    "FakeEngine",
    "Handler",
    "ReceivedRequest",
    "Send",
    "Sleep",
    "Stall",
    "bad_chunk_size",
    "close_mid_body",
    "close_without_answer",
    "close_without_final_chunk",
    "garbage",
    "malformed_header",
    "malformed_status_line",
    "respond",
    "respond_json",
    "slow",
    "stall",
    "stall_mid_stream",
    "stream_chunks",
    "upgrade",
]

_REASONS = {
    101: "Switching Protocols",
    200: "OK",
    201: "Created",
    204: "No Content",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
}


@dataclass(frozen=True)
class Send:
    """Send these bytes as they are."""

    data: bytes


@dataclass(frozen=True)
class Sleep:
    """Wait this many seconds before the next step."""

    seconds: float


@dataclass(frozen=True)
class Close:
    """Close the connection (the client sees EOF)."""


@dataclass(frozen=True)
class Stall:
    """Send nothing more, until the client hangs up (then close) or the engine stops.

    Attributes:
        drain: read and discard what the client sends, which is how its hang-up is
            noticed; False reads nothing, so the client's writes eventually block.
    """

    drain: bool = True


@dataclass(frozen=True)
class Echo:
    """Send back every byte received until the client closes its side (after an upgrade)."""


Step = Send | Sleep | Close | Stall | Echo


@dataclass(frozen=True)
class Behaviour:
    """How the engine answers one request: steps run in order.

    Attributes:
        steps: what to do, in order.
        read_body: read the request body before answering (False leaves it unread, so
            a large upload fills the socket buffers: a write-timeout test).
    """

    steps: tuple[Step, ...]
    read_body: bool = True

    def then(self, *steps: Step) -> Behaviour:
        """This behaviour with more steps appended."""
        return Behaviour((*self.steps, *steps), self.read_body)


@dataclass(frozen=True)
class ReceivedRequest:
    """A request as the engine received it.

    Attributes:
        method: ``"GET"``, ``"POST"``...
        target: the request target, path and query (``"/v1.41/containers/json?all=1"``).
        headers: ``(name, value)`` pairs in arrival order, decoded as Latin-1.
        body: the de-chunked body (``b""`` when unread, see :attr:`Behaviour.read_body`).
        connection: the 1-based number of the connection it came on, in accept order.
    """

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    connection: int

    @property
    def path(self) -> str:
        """The target without its query string."""
        return self.target.partition("?")[0]

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)


Handler = Callable[[ReceivedRequest], Behaviour | Awaitable[Behaviour]]
"""Answers a request the queue did not: returns a Behaviour, or an awaitable of one."""


def _head(status: int, headers: Iterable[tuple[str, str]], reason: str | None) -> bytes:
    phrase = _REASONS.get(status, "Unknown") if reason is None else reason
    lines = [f"HTTP/1.1 {status} {phrase}".rstrip(" ")]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def respond(
    status: int = 200,
    body: bytes = b"",
    *,
    headers: Sequence[tuple[str, str]] = (),
    reason: str | None = None,
    chunked: bool = False,
    close: bool = False,
    delay: float = 0.0,
) -> Behaviour:
    """A complete answer, framed by ``Content-Length`` or (``chunked=True``) as one chunk.

    Args:
        status: the status code; 1xx, 204 and 304 answers get no framing header.
        body: the body bytes.
        headers: extra headers, sent after ``Api-Version`` and before the framing header.
        reason: the reason phrase (default: the usual one for ``status``).
        chunked: send the body with ``Transfer-Encoding: chunked``.
        close: send ``Connection: close`` and close after the answer.
        delay: seconds to wait before answering.
    """
    all_headers = [("Api-Version", "1.41"), *headers]
    bodiless = status < 200 or status in (204, 304)
    if close:
        all_headers.append(("Connection", "close"))
    if chunked and not bodiless:
        all_headers.append(("Transfer-Encoding", "chunked"))
        payload = encode_chunk(body) + b"0\r\n\r\n"
    elif not bodiless:
        all_headers.append(("Content-Length", str(len(body))))
        payload = body
    else:
        payload = b""
    steps: list[Step] = [Sleep(delay)] if delay else []
    steps.append(Send(_head(status, all_headers, reason) + payload))
    if close:
        steps.append(Close())
    return Behaviour(tuple(steps))


def respond_json(obj: Any, status: int = 200, **options: Any) -> Behaviour:
    """A JSON answer (``Content-Type: application/json``); options as for :func:`respond`."""
    headers = [("Content-Type", "application/json"), *options.pop("headers", ())]
    return respond(status, json.dumps(obj).encode(), headers=headers, **options)


def stream_chunks(
    chunks: Iterable[bytes],
    *,
    status: int = 200,
    headers: Sequence[tuple[str, str]] = (),
    interval: float = 0.0,
    final: bool = True,
) -> Behaviour:
    """A chunked answer sent one chunk at a time (a logs or events stream).

    Args:
        chunks: the body pieces; each becomes one chunk (empty ones are skipped).
        interval: seconds to wait before each chunk.
        final: end with the zero-size chunk; False leaves the stream open (append
            :class:`Close` or :class:`Stall` to decide what comes next).
    """
    steps: list[Step] = [
        Send(
            _head(
                status, [("Api-Version", "1.41"), *headers, ("Transfer-Encoding", "chunked")], None
            )
        )
    ]
    for chunk in chunks:
        if interval:
            steps.append(Sleep(interval))
        if chunk:
            steps.append(Send(encode_chunk(chunk)))
    if final:
        steps.append(Send(b"0\r\n\r\n"))
    return Behaviour(tuple(steps))


def close_mid_body(body: bytes = b"0123456789", *, sent: int = 4, status: int = 200) -> Behaviour:
    """Announce ``Content-Length: len(body)``, send ``sent`` bytes of it, then close."""
    head = _head(status, [("Content-Length", str(len(body)))], None)
    return Behaviour((Send(head + body[:sent]), Close()))


def close_without_final_chunk(chunks: Iterable[bytes] = (b"partial",)) -> Behaviour:
    """A chunked answer whose connection closes before the zero-size final chunk."""
    return stream_chunks(chunks, final=False).then(Close())


def close_without_answer() -> Behaviour:
    """Read the request, then close without a byte (a keep-alive connection gone stale)."""
    return Behaviour((Close(),))


def stall(*, read_body: bool = True) -> Behaviour:
    """Never answer; keep the connection until the client hangs up.

    With ``read_body=False`` the engine reads neither the body nor anything after it,
    so a large upload blocks the client (a write-timeout test); the connection then
    stays open until the engine stops.
    """
    return Behaviour((Stall(drain=read_body),), read_body=read_body)


def stall_mid_stream(chunks: Iterable[bytes] = (b"first",)) -> Behaviour:
    """Start a chunked answer, send ``chunks``, then go silent with the stream open."""
    return stream_chunks(chunks, final=False).then(Stall())


def malformed_status_line(line: bytes = b"HTTP/1.1 two-hundred OK") -> Behaviour:
    """Answer with a bad status line, then close."""
    return Behaviour((Send(line + b"\r\nContent-Length: 0\r\n\r\n"), Close()))


def malformed_header(line: bytes = b"this line has no colon") -> Behaviour:
    """Answer 200 with a header line that is not ``name: value``, then close."""
    return Behaviour(
        (Send(b"HTTP/1.1 200 OK\r\n" + line + b"\r\nContent-Length: 0\r\n\r\n"), Close())
    )


def bad_chunk_size(size_line: bytes = b"zz") -> Behaviour:
    """A chunked answer whose chunk-size line is not hexadecimal, then close."""
    head = _head(200, [("Transfer-Encoding", "chunked")], None)
    return Behaviour((Send(head + size_line + b"\r\nhello\r\n"), Close()))


def garbage(data: bytes = b"\x00\xffNOT HTTP AT ALL\r\n\r\n") -> Behaviour:
    """Answer with bytes that are not HTTP, then close."""
    return Behaviour((Send(data), Close()))


def slow(seconds: float, behaviour: Behaviour) -> Behaviour:
    """``behaviour`` after a pause of ``seconds``."""
    return Behaviour((Sleep(seconds), *behaviour.steps), behaviour.read_body)


def upgrade(greeting: bytes = b"", *, headers: Sequence[tuple[str, str]] = ()) -> Behaviour:
    """Answer ``101 UPGRADED`` (as Docker's attach does), send ``greeting``, then echo."""
    all_headers = [
        ("Content-Type", "application/vnd.docker.raw-stream"),
        ("Connection", "Upgrade"),
        ("Upgrade", "tcp"),
        *headers,
    ]
    return Behaviour((Send(_head(101, all_headers, "UPGRADED") + greeting), Echo()))


def _not_scripted(request: ReceivedRequest) -> Behaviour:
    message = f"FakeEngine: no behaviour scripted for {request.method} {request.target}"
    return respond_json({"message": message}, status=404)


@dataclass
class _Counters:
    accepted: int = 0
    open: int = 0
    peak: int = 0
    errors: list[HTTPProtocolError] = field(default_factory=list)


class _Peer:
    """One accepted connection, on a raw non-blocking socket.

    Raw sockets with :func:`anyio.wait_readable` rather than anyio's socket streams:
    under asyncio those can raise ``InvalidStateError`` from a reader callback when a
    receive is cancelled just as data arrives, which is exactly what stopping the
    engine does.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    async def receive(self) -> bytes:
        """The next bytes from the client; ``b""`` once it closed its side."""
        while True:
            try:
                return self.sock.recv(65536)
            except BlockingIOError:
                await anyio.wait_readable(self.sock)

    async def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[self.sock.send(view) :]
            except BlockingIOError:
                await anyio.wait_writable(self.sock)


class FakeEngine:
    """A scriptable HTTP/1.1 server on a Unix socket; use it as ``async with``.

    Args:
        path: where to create the socket (it must not exist).
        handler: answers requests once the :meth:`enqueue` queue is empty.

    Attributes:
        path: the socket path, as a string.
        requests: every request received, in arrival order.
    """

    def __init__(self, path: str | os.PathLike[str], handler: Handler | None = None) -> None:
        self.path = os.fspath(path)
        self.requests: list[ReceivedRequest] = []
        self._handler = handler or _not_scripted
        self._queue: deque[Behaviour] = deque()
        self._counters = _Counters()
        self._listener: socket.socket | None = None
        self._task_group: anyio.abc.TaskGroup | None = None

    @property
    def connections_accepted(self) -> int:
        """Connections accepted so far."""
        return self._counters.accepted

    @property
    def connections_open(self) -> int:
        """Connections currently open."""
        return self._counters.open

    @property
    def peak_connections(self) -> int:
        """The most connections that were open at once."""
        return self._counters.peak

    @property
    def protocol_errors(self) -> list[HTTPProtocolError]:
        """Malformed requests received (each was answered 400 and its connection closed)."""
        return self._counters.errors

    def enqueue(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests, one each, in arrival order."""
        self._queue.extend(behaviours)

    async def wait_connections_closed(self, timeout: float = 5.0) -> None:
        """Wait until no connection is open.

        Raises:
            TimeoutError: connections were still open after ``timeout`` seconds.
        """
        with anyio.fail_after(timeout):
            while self._counters.open:
                await anyio.sleep(0.005)

    async def __aenter__(self) -> FakeEngine:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(self.path)
            # The system's limit, as the engines listen (Go's net.Listen: somaxconn); with a
            # short backlog, httpcore under trio takes a connect to a full one as done and
            # fails its first read (EINVAL) where an engine would have queued it.
            listener.listen(socket.SOMAXCONN)
            listener.setblocking(False)
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        self._task_group.start_soon(self._accept_loop, listener)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._task_group is not None and self._listener is not None
        self._task_group.cancel_scope.cancel()
        try:
            return await self._task_group.__aexit__(exc_type, exc, tb)
        finally:
            self._listener.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    async def _accept_loop(self, listener: socket.socket) -> None:
        assert self._task_group is not None
        while True:
            try:
                sock, _ = listener.accept()
            except BlockingIOError:
                await anyio.wait_readable(listener)
                continue
            sock.setblocking(False)
            counters = self._counters
            counters.accepted += 1
            counters.open += 1
            counters.peak = max(counters.peak, counters.open)
            self._task_group.start_soon(self._serve, sock, counters.accepted)

    async def _serve(self, sock: socket.socket, number: int) -> None:
        peer = _Peer(sock)
        reader = RequestReader()
        try:
            while await self._serve_one(peer, reader, number):
                pass
        except OSError:
            pass  # the client went away
        except HTTPProtocolError as exc:
            self._counters.errors.append(exc)
            with contextlib.suppress(OSError):
                await peer.send(
                    _head(400, [("Content-Length", "0"), ("Connection", "close")], None)
                )
        finally:
            self._counters.open -= 1
            sock.close()

    async def _serve_one(self, peer: _Peer, reader: RequestReader, number: int) -> bool:
        """Answer one request; False when the connection is to be closed."""
        while (head := reader.read_head()) is None:
            data = await peer.receive()
            if not data and not reader.buffered:
                return False  # a clean hang-up between requests
            _feed(reader, data)
        behaviour = self._queue.popleft() if self._queue else None
        body = await _read_body(peer, reader) if behaviour is None or behaviour.read_body else b""
        request = ReceivedRequest(
            method=head.method.decode("latin-1"),
            target=head.target.decode("latin-1"),
            headers=tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in head.headers),
            body=body,
            connection=number,
        )
        self.requests.append(request)
        if behaviour is None:
            answer = self._handler(request)
            behaviour = await answer if inspect.isawaitable(answer) else answer
        if not await _perform(peer, reader, behaviour):
            return False
        return reader.next_message()


def _feed(reader: RequestReader, data: bytes) -> None:
    if data:
        reader.feed(data)
    else:
        reader.feed_eof()


async def _read_body(peer: _Peer, reader: RequestReader) -> bytes:
    parts: list[bytes] = []
    while True:
        data = reader.read_body()
        if data is None:
            _feed(reader, await peer.receive())
        elif data:
            parts.append(data)
        else:
            return b"".join(parts)


async def _perform(peer: _Peer, reader: RequestReader, behaviour: Behaviour) -> bool:
    """Run the steps; False if the connection was closed by one of them."""
    for step in behaviour.steps:
        if isinstance(step, Send):
            await peer.send(step.data)
        elif isinstance(step, Sleep):
            await anyio.sleep(step.seconds)
        elif isinstance(step, Close):
            return False
        elif isinstance(step, Stall):
            if not step.drain:
                await anyio.sleep_forever()
            while await peer.receive():
                pass
            return False
        else:  # Echo
            if reader.buffered:
                await peer.send(reader.leftover)
            while data := await peer.receive():
                await peer.send(data)
            return False
    return True

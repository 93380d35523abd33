"""Sessions on an upgraded connection: a process's stdin, stdout and stderr at once.

``POST /exec/{id}/start`` and ``POST /containers/{id}/attach`` sent with ``Connection:
Upgrade`` and ``Upgrade: tcp`` are answered ``101``; the connection then carries the
process's output one way (multiplexed frames without a TTY, raw bytes with one) and its
stdin the other. Half-closing the write side is the end of stdin. The transports hand the
connection over as a byte stream (see :mod:`._transports._upgrade`); the frames are decoded
by the pure decoders of :mod:`._streams`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterable, Awaitable, Callable, Generator, Mapping
from types import TracebackType
from typing import Any, Self

import anyio
import httpx
from anyio.abc import ByteStream

from ._errors import (
    DockerError,
    InvalidArgumentError,
    StreamInterruptedError,
    StreamTruncatedError,
)
from ._resource import AsyncResource
from ._session import EngineSession, QueryValue
from ._stream import sent_path
from ._streams import Frame
from ._streams._logs import LogDecoder
from ._transports import UpgradeError, upgraded_stream

__all__ = ["InteractiveSession", "PendingSession", "check_size", "feed_stdin"]

_UPGRADE_HEADERS = {"Connection": "Upgrade", "Upgrade": "tcp"}
_JSON_TYPE = "application/json"
_RECV_SIZE = 64 * 1024


class InteractiveSession(AsyncResource):
    """A running process's stdin (``send``, ``close_stdin``) and output (``async for``).

    Made by :meth:`ExecAPI.session`, :meth:`ExecAPI.start` with ``stdin=True`` and
    :meth:`ContainersAPI.attach`; use it as ``async with ... as s:``. The request is sent
    when the block is entered; leaving the block (or cancelling it) closes the connection.

    Iterating yields :class:`Frame` ``(stream, data: bytes)``: stream 1 stdout, 2 stderr;
    with a TTY the bytes are raw and all of them are stream 1. Iteration ends when the
    engine ends the stream (the process exited, stdin ended a ``StdinOnce`` attach, or the
    detach keys were sent).

    Raises (while iterating or sending):
        StreamInterruptedError: the connection broke (the engine stopped or restarted).
            An output that ends in the middle of a frame is such a break too.
        StreamDesyncError: the output is not multiplexed frames although no TTY was asked for.
    """

    def __init__(
        self,
        session: EngineSession,
        path: str,
        *,
        tty: bool | Callable[[], Awaitable[bool]],
        params: Mapping[str, QueryValue] | None = None,
        body: bytes | None = None,
        exit_code: Callable[[], Awaitable[int | None]],
        resize: Callable[[int, int], Awaitable[None]],
    ) -> None:
        self._session = session
        self._path = path
        self._params = params
        self._body = body
        #: Whether the process has a TTY (output raw); found out on opening when given as a
        #: function (an attach inspects the container).
        self.tty = tty if isinstance(tty, bool) else False
        self._probe_tty = None if isinstance(tty, bool) else tty
        self._get_exit_code = exit_code
        self._resize = resize
        self._stream: ByteStream | None = None
        self._response: httpx.Response | None = None
        self._decoder: LogDecoder[Frame] = LogDecoder(tty=self.tty)
        self._frames: deque[Frame] = deque()
        self._stdin_open = True
        self._finished = False
        self._closed = False

    @property
    def response(self) -> httpx.Response | None:
        """The engine's ``101`` response once open (its headers name the stream's format)."""
        return self._response

    async def open(self) -> None:
        """Send the upgrade request; a no-op once open.

        Raises:
            EngineError: the engine refused (404 no such exec/container, 409 not running).
            StreamInterruptedError: the engine answered without upgrading the connection.
        """
        if self._response is not None or self._closed:
            return
        if self._probe_tty is not None:
            self.tty = await self._probe_tty()
            self._decoder = LogDecoder(tty=self.tty)
            self._probe_tty = None
        response = await self._session.send(
            "POST",
            self._path,
            params=self._params,
            body=self._body,
            content_type=_JSON_TYPE if self._body is not None else None,
            headers=_UPGRADE_HEADERS,
            timeout=None,
            stream=True,
        )
        self._response = response
        self._path = sent_path(response, f"/v{await self._session.api_version()}{self._path}")
        if response.status_code != 101:
            await response.aclose()
            raise self._error(
                f"the engine answered {response.status_code} instead of 101 Switching "
                "Protocols, so stdin cannot be sent; is a proxy between us dropping "
                "`Upgrade: tcp`?"
            )
        try:
            self._stream = upgraded_stream(response)
        except UpgradeError as exc:
            await response.aclose()
            raise self._error(str(exc)) from exc

    async def _enter(self) -> None:
        await self.open()

    def _error(self, message: str) -> StreamInterruptedError:
        return StreamInterruptedError(message, method="POST", path=self._path)

    def _open_stream(self) -> ByteStream:
        if self._closed:
            raise InvalidArgumentError(
                "this session is closed (its `async with` block ended); start a new one"
            )
        if self._stream is None:
            raise InvalidArgumentError(
                "this session is not open yet: use it as `async with ... as session:`"
            )
        return self._stream

    async def send(self, data: bytes) -> None:
        """Write ``data`` to the process's stdin (all of it; waits while the engine is busy).

        Raises:
            InvalidArgumentError: ``data`` is not bytes, stdin was closed, or the session is
                not open.
            StreamInterruptedError: the connection broke (the process may have exited).
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidArgumentError(f"send() takes bytes, not {type(data).__name__}")
        stream = self._open_stream()
        if not self._stdin_open:
            raise InvalidArgumentError(
                "stdin was closed by close_stdin(); nothing more can be sent"
            )
        if not data:
            return
        try:
            await stream.send(bytes(data))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            raise self._error(f"writing to the process's stdin failed: {exc or 'closed'}") from exc

    async def close_stdin(self) -> None:
        """End the process's stdin by half-closing the connection; output keeps coming.

        For an exec the engine then closes the process's stdin; for an attach it does so only
        when the container was created with ``StdinOnce``. Safe to call more than once.

        Raises:
            StreamInterruptedError: the connection broke.
        """
        stream = self._open_stream()
        if not self._stdin_open:
            return
        self._stdin_open = False
        try:
            await stream.send_eof()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            raise self._error(f"half-closing the connection failed: {exc or 'closed'}") from exc

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Frame:
        while not self._frames:
            if self._finished:
                raise StopAsyncIteration
            await self._fill()
        return self._frames.popleft()

    async def receive_frames(self) -> list[Frame]:
        """Every frame decoded so far, reading once if none is waiting; ``[]`` at the end."""
        while not self._frames:
            if self._finished:
                return []
            await self._fill()
        frames = list(self._frames)
        self._frames.clear()
        return frames

    async def _fill(self) -> None:
        stream = self._open_stream()
        try:
            data = await stream.receive(_RECV_SIZE)
        except anyio.EndOfStream:
            self._finished = True
            try:
                frames = self._decoded(self._decoder.close)
            except StreamTruncatedError as exc:
                raise self._error(
                    f"the connection ended in the middle of a frame ({exc}); the engine may "
                    "have stopped or restarted"
                ) from exc
        except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            self._finished = True
            raise self._error(
                f"the session's connection broke before the stream ended ({exc or 'closed'}); "
                "the engine may have stopped or restarted"
            ) from exc
        else:
            frames = self._decoded(lambda: self._decoder.feed(data))
        self._frames.extend(frames)

    def _decoded(self, decode: Callable[[], list[Frame]]) -> list[Frame]:
        try:
            return decode()
        except DockerError as exc:
            self._finished = True
            if exc.method is None:
                exc.method, exc.path = "POST", self._path
            raise

    async def output(self) -> tuple[bytes, bytes]:
        """Read the rest of the output: ``(stdout, stderr)`` joined."""
        out: list[bytes] = []
        err: list[bytes] = []
        async for frame in self:
            (err if frame.stream == 2 else out).append(frame.data)
        return b"".join(out), b"".join(err)

    async def exit_code(self) -> int | None:
        """The process's exit status, once it has exited (reads the output to its end first).

        For an exec: ``GET /exec/{id}/json``; for an attach: ``POST /containers/{id}/wait``
        (so it waits for the container to stop; after a detach, it waits on).
        """
        while not self._finished:
            await self._fill()
        self._frames.clear()
        return await self._get_exit_code()

    async def resize(self, height: int, width: int) -> None:
        """Set the TTY's size in character cells (``POST /exec/{id}/resize`` or
        ``POST /containers/{id}/resize``, ``h`` and ``w``; API 1.0+).

        Raises:
            InvalidArgumentError: a size is not a positive whole number.
            EngineError: the engine refused (Docker: no TTY, or not running).
        """
        await self._resize(height, width)

    async def aclose(self) -> None:
        """Close the connection; safe to call more than once and under cancellation."""
        self._closed = True
        self._finished = True
        stream, self._stream = self._stream, None
        response, self._response = self._response, None
        with anyio.CancelScope(shield=True):
            if stream is not None:
                await stream.aclose()
            if response is not None:
                await response.aclose()


def check_size(height: int, width: int) -> dict[str, QueryValue]:
    """The ``h`` and ``w`` query of a resize.

    Raises:
        InvalidArgumentError: a size is not a whole number from 1 to 65535.
    """
    for what, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 0xFFFF:
            raise InvalidArgumentError(
                f"{what} must be a whole number of character cells from 1 to 65535, not {value!r}"
            )
    return {"h": height, "w": width}


async def feed_stdin(
    session: InteractiveSession, data: bytes | AsyncIterable[bytes], *, close: bool = True
) -> None:
    """Send ``data`` (bytes, or the pieces of an async iterable) to ``session``'s stdin,
    then close stdin when ``close``.

    Raises:
        InvalidArgumentError: ``data`` (or a piece of it) is not bytes.
        StreamInterruptedError: as :meth:`InteractiveSession.send`.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        await session.send(bytes(data))
    elif isinstance(data, AsyncIterable):
        async for piece in data:
            await session.send(piece)
    else:
        raise InvalidArgumentError(
            f"input must be bytes or an async iterable of bytes, not {type(data).__name__}"
        )
    if close:
        await session.close_stdin()


class PendingSession:
    """An :class:`InteractiveSession` whose request still has to be prepared (an exec to
    create first): made by :meth:`ExecAPI.session`.

    ``async with docker.exec.session(c, ["cat"]) as s:`` prepares, then opens the session
    and closes it on leaving; ``session = await docker.exec.session(...)`` gives the
    session itself, not yet open, for a caller that manages it.

    Raises (on entering or awaiting): what the preparation raises (``ExecAPI.create``'s
    errors), then what :meth:`InteractiveSession.open` raises.
    """

    __slots__ = ("_prepare", "_session")

    def __init__(self, prepare: Callable[[], Awaitable[InteractiveSession]]) -> None:
        self._prepare = prepare
        self._session: InteractiveSession | None = None

    def __await__(self) -> Generator[Any, None, InteractiveSession]:
        return self._prepare().__await__()

    async def __aenter__(self) -> InteractiveSession:
        self._session = await self._prepare()
        return await self._session.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.__aexit__(exc_type, exc, tb)

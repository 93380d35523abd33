"""Upgraded connections (``101 Switching Protocols``) on tape: both directions, in order.

Recording wraps the real connection's byte stream and notes every step as it happens (what
the client sent, what the engine sent, the client's half-close) and how the connection ended.
Replaying plays the engine's bytes back in order, each only once the client has sent what had
been sent before it in the recording, and checks that what the client sends is what was
recorded (so a changed stdin is a clear error, not a silent pass).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Final

import anyio
import anyio.lowlevel
from anyio.abc import ByteStream

from ._cassette import Body, Failure, SessionEvent, StreamEnd
from ._errors import CassetteError
from ._redaction import Redactor

__all__ = ["RecordingSession", "ReplaySession", "SessionTape"]

_RECV_SIZE: Final = 64 * 1024
#: A ``send`` step larger than this keeps only its length and sha256: stdin fed in bulk (a
#: dump, an archive) is matched, not stored; what the engine sends back is always kept.
SEND_DIGEST_LIMIT: Final = 4 * 1024


class SessionTape:
    """What a recording session collects: its steps, how it ended, and the failure if any."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.steps: list[tuple[str, float, bytes | None, bool]] = []
        self.end: StreamEnd | None = None
        self.error: BaseException | None = None

    def note(self, op: str, data: bytes | None = None, *, failed: bool = False) -> None:
        self.steps.append((op, time.perf_counter() - self.started, data, failed))

    def finish(self, end: StreamEnd, exc: BaseException | None = None) -> None:
        if self.end is None:
            self.end, self.error = end, exc

    def events(self, redactor: Redactor) -> list[SessionEvent]:
        """The steps as cassette events, secrets masked (same-length masks, so each step
        keeps its size)."""
        events = []
        for op, t, data, failed in self.steps:
            body = None
            if data is not None:
                if op == "send" and len(data) > SEND_DIGEST_LIMIT:
                    body = Body.digest_of(data)
                else:
                    body = Body.from_bytes(redactor.mask(data))
            events.append(SessionEvent(op=op, t=round(t, 3), data=body, failed=failed))  # type: ignore[arg-type]
        return events


class RecordingSession(ByteStream):
    """The real upgraded stream, with every step noted on ``tape``."""

    def __init__(self, inner: ByteStream, tape: SessionTape) -> None:
        self._inner = inner
        self._tape = tape

    @property
    def extra_attributes(self) -> Any:
        return self._inner.extra_attributes

    async def receive(self, max_bytes: int = _RECV_SIZE) -> bytes:
        try:
            data = await self._inner.receive(max_bytes)
        except anyio.EndOfStream:
            self._tape.finish("complete")
            raise
        except (anyio.BrokenResourceError, OSError) as exc:
            self._tape.finish("error", exc)
            raise
        self._tape.note("receive", data)
        return data

    async def send(self, item: bytes) -> None:
        try:
            await self._inner.send(item)
        except anyio.BrokenResourceError:
            self._tape.note("send", bytes(item), failed=True)
            raise
        self._tape.note("send", bytes(item))

    async def send_eof(self) -> None:
        await self._inner.send_eof()
        self._tape.note("send_eof")

    async def aclose(self) -> None:
        self._tape.finish("closed")
        await self._inner.aclose()


class ReplaySession(ByteStream):
    """Plays a recorded upgraded connection: the engine's side from the tape, the client's
    side checked against it.

    Each ``receive`` step waits until the client has sent everything recorded before it (and
    half-closed, if it had); at the end of the steps the connection ends as recorded:
    ``complete`` (end of stream), ``error`` (a broken connection), ``closed`` (the recording
    client closed first: nothing more comes until the caller closes or cancels).

    Raises (from ``send``/``send_eof``):
        CassetteError: the client sent other bytes than recorded, more than recorded, or
            half-closed at another point.
    """

    def __init__(
        self,
        events: list[SessionEvent],
        *,
        end: StreamEnd,
        error: Failure | None,
        redactor: Redactor,
        pace: float | None,
        where: str,
    ) -> None:
        self._events = events
        self._end = end
        self._error = error
        self._redactor = redactor
        self._pace = pace
        self._where = where
        self._next_send = 0  # index of the next send/send_eof step the client must match
        self._next_receive = 0
        self._pending = b""  # what the client sent beyond the last matched send step
        self._leftover = b""  # a received step's bytes not yet taken by receive()
        self._progress: anyio.Event | None = None
        self._started: float | None = None
        self._closed = False

    @property
    def extra_attributes(self) -> Any:
        return {}

    # -- the engine's side --------------------------------------------------------------

    async def receive(self, max_bytes: int = _RECV_SIZE) -> bytes:
        self._check_open()
        if self._started is None:
            self._started = anyio.current_time()
        if not self._leftover:
            self._leftover = await self._next_received()
        data, self._leftover = self._leftover[:max_bytes], self._leftover[max_bytes:]
        return data

    async def _next_received(self) -> bytes:
        index = self._find("receive", self._next_receive)
        if index is None:
            await self._end_of_tape()
        assert index is not None
        while self._sends_before(index):
            await self._wait_for_client()
        event = self._events[index]
        await self._pace_to(event.t or 0.0)
        self._next_receive = index + 1  # taken only now: a cancelled wait loses nothing
        assert event.data is not None
        return self._redactor.restore(event.data.to_bytes())

    async def _end_of_tape(self) -> None:
        if self._end == "complete":
            await anyio.lowlevel.checkpoint()
            raise anyio.EndOfStream
        if self._end == "error":
            await anyio.lowlevel.checkpoint()
            message = self._error.message if self._error is not None else "broken"
            raise anyio.BrokenResourceError(message)
        await anyio.sleep_forever()  # the recording client closed first; so will this one

    def _sends_before(self, index: int) -> bool:
        """Whether a send step recorded before step ``index`` is not matched yet."""
        return self._find_send(self._next_send, index) is not None

    async def _pace_to(self, offset: float) -> None:
        if self._pace is None or self._started is None:
            await anyio.lowlevel.checkpoint()
            return
        await anyio.sleep(max(self._started + offset * self._pace - anyio.current_time(), 0.0))

    # -- the client's side --------------------------------------------------------------

    async def send(self, item: bytes) -> None:
        self._check_open()
        await anyio.lowlevel.checkpoint()
        self._pending += bytes(item)
        while self._pending:
            index = self._find_send(self._next_send)
            if index is None or self._events[index].op != "send":
                raise self._mismatch(f"sent {len(self._pending)} byte(s) more than recorded")
            event = self._events[index]
            assert event.data is not None
            size = _size(event.data)
            if len(self._pending) < size:
                return  # the rest of this step comes in a later send
            piece, self._pending = self._pending[:size], self._pending[size:]
            if not self._matches(event.data, piece):
                raise self._mismatch(f"sent other bytes than recorded at step #{index}")
            self._next_send = index + 1
            self._wake()
            if event.failed:
                raise anyio.BrokenResourceError("the recorded write failed here")

    async def send_eof(self) -> None:
        self._check_open()
        await anyio.lowlevel.checkpoint()
        index = self._find_send(self._next_send)
        if self._pending or index is None or self._events[index].op != "send_eof":
            raise self._mismatch("half-closed (end of stdin) where the recording did not")
        self._next_send = index + 1
        self._wake()

    def _matches(self, recorded: Body, data: bytes) -> bool:
        if recorded.is_digest:
            return hashlib.sha256(data).hexdigest() == recorded.sha256
        return self._redactor.mask(data) == recorded.to_bytes()

    def _mismatch(self, what: str) -> CassetteError:
        return CassetteError(
            f"{self._where}: the client {what}; the code under test changed? re-record the cassette"
        )

    # -- both -----------------------------------------------------------------------------

    def _find(self, op: str, start: int) -> int | None:
        return next((i for i in range(start, len(self._events)) if self._events[i].op == op), None)

    def _find_send(self, start: int, stop: int | None = None) -> int | None:
        end = len(self._events) if stop is None else stop
        return next((i for i in range(start, end) if self._events[i].op != "receive"), None)

    async def _wait_for_client(self) -> None:
        if self._progress is None:
            self._progress = anyio.Event()
        await self._progress.wait()
        self._check_open()

    def _wake(self) -> None:
        progress, self._progress = self._progress, None
        if progress is not None:
            progress.set()

    def _check_open(self) -> None:
        if self._closed:
            raise anyio.ClosedResourceError

    async def aclose(self) -> None:
        self._closed = True
        self._wake()
        await anyio.lowlevel.checkpoint()


def _size(body: Body) -> int:
    return body.length if body.length is not None else len(body.to_bytes())

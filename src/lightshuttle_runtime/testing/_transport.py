"""CassetteTransport: records exchanges through a real transport, or replays them offline."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final, Literal, get_args

import anyio
import anyio.lowlevel
import httpx

from .._transports import UpgradeError, upgraded_stream
from ._cassette import (
    BINARY_BODY_LIMIT,
    OPAQUE_CONTENT_TYPES,
    Body,
    Cassette,
    Chunk,
    Failure,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    StreamEnd,
    load_cassette,
    save_cassette,
)
from ._errors import (
    CassetteError,
    CassetteNotFoundError,
    UnmatchedRequestError,
    UnplayedInteractionsError,
)
from ._matching import Player, RequestKey, request_key
from ._redaction import Redactor
from ._upgraded import RecordingSession, ReplaySession, SessionTape

__all__ = ["RECORD_MODES", "CassetteTransport", "RecordMode", "TransportSource"]

#: ``none``: replay only, an unknown request is an error; ``once``: record when the file is
#: missing, else replay only; ``new_episodes``: replay what is known, record the rest;
#: ``all``: record everything, replacing the file.
RecordMode = Literal["none", "once", "new_episodes", "all"]
RECORD_MODES: Final[tuple[str, ...]] = get_args(RecordMode)

#: The real transport to record through, or a function that makes it when first needed.
TransportSource = httpx.AsyncBaseTransport | Callable[[], httpx.AsyncBaseTransport]

#: Response headers not recorded: they change on every run and nothing reads them (Podman's
#: ``X-Reference-Id`` is a per-request memory address).
_VOLATILE_HEADERS: Final = frozenset({"date", "x-reference-id"})


class CassetteTransport(httpx.AsyncBaseTransport):
    """An httpx transport that replays recorded exchanges, or records them from a real one.

    Give it to the client: ``DockerClient(transport=CassetteTransport(path, ...))``. Replaying
    never opens a socket. Recording tees every response body: each chunk reaches the caller as
    it arrives and is kept with its time offset, so endless streams (``logs(follow=True)``,
    ``/events``) record fine; how each body ended is kept too.

    Args:
        path: the cassette file (JSON).
        record_mode: ``none`` (default: replay only), ``once``, ``new_episodes`` or ``all``;
            see :data:`RecordMode`.
        transport: the real transport to record through, or a zero-argument function making
            it (called on the first request that is recorded). Needed only when recording.
        redactor: what to redact (default: a fresh :class:`Redactor`).
        pace: replay chunks at their recorded times multiplied by ``pace`` (``1.0``: real time,
            ``0.1``: ten times faster); ``None`` (default): as fast as they are read.
        rechunk: re-split every replayed body into pieces of this many bytes (``1`` proves a
            decoder never depends on chunk boundaries); ``None`` keeps the recorded chunks.
        repeat_reads: once the recorded answers to a ``GET``/``HEAD`` are used up, keep
            replaying the last one (polling loops may poll more often than when recorded).
        save_on_close: write the cassette in :meth:`aclose` when recording.

    Attributes:
        recording: whether unknown requests are recorded (``all``, ``new_episodes``, or
            ``once`` with no file yet); otherwise they raise :class:`UnmatchedRequestError`.

    Raises:
        CassetteNotFoundError: ``record_mode="none"`` and the file does not exist.
        CassetteFormatError: the file exists but is not a valid cassette.
        CassetteError: a bad ``record_mode``, ``pace`` or ``rechunk``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        record_mode: RecordMode = "none",
        transport: TransportSource | None = None,
        redactor: Redactor | None = None,
        pace: float | None = None,
        rechunk: int | None = None,
        repeat_reads: bool = True,
        save_on_close: bool = True,
    ) -> None:
        _check_options(record_mode, pace, rechunk)
        self.path = Path(path)
        self.record_mode: RecordMode = record_mode
        self.redactor = redactor if redactor is not None else Redactor()
        self.pace = pace
        self.rechunk = rechunk
        self.save_on_close = save_on_close
        exists = self.path.exists()
        if record_mode == "none" and not exists:
            raise CassetteNotFoundError(
                f"cassette file {self.path} does not exist; record it first (record_mode='once', "
                "or pytest --docker-record-mode=once)",
                path=str(self.path),
            )
        self._old: list[Interaction] = []
        if exists and record_mode != "all":
            self._old = list(load_cassette(self.path).interactions)
        self.recording = record_mode in ("all", "new_episodes") or (
            record_mode == "once" and not exists
        )
        self._player = Player(self._old, repeat_reads=repeat_reads)
        self._new: list[_Recording] = []
        self._source = transport
        self._real: httpx.AsyncBaseTransport | None = None
        self._closed = False

    # -- the transport -----------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` from the cassette, or record the real answer.

        Raises:
            UnmatchedRequestError: replaying, and no recorded answer is left for it.
            httpx.TransportError: the recorded (or real) exchange failed that way.
        """
        live = await self._redacted_request(request)
        key = request_key(live)
        interaction = self._player.take(key, allow_repeat=not self.recording)
        if interaction is not None:
            return self._replay(interaction, request)
        if not self.recording:
            raise self._unmatched(live, key)
        return await self._record(request, live)

    async def aclose(self) -> None:
        """Save the cassette (when recording and ``save_on_close``) and close the real
        transport. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.save_on_close:
                self.save()
        finally:
            if self._real is not None:
                await self._real.aclose()

    # -- the cassette ------------------------------------------------------------------------

    @property
    def interactions(self) -> list[Interaction]:
        """The interactions :meth:`save` would write (recorded so far, redacted)."""
        if not self.recording:
            return list(self._old)
        kept = self._old if self.record_mode == "new_episodes" else []
        return kept + [recording.interaction() for recording in self._new]

    def save(self) -> bool:
        """Write the cassette file when recording; returns whether it was written.

        Streams still open are written as closed by the client (``end: "closed"``).
        """
        if not self.recording:
            return False
        save_cassette(Cassette(interactions=self.interactions), self.path)
        return True

    def add_secret(self, value: str) -> None:
        """Mask ``value`` wherever it appears (see :meth:`Redactor.add_secret`). Register it
        before the requests that carry it, both when recording and when replaying."""
        self.redactor.add_secret(value)

    def unplayed(self) -> list[str]:
        """The recorded requests never replayed, as ``"#3 POST /v1.41/containers/create"``."""
        return [f"#{index} {i.request.describe()}" for index, i in self._player.unplayed()]

    def assert_all_played(self) -> None:
        """Raise when recorded interactions were never replayed.

        Raises:
            UnplayedInteractionsError: lists them.
        """
        unplayed = self.unplayed()
        if unplayed:
            shown = "\n  ".join(unplayed[:20]) + ("\n  ..." if len(unplayed) > 20 else "")
            raise UnplayedInteractionsError(
                f"{len(unplayed)} recorded interaction(s) of {self.path} were never requested "
                f"(the code under test changed? re-record the cassette):\n  {shown}",
                unplayed=unplayed,
                path=str(self.path),
            )

    # -- internals ---------------------------------------------------------------------------

    async def _redacted_request(self, request: httpx.Request) -> RecordedRequest:
        data = await _read_body(request)
        redactor = self.redactor
        content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        body: Body | None = None
        if len(data) > BINARY_BODY_LIMIT or (data and content_type in OPAQUE_CONTENT_TYPES):
            body = Body.digest_of(data)
        elif data:
            # The body first: the Env values it carries are masked in the path and query too.
            body = Body.from_bytes(redactor.request_body(request.url.path, data))
        path = redactor.text(request.url.path)
        return RecordedRequest(
            method=request.method,
            path=path,
            query=[
                (redactor.text(k), redactor.text(v)) for k, v in request.url.params.multi_items()
            ],
            headers=redactor.headers(_header_pairs(request.headers)),
            body=body,
        )

    def _replay(self, interaction: Interaction, request: httpx.Request) -> httpx.Response:
        if interaction.response is None:
            assert interaction.error is not None
            raise failure_exception(interaction.error, request)
        recorded = interaction.response
        if recorded.session is not None:
            return self._replay_upgraded(recorded, request)
        chunks = self._restored(recorded.chunks)
        headers = recorded.headers
        if recorded.end == "complete":
            headers = _with_length(headers, sum(len(data) for _, data in chunks))
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1"}
        if recorded.reason:
            extensions["reason_phrase"] = recorded.reason.encode("latin-1", "replace")
        stream = _ReplayStream(
            _rechunked(chunks, self.rechunk),
            end=recorded.end,
            error=recorded.error,
            pace=self.pace,
            request=request,
        )
        return httpx.Response(
            recorded.status, headers=headers, stream=stream, extensions=extensions
        )

    def _replay_upgraded(
        self, recorded: RecordedResponse, request: httpx.Request
    ) -> httpx.Response:
        session = ReplaySession(
            list(recorded.session or ()),
            end=recorded.end,
            error=recorded.error,
            redactor=self.redactor,
            pace=self.pace,
            where=f"{request.method} {request.url.path} (upgraded, cassette {self.path})",
        )
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1", "network_stream": session}
        if recorded.reason:
            extensions["reason_phrase"] = recorded.reason.encode("latin-1", "replace")
        return httpx.Response(recorded.status, headers=recorded.headers, extensions=extensions)

    def _restored(self, chunks: Sequence[Chunk]) -> list[tuple[float, bytes]]:
        pieces = [(chunk.t or 0.0, chunk.to_bytes()) for chunk in chunks]
        body = b"".join(data for _, data in pieces)
        restored = self.redactor.restore(body)
        if restored == body:
            return pieces
        return _resplit(pieces, restored)

    async def _record(self, request: httpx.Request, live: RecordedRequest) -> httpx.Response:
        real = self._real_transport()
        recording = _Recording(live, self.redactor)
        self._new.append(recording)
        try:
            response = await real.handle_async_request(request)
        except httpx.TransportError as exc:
            recording.fail(exc)
            raise
        except BaseException:
            self._new.remove(recording)  # cancelled before any answer: nothing to replay
            raise
        stream = response.stream
        if response.status_code == 101:
            return await self._record_upgraded(response, recording, live)
        if not isinstance(stream, httpx.AsyncByteStream):
            await response.aclose()
            self._new.remove(recording)
            raise CassetteError(
                f"{live.describe()}: the transport's response has no async body stream",
                path=str(self.path),
            )
        recording.respond(response)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_TeeStream(stream, recording),
            extensions=response.extensions,
        )

    async def _record_upgraded(
        self, response: httpx.Response, recording: _Recording, live: RecordedRequest
    ) -> httpx.Response:
        try:
            inner = upgraded_stream(response)
        except UpgradeError as exc:
            await response.aclose()
            self._new.remove(recording)
            raise CassetteError(f"{live.describe()}: {exc}", path=str(self.path)) from exc
        recording.respond(response)
        recording.tape = SessionTape()
        extensions = {
            **response.extensions,
            "network_stream": RecordingSession(inner, recording.tape),
        }
        stream = response.stream
        return httpx.Response(
            101,
            headers=response.headers,
            stream=stream if isinstance(stream, httpx.AsyncByteStream) else None,
            extensions=extensions,
        )

    def _real_transport(self) -> httpx.AsyncBaseTransport:
        if self._real is None:
            source = self._source
            if source is None:
                raise CassetteError(
                    f"recording (record_mode={self.record_mode!r}) needs the real transport: "
                    "pass transport=...",
                    path=str(self.path),
                )
            self._real = source if isinstance(source, httpx.AsyncBaseTransport) else source()
        return self._real

    def _unmatched(self, live: RecordedRequest, key: RequestKey) -> UnmatchedRequestError:
        reason, nearest = self._player.explain(key)
        lines = [f"{live.describe()}: {reason}."]
        if nearest:
            lines.append("Nearest recorded requests:")
            lines.extend(f"  {line}" for line in nearest)
        lines.append(
            f"Cassette {self.path} (record_mode={self.record_mode!r}); to record new requests "
            "use record_mode='new_episodes' (pytest --docker-record-mode=new_episodes)."
        )
        return UnmatchedRequestError(
            "\n".join(lines), request=live.describe(), nearest=nearest, path=str(self.path)
        )


class _Recording:
    """One exchange being recorded; turned into an :class:`Interaction` (redacted) on demand."""

    def __init__(self, request: RecordedRequest, redactor: Redactor) -> None:
        self.request = request
        self.redactor = redactor
        self.status = 0
        self.reason = ""
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[tuple[float, bytes]] = []
        self.end: StreamEnd | None = None
        self.failure: Failure | None = None
        self.started = 0.0
        self.tape: SessionTape | None = None

    def respond(self, response: httpx.Response) -> None:
        self.started = time.perf_counter()
        self.status = response.status_code
        reason = response.extensions.get("reason_phrase", b"")
        self.reason = reason.decode("latin-1") if isinstance(reason, bytes) else str(reason)
        self.headers = [
            (name, value)
            for name, value in _header_pairs(response.headers)
            if name.lower() not in _VOLATILE_HEADERS
        ]

    def add(self, data: bytes) -> None:
        if data:
            self.chunks.append((time.perf_counter() - self.started, data))

    def finish(self, end: StreamEnd, exc: BaseException | None = None) -> None:
        """Note how the body ended; the first call wins."""
        if self.end is None:
            self.end = end
            if exc is not None:
                self.failure = self._failure(exc)

    def fail(self, exc: BaseException) -> None:
        """The exchange failed before any response."""
        self.failure = self._failure(exc)

    def interaction(self) -> Interaction:
        if self.status == 0:
            assert self.failure is not None
            return Interaction(request=self.request, error=self.failure)
        if self.tape is not None:
            return self._upgraded_interaction(self.tape)
        end = self.end or "closed"
        body = b"".join(data for _, data in self.chunks)
        redacted = self.redactor.response_body(self.request.path, body)
        pieces = self.chunks if redacted == body else _resplit(self.chunks, redacted)
        headers = self.redactor.headers(self.headers)
        if redacted != body and end == "complete":
            headers = _with_length(headers, len(redacted))
        return Interaction(
            request=self.request,
            response=RecordedResponse(
                status=self.status,
                reason=self.reason,
                headers=headers,
                chunks=[Chunk.from_bytes(data, t) for t, data in pieces],
                end=end,
                error=self.failure if end == "error" else None,
            ),
        )

    def _upgraded_interaction(self, tape: SessionTape) -> Interaction:
        end = tape.end or "closed"
        return Interaction(
            request=self.request,
            response=RecordedResponse(
                status=self.status,
                reason=self.reason,
                headers=self.redactor.headers(self.headers),
                session=tape.events(self.redactor),
                end=end,
                error=self._failure(tape.error) if end == "error" and tape.error else None,
            ),
        )

    def _failure(self, exc: BaseException) -> Failure:
        return Failure(exception=type(exc).__name__, message=self.redactor.text(str(exc)))


class _TeeStream(httpx.AsyncByteStream):
    """Hands each chunk of the real body to the caller as it arrives, and records it."""

    def __init__(self, inner: httpx.AsyncByteStream, recording: _Recording) -> None:
        self._inner = inner
        self._iterator: Any = None
        self._recording = recording

    def __aiter__(self) -> _TeeStream:
        return self

    async def __anext__(self) -> bytes:
        if self._iterator is None:
            self._iterator = self._inner.__aiter__()
        try:
            data: bytes = await self._iterator.__anext__()
        except StopAsyncIteration:
            self._recording.finish("complete")
            raise
        except Exception as exc:
            self._recording.finish("error", exc)
            raise
        self._recording.add(data)
        return data

    async def aclose(self) -> None:
        self._recording.finish("closed")
        iterator, self._iterator = self._iterator, None
        try:
            # An async generator left suspended would be finalized later by the GC, in
            # whatever task runs then; close it now.
            if iterator is not None and hasattr(iterator, "aclose"):
                with contextlib.suppress(RuntimeError):  # being iterated by another task
                    await iterator.aclose()
        finally:
            await self._inner.aclose()


class _ReplayStream(httpx.AsyncByteStream):
    """Plays recorded chunks back, then ends the way the recorded body ended."""

    def __init__(
        self,
        chunks: list[tuple[float, bytes]],
        *,
        end: StreamEnd,
        error: Failure | None,
        pace: float | None,
        request: httpx.Request,
    ) -> None:
        self._chunks = chunks
        self._end = end
        self._error = error
        self._pace = pace
        self._request = request
        self._next = 0
        self._started: float | None = None
        self._closed = False

    def __aiter__(self) -> _ReplayStream:
        return self

    async def __anext__(self) -> bytes:
        if self._closed:
            raise StopAsyncIteration
        if self._started is None:
            self._started = anyio.current_time()
        if self._next < len(self._chunks):
            offset, data = self._chunks[self._next]
            self._next += 1
            if self._pace is None:
                await anyio.lowlevel.checkpoint()
            else:
                delay = self._started + offset * self._pace - anyio.current_time()
                await anyio.sleep(max(delay, 0.0))
            return data
        self._closed = True
        if self._end == "error":
            assert self._error is not None
            raise failure_exception(self._error, self._request)
        if self._end == "closed":
            await self._wait_like_live()
        raise StopAsyncIteration

    async def _wait_like_live(self) -> None:
        """The recorded client stopped reading here: the body goes on without new data, until
        the caller closes or cancels, or its read timeout passes (as a live engine's would)."""
        timeout = self._request.extensions.get("timeout", {}).get("read")
        if timeout is None:
            await anyio.sleep_forever()
        await anyio.sleep(timeout)
        raise httpx.ReadTimeout(
            f"no data for {timeout} s (replayed stream recorded as closed by the client)",
            request=self._request,
        )

    async def aclose(self) -> None:
        self._closed = True


async def _read_body(request: httpx.Request) -> bytes:
    """The request's body, read so that it can still be sent: a streamed body is replaced by
    a stream of the same chunks (not by bytes: it keeps its ``Transfer-Encoding: chunked``)."""
    try:
        return request.content
    except httpx.RequestNotRead:
        pass
    stream = request.stream
    if not isinstance(stream, AsyncIterable):
        return await request.aread()
    chunks = [bytes(chunk) async for chunk in stream]
    request.stream = _BufferedBody(chunks)
    return b"".join(chunks)


class _BufferedBody(httpx.AsyncByteStream):
    """A streamed request body read once for matching, sent on in the same chunks."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _ChunkIterator(self._chunks)


class _ChunkIterator:
    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = iter(chunks)

    def __aiter__(self) -> _ChunkIterator:
        return self

    async def __anext__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None


def failure_exception(failure: Failure, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception a recorded failure stands for (``ReadError`` when unknown)."""
    cls = getattr(httpx, failure.exception, None)
    if not (isinstance(cls, type) and issubclass(cls, httpx.TransportError)):
        cls = httpx.ReadError
    return cls(failure.message or failure.exception, request=request)


def _check_options(record_mode: str, pace: float | None, rechunk: int | None) -> None:
    if record_mode not in RECORD_MODES:
        raise CassetteError(
            f"record_mode must be one of {', '.join(RECORD_MODES)}: {record_mode!r}"
        )
    if pace is not None and not pace >= 0:
        raise CassetteError(f"pace must be None or a number >= 0, got {pace!r}")
    if rechunk is not None and (isinstance(rechunk, bool) or rechunk < 1):
        raise CassetteError(f"rechunk must be None or a whole number >= 1, got {rechunk!r}")


def _header_pairs(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers.raw]


def _with_length(headers: list[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    return [
        (name, str(length) if name.lower() == "content-length" else value)
        for name, value in headers
    ]


def _resplit(pieces: Sequence[tuple[float, bytes]], body: bytes) -> list[tuple[float, bytes]]:
    """``body`` cut where ``pieces`` were cut when its length is unchanged; otherwise one piece
    at the time of the last one (a re-encoded JSON document)."""
    if len(body) != sum(len(data) for _, data in pieces):
        last = pieces[-1][0] if pieces else 0.0
        return [(last, body)] if body else []
    out: list[tuple[float, bytes]] = []
    position = 0
    for offset, data in pieces:
        out.append((offset, body[position : position + len(data)]))
        position += len(data)
    return out


def _rechunked(
    pieces: Iterable[tuple[float, bytes]], size: int | None
) -> list[tuple[float, bytes]]:
    if size is None:
        return list(pieces)
    return [
        (offset, data[start : start + size])
        for offset, data in pieces
        for start in range(0, len(data), size)
    ]

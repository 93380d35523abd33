"""Streams that own their connection.

An :class:`EngineStream` sends its request when it is entered (or first iterated),
runs every body chunk through a pure decoder, and yields the decoded items. Leaving
the ``async with`` block, breaking out of it, or cancelling it closes the connection.
"""

from __future__ import annotations

from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
)
from typing import Generic, Self, TypeVar, cast

import anyio
import httpx

from ._errors import DecodeError, DockerError
from ._resource import AsyncResource
from ._session import EngineSession, QueryValue, translate_transport_error
from ._streams._base import Decoder

__all__ = ["EngineStream", "open_stream", "sent_path"]

T = TypeVar("T")


class EngineStream(AsyncResource, Generic[T]):
    """An async iterator of decoded items that holds one engine connection.

    Use it as ``async with stream: async for item in stream: ...``. Iterating without
    ``async with`` also works; the connection then closes when the body ends or an error
    is raised, so prefer ``async with`` when you may stop early.

    Raises (while iterating):
        StreamError: the engine reported an error inside the stream.
        StreamInterruptedError: the connection broke before the body ended (everything
            received before the break has been yielded first).
        StreamTruncatedError: the body ended in the middle of an item.
    """

    def __init__(
        self,
        session: EngineSession,
        method: str,
        path: str,
        open_response: Callable[[], Awaitable[httpx.Response]],
        decoder_for: Callable[[httpx.Response], Decoder[T]],
        check: Callable[[T], None] | None = None,
    ) -> None:
        self._session = session
        self._method = method
        self._path = path
        self._endpoint = path  # without the /vX.Y prefix that open() adds to _path
        self._open_response = open_response
        self._decoder_for = decoder_for
        self._check = check
        self._response: httpx.Response | None = None
        self._decoder: Decoder[T] | None = None
        self._iterator: AsyncIterator[bytes] | None = None
        self._items: deque[T] = deque()
        self._finished = False

    @property
    def response(self) -> httpx.Response | None:
        """The HTTP response once the stream is open (status and headers)."""
        return self._response

    async def open(self) -> None:
        """Send the request and check its status; a no-op once open.

        Raises:
            EngineError: the engine answered with an error status before the stream.
        """
        if self._response is None and not self._finished:
            self._response = await self._open_response()
            self._path = sent_path(self._response, self._path)
            self._decoder = self._decoder_for(self._response)
            # The transport's byte stream itself, not ``aiter_raw()``: an async generator left
            # suspended by a bare ``break`` would be finalized by the GC (a ResourceWarning
            # under trio) and would keep the connection until then.
            self._iterator = aiter(cast(AsyncIterable[bytes], self._response.stream))

    async def _enter(self) -> None:
        await self.open()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        while not self._items:
            if self._finished:
                raise StopAsyncIteration
            try:
                await self._fill()
            except BaseException:
                await self.aclose()
                raise
        item = self._items.popleft()
        if self._check is not None:
            # Items before an in-band error have been handed out; the error comes in its place.
            try:
                self._check(item)
            except DockerError as exc:
                self._add_context(exc)
                await self.aclose()
                raise
        return item

    @property
    def buffered(self) -> bool:
        """Whether decoded items are waiting (the next read needs no I/O)."""
        return bool(self._items)

    async def next_batch(self) -> list[T]:
        """Every item decoded so far, reading once if none is waiting; ``[]`` at the end.

        The same items, errors and closing as :meth:`__anext__`, handed out a read at a
        time rather than one by one (an in-band error comes after the items before it).
        """
        if self._check is not None:
            try:
                return [await self.__anext__()]
            except StopAsyncIteration:
                return []
        while not self._items:
            if self._finished:
                return []
            try:
                await self._fill()
            except BaseException:
                await self.aclose()
                raise
        items = list(self._items)
        self._items.clear()
        return items

    async def _fill(self) -> None:
        await self.open()
        decoder, iterator = self._decoder, self._iterator
        assert decoder is not None and iterator is not None
        try:
            chunk = await iterator.__anext__()
        except StopAsyncIteration:
            self._finished = True
            await self.aclose()
            chunk = None
        except Exception as exc:
            error = translate_transport_error(
                exc, self._session, self._method, self._path, None, streaming=True
            )
            if error is None:
                raise
            raise error from exc
        try:
            self._items.extend(decoder.close() if chunk is None else decoder.feed(chunk))
        except DockerError as exc:
            self._add_context(exc)
            raise

    def _add_context(self, exc: DockerError) -> None:
        if exc.method is None:
            exc.method, exc.path = self._method, self._path
        if isinstance(exc, DecodeError) and exc.endpoint is None:
            exc.endpoint = f"{self._method} {self._endpoint}"  # as request_json names it

    async def aclose(self) -> None:
        """Close the connection; safe to call more than once, and under cancellation."""
        self._finished = True
        response, self._response = self._response, None
        iterator, self._iterator = self._iterator, None
        with anyio.CancelScope(shield=True):
            await close_body(response, iterator)

    def __del__(self) -> None:
        # Dropped open (``async for ... : break`` outside ``async with``): a generator-based
        # body cannot be finished here, so the session finishes it before its next request.
        if self._iterator is not None or self._response is not None:
            self._session.abandon(self._response, self._iterator)
            self._response = self._iterator = None


async def close_body(
    response: httpx.Response | None, iterator: AsyncIterator[bytes] | None
) -> None:
    """Close a response and the iterator of its body, leaving no layer of it suspended.

    A generator-based body (httpx's own transport: httpx's, then httpcore's generators, one
    inside the other) is not closed from the outside, since closing the outermost generator
    leaves the inner ones suspended for the garbage collector (a ResourceWarning under trio).
    The connection is closed first, and the body is then read on: the read fails at the bottom,
    and every layer finishes as it does on a failure, closing what it holds.
    """
    if response is not None:
        await response.aclose()
    if isinstance(iterator, AsyncGenerator):
        try:
            for _ in range(_MAX_BUFFERED_ITEMS):
                await iterator.__anext__()
        except (StopAsyncIteration, Exception):
            return
        await iterator.aclose()  # still yielding what it had buffered: give up on the rest


#: How many already-received items a closed generator-based body may still yield.
_MAX_BUFFERED_ITEMS = 1024


def sent_path(response: httpx.Response, default: str) -> str:
    """The path as sent, with its ``/vX.Y`` prefix, as the session's errors name it."""
    try:
        return response.request.url.path
    except RuntimeError:  # a response built without its request
        return default


def open_stream(
    session: EngineSession,
    method: str,
    path: str,
    decoder_for: Callable[[httpx.Response], Decoder[T]],
    *,
    params: Mapping[str, QueryValue] | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes | AsyncIterable[bytes] | None = None,
    content_type: str | None = None,
    check: Callable[[T], None] | None = None,
    more_headers: Callable[[], Awaitable[Mapping[str, str]]] | None = None,
    on_error: Callable[[DockerError], None] | None = None,
    before: Callable[[], Awaitable[None]] | None = None,
) -> EngineStream[T]:
    """An :class:`EngineStream` of ``method path`` (no read timeout) decoded by ``decoder_for``.

    The one way a streaming endpoint opens its body: the request is sent when the stream is
    entered, with the body left unread for the decoder; ``check`` sees every item.
    ``more_headers`` is awaited then, its headers added (e.g. credentials a helper gives).
    ``on_error`` sees an error status before the stream and may raise another error instead.
    ``before`` is awaited first, when the stream is entered (e.g. to learn how to decode it).
    """

    async def open_response() -> httpx.Response:
        if before is not None:
            await before()
        sent = dict(headers or {})
        if more_headers is not None:
            sent.update(await more_headers())
        try:
            return await session.send(
                method,
                path,
                params=params,
                headers=sent or None,
                body=body,
                content_type=content_type,
                timeout=None,
                stream=True,
            )
        except DockerError as exc:
            if on_error is not None:
                on_error(exc)
            raise

    return EngineStream(session, method, path, open_response, decoder_for, check)

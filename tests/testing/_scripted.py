"""A handwritten httpx transport that plays a script: the "real engine" the cassette tests record.

Each route answers with an :class:`Answer`: a status, headers, body chunks, and what happens
after the chunks (``end``: the body ends; ``forever``: the stream stays open until closed, like
``logs?follow=1``; ``error``: the connection breaks).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import anyio
import anyio.lowlevel
import httpx

After = Literal["end", "forever", "error"]


@dataclass
class Answer:
    status: int = 200
    headers: Sequence[tuple[str, str]] = ()
    chunks: Sequence[bytes] = ()
    after: After = "end"
    delay: float = 0.0  # seconds before each chunk


@dataclass
class ScriptedTransport(httpx.AsyncBaseTransport):
    """Routes ``(method, path)`` (path with its version prefix) to answers; a list of answers
    is played in order, the last one repeating."""

    routes: dict[tuple[str, str], Answer | list[Answer] | Callable[[httpx.Request], Answer]]
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)
    pieces: list[list[bytes]] = field(default_factory=list)  # each request body, as sent
    closed_streams: int = 0
    closed: bool = False
    connect_error: bool = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pieces = [bytes(piece) async for piece in request.stream]  # type: ignore[union-attr]
        body = b"".join(pieces)
        self.requests.append((request.method, str(request.url), body))
        self.pieces.append(pieces)
        if self.connect_error:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return httpx.Response(404, json={"message": f"no route {request.url.path}"})
        if callable(route):
            answer = route(request)
        elif isinstance(route, list):
            answer = route.pop(0) if len(route) > 1 else route[0]
        else:
            answer = route
        return httpx.Response(
            answer.status,
            headers=list(answer.headers),
            stream=_ScriptedStream(self, answer, request),
            extensions={"reason_phrase": b"OK" if answer.status == 200 else b"Error"},
        )

    async def aclose(self) -> None:
        self.closed = True


class _ScriptedStream(httpx.AsyncByteStream):
    def __init__(self, owner: ScriptedTransport, answer: Answer, request: httpx.Request) -> None:
        self._owner = owner
        self._answer = answer
        self._request = request
        self._next = 0

    def __aiter__(self) -> _ScriptedStream:
        return self

    async def __anext__(self) -> bytes:
        answer = self._answer
        if self._next < len(answer.chunks):
            self._next += 1
            if answer.delay:
                await anyio.sleep(answer.delay)
            else:
                await anyio.lowlevel.checkpoint()
            return answer.chunks[self._next - 1]
        if answer.after == "forever":
            await anyio.sleep_forever()
        if answer.after == "error":
            raise httpx.ReadError("connection reset by peer", request=self._request)
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self._owner.closed_streams += 1


def frame(stream: int, data: bytes) -> bytes:
    """One multiplexed frame."""
    return struct.pack(">BxxxI", stream, len(data)) + data


def json_answer(body: bytes, status: int = 200) -> Answer:
    return Answer(status, [("Content-Type", "application/json")], [body])


PING = Answer(200, [("Api-Version", "1.41"), ("Content-Type", "text/plain")], [b"OK"])

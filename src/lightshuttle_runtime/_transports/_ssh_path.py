"""``ssh://host/PATH``: the Docker CLI's way first, forwarding when the remote has no ``docker``.

The Docker CLI reaches an ``ssh://`` URL with a path through ``docker --host=unix://PATH system
dial-stdio`` on the remote host; Podman hosts usually have no ``docker`` binary, and Podman's
own client forwards to the socket instead. :class:`SSHPathTransport` does the first and, when
the first request finds no ``docker`` remotely (ssh's ``no-docker`` failure, before the engine
saw anything), switches to forwarding for good and sends that request again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import anyio
import httpx

from .._errors import exception_chain
from ._ssh import SSHFailure

__all__ = ["SSHPathTransport", "SSHWay"]

#: How an ``ssh://`` engine is reached: ``docker system dial-stdio`` or a forwarded socket.
SSHWay = Literal["dial-stdio", "forward"]


class SSHPathTransport(httpx.AsyncBaseTransport):
    """dial-stdio to the socket ``PATH`` (``dial``), or forwarding (``forward()``) once the
    remote turned out to have no ``docker``.

    The first request decides (others wait for the decision, not for its answer): a success
    keeps dial-stdio; ssh's ``no-docker`` failure closes ``dial``, makes the forwarding
    transport and sends the request again through it. A request whose body cannot be sent
    twice (streamed) is preceded by a ``GET /_ping`` that decides. Any other failure is
    raised and leaves the choice to the next request.

    Args:
        dial: the dial-stdio transport (``docker --host=unix://PATH system dial-stdio``).
        forward: makes the forwarding transport (:class:`~._ssh.SSHForwardTransport`).
    """

    def __init__(
        self, dial: httpx.AsyncBaseTransport, forward: Callable[[], httpx.AsyncBaseTransport]
    ) -> None:
        self.dial = dial
        self._make_forward = forward
        self._current = dial
        #: ``None`` until a request has decided.
        self.way: SSHWay | None = None
        self._deciding = anyio.Lock()
        self._closed = False

    @property
    def current(self) -> httpx.AsyncBaseTransport:
        """The transport requests go through now."""
        return self._current

    def __repr__(self) -> str:
        return f"<SSHPathTransport way={self.way or 'undecided'} {self._current!r}>"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.way is None:
            if isinstance(request.stream, httpx.ByteStream):
                answered = await self._decide(request)
                if answered is not None:
                    return answered
            else:
                probe = await self._decide(_ping(request))
                if probe is not None:
                    await _discard(probe)
        return await self._current.handle_async_request(request)

    async def _decide(self, request: httpx.Request) -> httpx.Response | None:
        """``request``'s answer through dial-stdio if it decides so; ``None`` when the way is
        (now) decided otherwise, and the request is still to be sent through ``current``."""
        async with self._deciding:
            if self.way is not None:
                return None
            try:
                response = await self.dial.handle_async_request(request)
            except Exception as exc:
                if not _no_docker(exc):
                    raise
            else:
                self.way = "dial-stdio"
                return response
            # Outside the except block: the re-sent request's own errors must not carry the
            # dial-stdio failure as their context (it would be taken for their cause).
            if self._closed:
                raise httpx.ConnectError("the client is closed", request=request)
            self._current, self.way = self._make_forward(), "forward"
            with anyio.CancelScope(shield=True):
                await self.dial.aclose()
            return None

    async def aclose(self) -> None:
        self._closed = True
        await self._current.aclose()


def _ping(request: httpx.Request) -> httpx.Request:
    """An unversioned ``GET /_ping`` to the same engine as ``request``."""
    return httpx.Request(
        "GET",
        request.url.copy_with(raw_path=b"/_ping"),
        headers={"Host": request.headers.get("Host", request.url.netloc.decode("ascii"))},
        extensions={"timeout": request.extensions["timeout"]}
        if "timeout" in request.extensions
        else {},
    )


async def _discard(response: httpx.Response) -> None:
    try:
        await response.aread()
    finally:
        await response.aclose()


def _no_docker(exc: BaseException) -> bool:
    """Whether ``exc`` was caused by ssh finding no ``docker`` on the remote PATH."""
    return any(
        isinstance(cause, SSHFailure) and cause.reason == "no-docker"
        for cause in exception_chain(exc)
    )

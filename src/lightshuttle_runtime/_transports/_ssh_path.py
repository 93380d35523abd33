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

    The first request decides (others wait for it): a success keeps dial-stdio; ssh's
    ``no-docker`` failure closes ``dial``, makes the forwarding transport and re-sends the
    request (when its body is in memory; a streamed body cannot be sent twice and the failure
    is raised). Any other failure leaves the choice to the next request.

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

    @property
    def current(self) -> httpx.AsyncBaseTransport:
        """The transport requests go through now."""
        return self._current

    def __repr__(self) -> str:
        return f"<SSHPathTransport way={self.way or 'undecided'} {self._current!r}>"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.way is not None:
            return await self._current.handle_async_request(request)
        async with self._deciding:
            if self.way is not None:
                return await self._current.handle_async_request(request)
            try:
                response = await self.dial.handle_async_request(request)
            except Exception as exc:
                if not (_no_docker(exc) and isinstance(request.stream, httpx.ByteStream)):
                    raise
                await self.dial.aclose()
                self._current = self._make_forward()
                self.way = "forward"
                return await self._current.handle_async_request(request)
            self.way = "dial-stdio"
            return response

    async def aclose(self) -> None:
        try:
            await self._current.aclose()
        finally:
            if self._current is not self.dial:
                await self.dial.aclose()


def _no_docker(exc: BaseException) -> bool:
    """Whether ``exc`` was caused by ssh finding no ``docker`` on the remote PATH."""
    return any(
        isinstance(cause, SSHFailure) and cause.reason == "no-docker"
        for cause in exception_chain(exc)
    )

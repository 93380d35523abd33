"""The one table from transport failures to the client's typed errors.

Whatever a transport raises while sending a request or reading a body — httpx's exceptions
(raised by every httpx transport, our native one included), httpcore's (from a transport that
hands them on unmapped), the operating system's ``OSError`` kinds, anyio's stream errors (an
upgraded connection, a connector's byte stream) or our own HTTP/1.1 framing errors — is looked
up in :data:`FAILURES` by its class (the first row it is an instance of wins) and becomes one
:class:`FailureKind`; :func:`typed_error` then builds the error the session raises. An
exception that is in no row (a bug, a cancellation, one of our own errors) is not translated.
"""

from __future__ import annotations

import enum
import sys
from typing import TYPE_CHECKING, Any, Final

import anyio
import httpx

from ._errors import (
    DockerConnectionError,
    DockerError,
    DockerTimeout,
    PoolExhaustedError,
    StreamInterruptedError,
)
from ._transports._http11 import HTTPProtocolError

if TYPE_CHECKING:
    from ._session import EngineSession

__all__ = ["FAILURES", "FailureKind", "failure_kind", "typed_error"]


class FailureKind(enum.Enum):
    """What went wrong, whichever layer said so."""

    #: The engine could not be reached (no socket, refused, not permitted): explained by path.
    CONNECT = "connect"
    #: Opening the connection took longer than the connect timeout.
    CONNECT_TIMEOUT = "connect-timeout"
    #: Every connection of the pool stayed in use for the whole wait.
    POOL_EXHAUSTED = "pool-exhausted"
    #: The engine did not answer (or accept the request) within the request timeout.
    TIMEOUT = "timeout"
    #: The connection broke or carried something that is not HTTP/1.1: before the answer a
    #: :class:`DockerConnectionError`, inside a stream a :class:`StreamInterruptedError`.
    BROKEN = "broken"


_Rows = tuple[tuple[type[BaseException], FailureKind], ...]

# httpx: every httpx transport (ours too) raises these
_HTTPX_ROWS: Final[_Rows] = (
    (httpx.ConnectTimeout, FailureKind.CONNECT_TIMEOUT),
    (httpx.PoolTimeout, FailureKind.POOL_EXHAUSTED),
    (httpx.TimeoutException, FailureKind.TIMEOUT),
    (httpx.ConnectError, FailureKind.CONNECT),
    (httpx.TransportError, FailureKind.BROKEN),
)

_OTHER_ROWS: Final[_Rows] = (
    # the operating system's socket errors, when a transport lets them through
    (FileNotFoundError, FailureKind.CONNECT),
    (ConnectionRefusedError, FailureKind.CONNECT),
    (PermissionError, FailureKind.CONNECT),
    (TimeoutError, FailureKind.TIMEOUT),
    (OSError, FailureKind.BROKEN),
    # anyio's byte streams (a connector's stream, an upgraded connection)
    (anyio.BrokenResourceError, FailureKind.BROKEN),
    (anyio.ClosedResourceError, FailureKind.BROKEN),
    (anyio.EndOfStream, FailureKind.BROKEN),
    # our own HTTP/1.1 framing
    (HTTPProtocolError, FailureKind.BROKEN),
)


def _httpcore_rows() -> _Rows:
    # httpcore, when a transport does not map them to httpx's. Imported here, not at the
    # top: httpcore loads trio when trio is installed (about 100 ms), and only httpx's own
    # transports need it (they import it themselves, before any of its errors can exist).
    import httpcore

    return (
        (httpcore.ConnectTimeout, FailureKind.CONNECT_TIMEOUT),
        (httpcore.PoolTimeout, FailureKind.POOL_EXHAUSTED),
        (httpcore.TimeoutException, FailureKind.TIMEOUT),
        (httpcore.ConnectError, FailureKind.CONNECT),
        (httpcore.NetworkError, FailureKind.BROKEN),
        (httpcore.ProtocolError, FailureKind.BROKEN),
    )


def _rows() -> _Rows:
    """The table as far as it can matter now: without httpcore's rows while httpcore is not
    imported (no exception of its can have been raised yet)."""
    if "httpcore" in sys.modules:
        return _HTTPX_ROWS + _httpcore_rows() + _OTHER_ROWS
    return _HTTPX_ROWS + _OTHER_ROWS


if TYPE_CHECKING:
    #: ``(exception class, kind)``, most specific first: httpx's, httpcore's, the operating
    #: system's, anyio's, our HTTP/1.1 framing's. Built on first access (it imports httpcore).
    FAILURES: _Rows


def __getattr__(name: str) -> Any:
    if name == "FAILURES":
        table = _HTTPX_ROWS + _httpcore_rows() + _OTHER_ROWS
        globals()["FAILURES"] = table
        return table
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_BY_CLASS: dict[type[BaseException], FailureKind | None] = {}


def failure_kind(exc: BaseException) -> FailureKind | None:
    """The row of :data:`FAILURES` that ``exc`` falls under, or None (not a transport failure).

    A class is looked up once and its answer kept: one looked up before httpcore was imported
    is not one of httpcore's, so the answer stays right after it is.
    """
    cls = type(exc)
    try:
        return _BY_CLASS[cls]
    except KeyError:
        pass
    found = next((kind for row, kind in _rows() if issubclass(cls, row)), None)
    _BY_CLASS[cls] = found
    return found


def typed_error(
    exc: BaseException,
    kind: FailureKind,
    session: EngineSession,
    method: str,
    path: str,
    timeout: float | None,
    *,
    streaming: bool = False,
) -> DockerError:
    """The typed error for a transport failure of ``kind`` (``exc`` stays its ``__cause__``).

    Args:
        path: the path as sent (with its ``/vX.Y`` prefix).
        timeout: the request's read timeout in seconds (named by a timeout error).
        streaming: the failure came while reading a stream's body.
    """
    error: DockerError
    if kind is FailureKind.CONNECT_TIMEOUT:
        where = f" at {session.address.display}" if session.address is not None else ""
        error = DockerTimeout(
            f"timed out connecting to the engine{where} ({type(exc).__name__}); is it "
            "overloaded or hung, or the address unreachable?",
            timeout=session.timeouts.connect,
            method=method,
            path=path,
        )
    elif kind is FailureKind.POOL_EXHAUSTED:
        error = PoolExhaustedError(
            f"no connection to the engine became free within {timeout} s: every connection "
            "of the client's pool stayed in use. Raise DockerClient(max_connections=...), or "
            f"close the streams you no longer read ({exc})",
            timeout=timeout,
            method=method,
            path=path,
        )
    elif kind is FailureKind.TIMEOUT:
        error = DockerTimeout(
            f"the engine did not answer within {timeout} s; raise the client's timeout "
            "if the operation is slow",
            timeout=timeout,
            method=method,
            path=path,
        )
    elif kind is FailureKind.CONNECT:
        error = session.connection_error(exc, method, path)
    elif streaming:
        error = StreamInterruptedError(
            f"the stream was interrupted before it ended ({exc or type(exc).__name__}); the "
            "engine may have stopped or restarted: retry once it is back",
            method=method,
            path=path,
        )
    else:
        error = DockerConnectionError(
            f"the connection to the engine broke: {exc or type(exc).__name__}",
            method=method,
            path=path,
        )
    error.__cause__ = exc
    return error

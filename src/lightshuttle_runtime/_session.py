"""The request machinery every API area shares.

An :class:`EngineSession` owns the transport (the one seam: a real socket or a
cassette), negotiates the API version on first use, builds requests, maps failures
to typed errors and opens streams. The API area modules (``api/``) hold no I/O logic
of their own: they say which endpoint, which parameters and which model.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import urlencode

import anyio
import httpx
import msgspec

from ._config import API_VERSION_MAX, API_VERSION_MIN, Timeouts, parse_version
from ._discovery import EngineAddress
from ._errors import (
    APIVersionError,
    BadRequestError,
    ConflictError,
    DecodeError,
    DockerConnectionError,
    DockerError,
    EndpointNotFoundError,
    EngineError,
    NotFoundError,
    ServerError,
    SocketNotFoundError,
    SocketPermissionError,
    UnexpectedUpgradeError,
)
from ._failures import FailureKind, failure_kind, typed_error
from ._transports import LONG_LIVED

if TYPE_CHECKING:
    from ._credentials import CredentialStore

__all__ = [
    "EngineSession",
    "JSONObject",
    "QueryValue",
    "answer_type",
    "convert_json",
    "encode_query",
]

T = TypeVar("T")
QueryValue = str | int | float | bool | None | Mapping[str, Any] | Sequence[str]
#: The engine's JSON object as :mod:`msgspec` decodes it untyped (what ``raw=True`` returns).
JSONObject = dict[str, Any]

#: The Host header sent over the Unix socket; the engine ignores it, so it is a fixed name.
HOST_PLACEHOLDER: Final = "docker"
_BASE_URL: Final = f"http://{HOST_PLACEHOLDER}"
_JSON_TYPE: Final = "application/json"
#: The protocol versions an engine answers in (the API is HTTP/1.1; an upgrade needs it).
_HTTP_1: Final = (b"HTTP/1.1", b"HTTP/1.0")
#: Parsed URLs and bodiless requests kept for reuse (parsing a URL costs ~20 us, building an
#: ``httpx.Request`` ~20 us more: a third of a cheap request's client-side time).
_CACHE_SIZE: Final = 256
_JSON_ENCODER: Final = msgspec.json.Encoder()
_ERROR_BODY: Final = msgspec.json.Decoder(dict[str, Any])
_VERSION_TOO = re.compile(
    r"client version (?P<client>[\d.]+) is too (?P<which>new|old)\. "
    r"(?:Maximum|Minimum) supported API version is (?P<server>[\d.]+)"
)
# Podman answers 500 where Docker answers 409: a name in use, or an object in the wrong state
# (kill a stopped container, remove a running one, pause a paused one).
_PODMAN_CONFLICT = re.compile(
    r"already in use|already exists|container state improper", re.IGNORECASE
)


def encode_query(params: Mapping[str, QueryValue]) -> list[tuple[str, str]]:
    """Encode query parameters the way the engine expects them.

    Booleans become ``1``/``0``, mappings (``filters``, ``buildargs``, ``labels``) become JSON,
    sequences repeat the key, and ``None`` values are dropped.
    """
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((key, "1" if value else "0"))
        elif isinstance(value, str | int | float):
            out.append((key, str(value)))
        elif isinstance(value, Mapping):
            out.append((key, _JSON_ENCODER.encode(value).decode()))
        else:
            out.extend((key, str(item)) for item in value)
    return out


class EngineSession:
    """Sends requests to one engine through one transport.

    Args:
        transport: the seam: any ``httpx.AsyncBaseTransport`` (our Unix socket transport,
            httpx's own, or a cassette).
        socket_path: the socket behind the transport, used to explain connection failures.
        address: the engine address behind the transport (its ``socket_path`` is used when
            ``socket_path`` is not given); explains ``tcp://`` failures (refused, TLS).
        api_version: pin the API version (``"1.41"``) and skip negotiation.
        timeouts: connect and request timeouts in seconds.
        credentials: where registry credentials are looked up (``None``: the default
            :class:`CredentialStore`, made on first use).
    """

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        *,
        socket_path: str | None = None,
        address: EngineAddress | None = None,
        api_version: str | None = None,
        timeouts: Timeouts | None = None,
        credentials: CredentialStore | None = None,
        pinned_by: str | None = None,
    ) -> None:
        self.transport = transport
        #: What pinned ``api_version`` (``"api_version"``, ``"DOCKER_API_VERSION"``), if given.
        self.pinned_by = pinned_by if api_version else None
        self._credentials = credentials
        self.address = address
        if socket_path is None and address is not None:
            socket_path = address.socket_path
        self.socket_path = socket_path
        self.timeouts = timeouts or Timeouts()
        self._version = api_version
        self._prefix = f"/v{api_version}" if api_version else ""
        self._negotiate_lock = anyio.Lock()
        self.closed = False
        self.server_api_version: str | None = None
        #: The headers of the engine's last unversioned ``GET /_ping`` (negotiation's), if any.
        self.ping_headers: httpx.Headers | None = None
        self._urls: dict[str, httpx.URL] = {}
        #: Streams dropped open (see :meth:`abandon`), closed before the next request.
        self._abandoned: list[tuple[httpx.Response | None, AsyncIterator[bytes] | None]] = []
        # A transport that says it never modifies a request may be handed the same (bodiless)
        # request object again: building one costs a fifth of a cheap request's client time.
        self._requests: (
            dict[tuple[str, str, float | None, float | None, bool], httpx.Request] | None
        ) = {} if getattr(transport, "reuses_requests", False) is True else None

    @property
    def credentials(self) -> CredentialStore:
        """The registry credential store (``DOCKER_AUTH_CONFIG``, ``config.json``, helpers)."""
        if self._credentials is None:
            from ._credentials import CredentialStore

            self._credentials = CredentialStore()
        return self._credentials

    # -- version negotiation -------------------------------------------------------------

    async def api_version(self) -> str:
        """The API version in use, negotiated on first call (``GET /_ping``, unversioned).

        Raises:
            APIVersionError: the engine's maximum is below the client's minimum.
            DockerConnectionError: the engine could not be reached.
        """
        if self._version is None:
            async with self._negotiate_lock:
                if self._version is None:
                    await self._negotiate()
        assert self._version is not None
        return self._version

    async def _negotiate(self) -> None:
        response = await self.send("GET", "/_ping", versioned=False)
        self.ping_headers = response.headers
        server = response.headers.get("api-version")
        self.server_api_version = server
        if server is None:
            # An engine that does not say is old; the lowest version we speak is the safe bet.
            self._set_version(API_VERSION_MIN)
            return
        if parse_version(server) < parse_version(API_VERSION_MIN):
            raise APIVersionError(
                f"the engine speaks API {server} at most, but this client needs {API_VERSION_MIN} "
                "or newer (Docker Engine 20.10+, Podman 4+); upgrade the engine",
                client_version=API_VERSION_MIN,
                server_version=server,
                method="GET",
                path="/_ping",
            )
        self._set_version(min(server, API_VERSION_MAX, key=parse_version))

    def _set_version(self, version: str) -> None:
        self._version = version
        self._prefix = f"/v{version}"

    # -- requests ------------------------------------------------------------------------

    def build_request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        body: bytes | AsyncIterable[bytes] | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None,
        versioned: bool = True,
        long_lived: bool = False,
    ) -> httpx.Request:
        """Build the request for ``method path``; ``timeout`` is the read timeout in seconds.

        ``long_lived`` marks a stream that holds its connection while it lives (the request
        extension ``LONG_LIVED``): the built-in transports serve it outside ``max_connections``.
        """
        url = _BASE_URL + (self._prefix if versioned else "") + path
        if params:
            query = urlencode(encode_query(params))
            if query:
                url = f"{url}?{query}"
        connect = self.timeouts.connect
        reusable = body is None and not headers and content_type is None
        requests = self._requests
        if reusable and requests is not None:
            key = (method, url, timeout, connect, long_lived)
            request = requests.get(key)
            if request is None:
                request = self._new_request(method, url, None, {}, connect, timeout, long_lived)
                _remember(requests, key, request)
            return request
        all_headers = dict(headers) if headers else {}
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        return self._new_request(method, url, body, all_headers, connect, timeout, long_lived)

    def _new_request(
        self,
        method: str,
        url: str,
        body: bytes | AsyncIterable[bytes] | None,
        headers: dict[str, str],
        connect: float | None,
        timeout: float | None,
        long_lived: bool,
    ) -> httpx.Request:
        parsed = self._urls.get(url)
        if parsed is None:
            parsed = httpx.URL(url)
            _remember(self._urls, url, parsed)
        extensions: dict[str, Any] = {
            "timeout": {"connect": connect, "read": timeout, "write": timeout, "pool": timeout}
        }
        if long_lived:
            extensions[LONG_LIVED] = True
        return httpx.Request(method, parsed, content=body, headers=headers, extensions=extensions)

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        body: bytes | AsyncIterable[bytes] | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = -1.0,
        versioned: bool = True,
        stream: bool = False,
        json: Any = None,
    ) -> httpx.Response:
        """Send a request and return the response, raising a typed error for an error status.

        Args:
            json: a msgspec Struct (or plain JSON value) sent as the JSON body; the one place
                request bodies are encoded (instead of ``body``/``content_type``).
            timeout: the read timeout in seconds; ``-1`` (the default) means the session's request
                timeout, ``None`` means none (streams).
            stream: leave the body unread (the caller must ``aclose()`` the response); with
                ``timeout=None`` too, the request is long-lived (see :meth:`build_request`).

        Raises:
            EngineError: a subclass for the status (404 NotFoundError, 409 ConflictError...).
            DockerConnectionError: the socket is missing, refused or not permitted.
            DockerTimeout: the engine did not answer in time.
        """
        if self.closed:
            raise DockerConnectionError(
                "this DockerClient is closed (aclose() was called or its `async with` block "
                "ended); create a new one",
                method=method,
                path=path,
            )
        if self._abandoned:
            await self._close_abandoned()
        if versioned and self._version is None:
            await self.api_version()
        if timeout is not None and timeout < 0:
            timeout = self.timeouts.request
        if json is not None:
            body, content_type = _JSON_ENCODER.encode(json), _JSON_TYPE
        request = self.build_request(
            method,
            path,
            params=params,
            body=body,
            content_type=content_type,
            headers=headers,
            timeout=timeout,
            versioned=versioned,
            long_lived=stream and timeout is None,
        )
        with self._translate(method, request.url.path, timeout):
            response = await self.transport.handle_async_request(request)
            # Not every transport ties the response to its request (httpx's own does not):
            # errors raised later, from the body, name the path as sent through it.
            response.request = request
            if response.status_code == 101 and "upgrade" not in request.headers:
                await response.aclose()
                raise UnexpectedUpgradeError(
                    f"the engine answered 101 Switching Protocols to {method} "
                    f"{request.url.path}, which asked for no upgrade; the connection was "
                    "closed. Is DOCKER_HOST a Docker-compatible engine (not a proxy or "
                    "another service)?",
                    method=method,
                    path=request.url.path,
                )
            version = response.extensions.get("http_version")
            if version is not None and version not in _HTTP_1:
                await response.aclose()
                raise DockerConnectionError(
                    f"the engine answered {method} {request.url.path} in "
                    f"{version.decode('ascii', 'replace')}, not HTTP/1.1: the answer was "
                    "dropped. Is DOCKER_HOST a Docker-compatible engine?",
                    method=method,
                    path=request.url.path,
                )
            if response.status_code >= 400 or not stream:
                await read_whole(response)
        if response.status_code >= 400:
            raise self.error_for(response, method, request.url.path)
        return response

    async def delete(
        self,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        missing_ok: bool = False,
    ) -> None:
        """``DELETE path``: the one removal every area uses; ``missing_ok`` turns a 404 for a
        missing object into success (an engine lacking the endpoint still raises).

        Raises:
            NotFoundError: nothing of that name (unless ``missing_ok``).
            EngineError, DockerConnectionError, DockerTimeout: as :meth:`send`.
        """
        try:
            await self.send("DELETE", path, params=params)
        except EndpointNotFoundError:
            raise
        except NotFoundError:
            if not missing_ok:
                raise

    async def request_json(
        self,
        method: str,
        path: str,
        type_: type[T],
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        timeout: float | None = -1.0,
    ) -> T:
        """Send a request (``json`` encoded as its body) and decode the answer as ``type_``.

        Raises:
            DecodeError: the answer does not match the model (names the endpoint and field).
            EngineError, DockerConnectionError, DockerTimeout: as :meth:`send`.
        """
        response = await self.send(
            method,
            path,
            params=params,
            json=json,
            timeout=timeout,
        )
        return decode_json(
            response.content, type_, method=method, path=path, sent=response.request.url.path
        )

    async def read_body(self, response: httpx.Response, method: str, path: str) -> bytes:
        """Read the rest of a streamed response's body, then close it.

        Raises:
            StreamInterruptedError: the connection broke before the body ended.
        """
        try:
            return await response.aread()
        except Exception as exc:
            sent = response.request.url.path
            error = translate_transport_error(exc, self, method, sent, None, streaming=True)
            if error is None:
                raise
            raise error from exc
        finally:
            await response.aclose()

    # -- errors --------------------------------------------------------------------------

    def _translate(self, method: str, path: str, timeout: float | None) -> _Translate:
        return _Translate(self, method, path, timeout)

    def connection_error(self, exc: BaseException, method: str, path: str) -> DockerError:
        """Explain why the engine's socket could not be used, naming the path."""
        sock = self.socket_path
        if self.address is not None and self.address.scheme in ("tcp", "ssh"):
            from ._reachability import explain

            return explain(exc, self.address, method, path)
        if sock is None:
            return DockerConnectionError(
                f"could not reach the engine: {exc}", method=method, path=path
            )
        try:
            mode = os.stat(sock).st_mode
        except FileNotFoundError:
            return SocketNotFoundError(
                f"the engine socket {sock} does not exist (is the engine running?); "
                + _another_engine(self.address),
                method=method,
                path=path,
            )
        except PermissionError:
            mode = 0
        if mode and not stat.S_ISSOCK(mode):
            return SocketNotFoundError(
                f"{sock} is not a socket; " + _another_engine(self.address),
                method=method,
                path=path,
            )
        if not os.access(sock, os.R_OK | os.W_OK):
            return SocketPermissionError(
                f"permission denied on the engine socket {sock}: run as a user allowed to "
                "use it (its owner, or a member of its group such as `docker`) or as root",
                method=method,
                path=path,
            )
        return DockerConnectionError(
            f"could not connect to the engine at {sock}: {exc}", method=method, path=path
        )

    def error_for(self, response: httpx.Response, method: str, path: str) -> DockerError:
        """Turn an error response into the typed error for its status (a TLS port's answer
        to plain HTTP is :class:`EngineTLSError`)."""
        status = response.status_code
        message = _error_message(response)
        if status == 400 and self.address is not None and self.address.scheme == "tcp":
            from ._reachability import TLS_REQUIRED_ANSWER, tls_required

            if TLS_REQUIRED_ANSWER in message:
                return tls_required(self.address, method, path)
        found = _VERSION_TOO.search(message)
        if status == 400 and found:
            if self.pinned_by is not None:
                message += _unpin_hint(self.pinned_by, found["client"], found["server"])
            return APIVersionError(
                message,
                client_version=found["client"],
                server_version=found["server"],
                method=method,
                path=path,
            )
        cls: type[EngineError]
        if status == 400:
            cls = BadRequestError
        elif status == 404 and _is_router_404(response):
            return EndpointNotFoundError(
                f"the engine does not implement {method} {path} (its router answered "
                f"{message!r}); README's features-by-engine table lists what each engine lacks",
                status=status,
                method=method,
                path=path,
            )
        elif status == 404:
            cls = NotFoundError
        elif status == 409 or (status == 500 and _PODMAN_CONFLICT.search(message)):
            cls = ConflictError
        elif status >= 500:
            cls = ServerError
        else:
            cls = EngineError
        return cls(message, status=status, method=method, path=path)

    def abandon(
        self, response: httpx.Response | None, iterator: AsyncIterator[bytes] | None
    ) -> None:
        """Take a stream dropped without being closed (a bare ``break`` out of ``async for``,
        the stream then garbage collected): it is closed before the next request and when the
        session closes, instead of being left to the garbage collector."""
        self._abandoned.append((response, iterator))

    async def _close_abandoned(self) -> None:
        from ._stream import close_body

        abandoned, self._abandoned = self._abandoned, []
        with anyio.CancelScope(shield=True):
            for response, iterator in abandoned:
                await close_body(response, iterator)

    async def aclose(self) -> None:
        """Close the transport and every connection it holds."""
        self.closed = True
        try:
            await self._close_abandoned()
        finally:
            await self.transport.aclose()


class _Translate:
    """Turns a transport failure inside one ``with`` block into its typed error
    (:mod:`._failures`); anything else passes through."""

    __slots__ = ("method", "path", "session", "timeout")

    def __init__(self, session: EngineSession, method: str, path: str, timeout: float | None):
        self.session = session
        self.method = method
        self.path = path
        self.timeout = timeout

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            return
        error = translate_transport_error(exc, self.session, self.method, self.path, self.timeout)
        if error is not None:
            raise error


def translate_transport_error(
    exc: BaseException,
    session: EngineSession,
    method: str,
    path: str,
    timeout: float | None,
    *,
    streaming: bool = False,
) -> DockerError | None:
    """The typed error for a transport failure (its cause attached), by ``_failures.FAILURES``;
    None when ``exc`` is not one (let it through)."""
    kind = failure_kind(exc)
    if kind is None:
        return None
    if (
        kind is FailureKind.BROKEN
        and not streaming
        and session.address is not None
        and _refused_after_connect(exc, session.address)
    ):
        kind = FailureKind.CONNECT  # a TLS or ssh refusal: explained as a connection failure
    return typed_error(exc, kind, session, method, path, timeout, streaming=streaming)


def _unpin_hint(pinned_by: str, client: str, server: str) -> str:
    """Why the client asked for ``client`` and how to stop: the version was pinned."""
    if pinned_by == "DOCKER_API_VERSION":
        how = "unset it (`unset DOCKER_API_VERSION`)"
    else:
        how = "leave api_version= out"
    return (
        f"; {client} was pinned by {pinned_by}: {how} to negotiate the version with the "
        f"engine, or pin one the engine speaks ({server} is its bound)"
    )


#: Where to change the engine's address, by the address's source (``EngineAddress.source``).
_CHANGE_ADDRESS = {
    "argument": "the address was given to the client (host=, or the CLI's --host): give the "
    "running engine's Unix socket{e}",
    "DOCKER_HOST": "the address came from DOCKER_HOST: set it to the running engine's Unix "
    "socket{e}, or unset it",
    "context": "the address came from the Docker context in use: choose another (--context, "
    "DOCKER_CONTEXT, `docker context use`) or set DOCKER_HOST{e}",
    "CONTAINER_HOST": "the address came from CONTAINER_HOST: set it to the running engine's "
    "Unix socket{e}, or unset it",
}


def _another_engine(address: EngineAddress | None) -> str:
    """How to point the client at another engine, for an address from ``address.source``."""
    source = address.source if address is not None else "default"
    change = _CHANGE_ADDRESS.get(source, "set DOCKER_HOST{e} to use another engine")
    return change.format(e=" (e.g. unix:///run/podman/podman.sock)")


async def read_whole(response: httpx.Response) -> bytes:
    """Read a response's whole body and close it (as ``aread()`` then ``aclose()``).

    A body stream that offers ``read_all()`` (the native transport's, for an answer that did
    not come whole with its head) is read through it: the same bytes and errors, without
    httpx's per-response iteration machinery. An answer with a ``Content-Encoding`` goes
    through ``aread()``, which decodes it.
    """
    read_all = getattr(response.stream, "read_all", None)
    if read_all is None or "content-encoding" in response.headers:
        try:
            return await response.aread()
        finally:
            await response.aclose()
    try:
        body: bytes = await read_all()
    finally:
        await response.aclose()
    response._content = body
    response.is_stream_consumed = True
    return body


def _refused_after_connect(exc: BaseException, address: EngineAddress) -> bool:
    """A refusal seen only at the first read: TLS 1.3's of a client certificate, or ssh's
    failure (dial-stdio's process ends before any answer)."""
    if address.scheme not in ("tcp", "ssh"):
        return False
    from ._reachability import refused_after_connect

    return refused_after_connect(exc, address)


K = TypeVar("K")
V = TypeVar("V")


def _remember(cache: dict[K, V], key: K, value: V) -> None:
    """Add to a bounded cache, dropping the oldest entry when it is full."""
    if len(cache) >= _CACHE_SIZE:
        del cache[next(iter(cache))]
    cache[key] = value


def _is_router_404(response: httpx.Response) -> bool:
    """Whether a 404 comes from the engine's HTTP router (Docker: ``{"message": "page not
    found"}``; Podman: plain-text ``Not Found``) rather than from an endpoint naming a
    missing object (a HEAD answer has no body: not told apart)."""
    return bool(response.content) and _error_message(response).strip().lower() in _ROUTER_404


_ROUTER_404 = ("page not found", "not found", "404 page not found")


def _error_message(response: httpx.Response) -> str:
    body = response.content
    if not body:
        return response.reason_phrase or f"HTTP {response.status_code}"
    try:
        message = _ERROR_BODY.decode(body).get("message")
    except (msgspec.DecodeError, msgspec.ValidationError):
        message = None
    if isinstance(message, str) and message:
        return message
    return body.decode("utf-8", "replace").strip()


def answer_type(model: type[T], raw: bool) -> Any:
    """What :meth:`EngineSession.request_json` decodes into: ``model``, or for ``raw=True``
    the engine's JSON as plain ``dict``/``list`` values (``object`` to msgspec)."""
    return object if raw else model


def decode_json(
    data: bytes, type_: type[T], *, method: str, path: str, sent: str | None = None
) -> T:
    """Decode an engine answer into ``type_``.

    Args:
        path: the endpoint's path, without the ``/vX.Y`` prefix (the error's ``endpoint``).
        sent: the path as sent, with its prefix (the error's ``path``); default ``path``.

    Raises:
        DecodeError: wrong types or a missing required field; names the endpoint and field.
    """
    try:
        return msgspec.json.decode(data, type=type_)
    except msgspec.ValidationError as exc:
        message = f"the engine's answer does not match {type_.__name__}: {exc}"
    except msgspec.DecodeError as exc:
        message = f"the engine's answer is not valid JSON: {exc}: {data[:200]!r}"
    raise DecodeError(message, endpoint=f"{method} {path}", method=method, path=sent or path)


def convert_json(
    value: Any, type_: type[T], *, method: str, path: str, sent: str | None = None
) -> T:
    """:func:`decode_json` for an answer already decoded to plain values (one an endpoint
    had to correct first).

    Raises:
        DecodeError: as :func:`decode_json`.
    """
    try:
        return msgspec.convert(value, type_)
    except msgspec.ValidationError as exc:
        message = f"the engine's answer does not match {type_.__name__}: {exc}"
    raise DecodeError(message, endpoint=f"{method} {path}", method=method, path=sent or path)

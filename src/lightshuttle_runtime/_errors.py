"""The client's error hierarchy.

Every error the client raises derives from :class:`DockerError`. Errors that come
from an engine answer carry the HTTP status, the engine's own message, and the
method and path of the request, so a log line alone says what failed.
"""

from __future__ import annotations

__all__ = [
    "APIVersionError",
    "BadRequestError",
    "ConflictError",
    "ContextNotFoundError",
    "DecodeError",
    "DockerConnectionError",
    "DockerError",
    "DockerTimeout",
    "EndpointNotFoundError",
    "EngineConfigError",
    "EngineError",
    "EngineNotFoundError",
    "EngineRefusedError",
    "EngineSSHError",
    "EngineTLSError",
    "EngineUnreachableError",
    "InvalidArgumentError",
    "NotFoundError",
    "PoolExhaustedError",
    "RegistryAuthError",
    "ServerError",
    "SocketNotFoundError",
    "SocketPermissionError",
    "StreamDesyncError",
    "StreamError",
    "StreamInterruptedError",
    "StreamTruncatedError",
    "TLSConfigError",
    "UnexpectedUpgradeError",
    "UnsafeArchiveError",
    "UnsupportedHostError",
]


class DockerError(Exception):
    """Base class of every error raised by lightshuttle_runtime's client.

    Attributes:
        message: the human-readable reason (the engine's own ``message`` when there is one).
        method: the HTTP method of the failed request, or ``None`` when no request was made.
        path: the request path (with its ``/vX.Y`` prefix), or ``None``.
    """

    def __init__(self, message: str, *, method: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path

    def __str__(self) -> str:
        if self.method and self.path:
            return f"{self.message} ({self.method} {self.path})"
        return self.message


class InvalidArgumentError(DockerError, ValueError):
    """An argument was rejected before any request was sent (bad name, filter, port...)."""


class UnsupportedHostError(DockerError):
    """The engine address (argument or ``DOCKER_HOST``) uses a scheme this client can't reach."""


class EngineConfigError(DockerError):
    """The engine's configuration cannot be used: a malformed ``config.json`` or context
    ``meta.json``, or unusable TLS material.

    Attributes:
        path: the file (or directory) at fault, when there is one.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class ContextNotFoundError(EngineConfigError):
    """The Docker context named (``--context``, ``DOCKER_CONTEXT``, ``currentContext``) is not
    in the context store.

    Attributes:
        context: the name asked for.
        path: the store directory searched (``~/.docker/contexts/meta``).
    """

    def __init__(self, message: str, *, path: str | None = None, context: str = "") -> None:
        super().__init__(message, path=path)
        self.context = context


class TLSConfigError(EngineConfigError):
    """A TLS file (``ca.pem``, ``cert.pem``, ``key.pem``) is missing, unreadable or not PEM of
    the right kind; ``path`` names it."""


class DockerConnectionError(DockerError):
    """The engine could not be reached, or the connection broke before an answer."""


class SocketNotFoundError(DockerConnectionError):
    """The engine's Unix socket does not exist (or is not a socket)."""


class EngineNotFoundError(SocketNotFoundError):
    """Nothing is configured, the default socket does not exist, and none of the usual places
    answers.

    Attributes:
        tried: every socket path tried, in order.
    """

    def __init__(self, message: str, *, tried: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.tried = tried


class EngineRefusedError(DockerConnectionError):
    """Nothing listens at the engine's ``tcp://`` address (the connection was refused).

    Attributes:
        address: the engine address (``tcp://host:port``).
    """

    def __init__(
        self, message: str, *, address: str, method: str | None = None, path: str | None = None
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.address = address


class EngineUnreachableError(DockerConnectionError):
    """The engine's host cannot be reached: its name does not resolve, or there is no route.

    Attributes:
        address: the engine address.
    """

    def __init__(
        self, message: str, *, address: str, method: str | None = None, path: str | None = None
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.address = address


class EngineTLSError(DockerConnectionError):
    """TLS between the client and a ``tcp://`` engine failed, or one side spoke it alone.

    Attributes:
        address: the engine address.
        reason: what went wrong, one of ``"unknown-ca"`` (the server's certificate is not
            signed by the CA given), ``"hostname-mismatch"`` (it is not for that host name or
            IP), ``"certificate-expired"``, ``"verify-failed"`` (another verification
            failure), ``"client-certificate-missing"`` (the engine wants one, none was sent),
            ``"client-certificate-refused"`` (the engine refused the one sent),
            ``"not-tls"`` (TLS spoken to a plain-HTTP port), ``"tls-required"`` (plain HTTP
            spoken to a TLS port) or ``"handshake"`` (any other TLS failure).
    """

    def __init__(
        self,
        message: str,
        *,
        address: str,
        reason: str,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.address = address
        self.reason = reason


class EngineSSHError(DockerConnectionError):
    """``ssh`` could not give a connection to an ``ssh://`` engine.

    Attributes:
        address: the engine address (``ssh://user@host:port[/socket]``).
        reason: ``"host-key-unknown"`` (not in known_hosts: ssh never accepts one unseen),
            ``"host-key-changed"``, ``"auth-refused"`` (no key the server accepts; ssh never
            prompts), ``"no-docker"`` (no ``docker`` on the remote PATH for dial-stdio),
            ``"no-socket"`` (the remote ``docker`` could not connect to the engine socket),
            ``"ssh-missing"`` (no ``ssh`` binary here), ``"refused"``, ``"unreachable"``,
            ``"timeout"``, ``"forward-failed"`` (the remote socket could not be forwarded) or
            ``"exited"`` (ssh ended for another reason).
        stderr: the tail of what ssh printed.
        command: the ssh command line that was run.
    """

    def __init__(
        self,
        message: str,
        *,
        address: str,
        reason: str,
        stderr: str = "",
        command: str = "",
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.address = address
        self.reason = reason
        self.stderr = stderr
        self.command = command


class SocketPermissionError(DockerConnectionError):
    """The engine's Unix socket exists but this process may not connect to it."""


class UnexpectedUpgradeError(DockerConnectionError):
    """The engine answered ``101 Switching Protocols`` to a request that asked for no upgrade.

    The connection no longer speaks HTTP, so it is closed; nothing of it was read as a body.
    Something between the client and the engine (a proxy, another service on the socket)
    is not behaving as a Docker-compatible engine.
    """


class DockerTimeout(DockerError):
    """An ordinary (non-streaming) request did not complete within its timeout.

    Attributes:
        timeout: the limit that was exceeded, in seconds.
    """

    def __init__(
        self,
        message: str,
        *,
        timeout: float | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.timeout = timeout


class PoolExhaustedError(DockerTimeout):
    """Every connection of the client's pool stayed in use for the whole wait (the request
    timeout): raise ``DockerClient(max_connections=...)`` or close streams no longer read.

    ``timeout`` is the wait, in seconds.
    """


class EngineError(DockerError):
    """The engine answered with an error status.

    Attributes:
        status: the HTTP status code (400, 404, 409, 500...).
        message: the engine's ``message`` field, or its plain-text body.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.status = status

    def __str__(self) -> str:
        where = f" ({self.method} {self.path})" if self.method and self.path else ""
        return f"{self.status}: {self.message}{where}"


class BadRequestError(EngineError):
    """HTTP 400: the engine rejected the request's parameters."""


class APIVersionError(BadRequestError):
    """The client's and the engine's API versions do not overlap.

    Attributes:
        client_version: the version the client asked for ("1.41"), if known.
        server_version: the engine's supported bound named in its answer, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        client_version: str | None = None,
        server_version: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, status=status, method=method, path=path)
        self.client_version = client_version
        self.server_version = server_version


class NotFoundError(EngineError):
    """HTTP 404: no such container, image, network, volume or exec instance."""


class EndpointNotFoundError(NotFoundError):
    """HTTP 404 from the engine's router: the engine does not implement this endpoint at all
    (e.g. Podman 4.3 has no ``POST /containers/{id}/update``), as opposed to a missing object."""


class ConflictError(EngineError):
    """HTTP 409 (or Podman's 500 for a name in use): the object already exists or is busy."""


class ServerError(EngineError):
    """HTTP 5xx: the engine failed while handling the request."""


class DecodeError(DockerError):
    """An engine answer could not be decoded into its model (wrong type, missing field).

    Attributes:
        endpoint: the endpoint whose answer failed ("GET /containers/{id}/json").
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.endpoint = endpoint


class StreamError(DockerError):
    """The engine reported an error inside a stream that had started with 200.

    Examples: an ``errorDetail`` line in a pull or build progress stream, or a
    stream-type-3 ("system error") frame in a logs body.

    Attributes:
        code: the engine's error code when it gave one (``errorDetail.code``).
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message, method=method, path=path)
        self.code = code


class StreamDesyncError(StreamError):
    """A framed stream held bytes that are not a valid frame header.

    Attributes:
        offset: the byte offset, from the start of the body, of the bad header.
    """

    def __init__(self, message: str, *, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class StreamTruncatedError(StreamError):
    """A stream ended in the middle of a frame, a line or a JSON object."""


class StreamInterruptedError(StreamError, DockerConnectionError):
    """The connection broke while a stream was being read (the engine died or closed it).

    Everything received before the break has already been yielded.
    """


class UnsafeArchiveError(DockerError):
    """A tar archive holds an entry that would land outside the extraction directory.

    Raised before anything is written: an absolute path, a ``..`` component, a symlink or
    hard link pointing outside, an entry reached through a symlink, or a device file or FIFO.

    Attributes:
        member: the offending entry's name, as stored in the archive.
        reason: why it was refused.
    """

    def __init__(self, message: str, *, member: str, reason: str) -> None:
        super().__init__(message)
        self.member = member
        self.reason = reason


class RegistryAuthError(DockerError):
    """A registry refused the credentials sent (or wanted some and got none).

    Raised by ``images.pull``/``images.push`` in place of the engine's error and by
    ``system.login`` when the registry turns the login down. The message names the registry
    and what to do; it never holds a credential. The error raised is also of the kind the
    engine's error was: a :class:`StreamError` when reported inside a 200 stream, the
    :class:`EngineError` of its status (e.g. :class:`ServerError`) before the stream, so
    code that catches those still does.

    Attributes:
        registry: the registry's credential key (``127.0.0.1:5443``,
            ``https://index.docker.io/v1/``).
        engine_message: what the engine said.
        status: the HTTP status when the engine answered with an error status, ``None``
            when the error came inside a 200 stream.
        code: the stream's ``errorDetail.code``, when it gave one.
    """

    status: int | None
    code: int | None

    def __init__(
        self,
        message: str,
        *,
        registry: str,
        engine_message: str,
        status: int | None = None,
        code: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        DockerError.__init__(self, message, method=method, path=path)
        self.registry = registry
        self.engine_message = engine_message
        self.status = status
        self.code = code

    @classmethod
    def replacing(cls, error: DockerError, message: str, *, registry: str) -> RegistryAuthError:
        """The error to raise in place of the engine's ``error``: a RegistryAuthError that is
        also of ``error``'s class."""
        status = getattr(error, "status", None)
        code = getattr(error, "code", None)
        return _auth_error_kind(type(error))(
            message,
            registry=registry,
            engine_message=error.message,
            status=status if isinstance(status, int) else None,
            code=code if isinstance(code, int) else None,
            method=error.method,
            path=error.path,
        )


_AUTH_ERROR_KINDS: dict[type[DockerError], type[RegistryAuthError]] = {}


def _auth_error_kind(base: type[DockerError]) -> type[RegistryAuthError]:
    """``RegistryAuthError`` that is also a ``base`` (one class per base, made once)."""
    if base is DockerError or issubclass(base, RegistryAuthError):
        return RegistryAuthError
    kind = _AUTH_ERROR_KINDS.get(base)
    if kind is None:
        kind = type("RegistryAuthError", (RegistryAuthError, base), {"__module__": __name__})
        kind.__qualname__ = f"RegistryAuthError[{base.__name__}]"
        _AUTH_ERROR_KINDS[base] = kind
    return kind


def exception_chain(exc: BaseException) -> list[BaseException]:
    """``exc``, its causes, and the members of exception groups among them (trio reports a
    failed connect as an ``OSError`` caused by a group of each attempt's error)."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop(0)
        if any(current is known for known in seen):
            continue
        seen.append(current)
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        following = current.__cause__ or current.__context__
        if following is not None:
            todo.append(following)
    return seen

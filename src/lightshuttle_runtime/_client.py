"""DockerClient: the entry point of the low-level client."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, get_args

import httpx

from ._config import (
    API_VERSION_MAX,
    API_VERSION_MIN,
    DEFAULT_TIMEOUT,
    Timeouts,
    parse_version,
)
from ._discovery import EngineAddress, TLSConfig, find_engine
from ._errors import InvalidArgumentError, UnsupportedHostError
from ._lazy import Area
from ._resource import AsyncResource
from ._session import EngineSession, QueryValue

if TYPE_CHECKING:
    from ._credentials import CredentialStore
    from .api._archive import ArchivesAPI
    from .api._build import BuildAPI
    from .api._containers import ContainersAPI
    from .api._events import EventsAPI
    from .api._exec import ExecAPI
    from .api._images import ImagesAPI
    from .api._networks import NetworksAPI
    from .api._system import SystemAPI
    from .api._volumes import VolumesAPI

__all__ = ["DockerClient", "SSHMode", "TransportKind"]

#: ``"native"``: our own HTTP/1.1 transport over anyio; ``"httpx"``: httpx's stock transport.
TransportKind = Literal["native", "httpx"]
TRANSPORT_KINDS: tuple[TransportKind, ...] = get_args(TransportKind)
#: How an ``ssh://`` engine is reached (see ``DockerClient(ssh_mode=)``).
SSHMode = Literal["auto", "dial-stdio", "forward"]
SSH_MODES: tuple[SSHMode, ...] = get_args(SSHMode)


def _containers(session: EngineSession) -> ContainersAPI:
    from .api._containers import ContainersAPI

    return ContainersAPI(session)


def _images(session: EngineSession) -> ImagesAPI:
    from .api._images import ImagesAPI

    return ImagesAPI(session)


def _system(session: EngineSession) -> SystemAPI:
    from .api._system import SystemAPI

    return SystemAPI(session)


def _exec(session: EngineSession) -> ExecAPI:
    from .api._exec import ExecAPI

    return ExecAPI(session)


def _networks(session: EngineSession) -> NetworksAPI:
    from .api._networks import NetworksAPI

    return NetworksAPI(session)


def _volumes(session: EngineSession) -> VolumesAPI:
    from .api._volumes import VolumesAPI

    return VolumesAPI(session)


def _archives(session: EngineSession) -> ArchivesAPI:
    from .api._archive import ArchivesAPI

    return ArchivesAPI(session)


def _events(session: EngineSession) -> EventsAPI:
    from .api._events import EventsAPI

    return EventsAPI(session)


def _build(session: EngineSession) -> BuildAPI:
    from .api._build import BuildAPI

    return BuildAPI(session)


class DockerClient(AsyncResource):
    """An async client of one Docker-compatible engine (Docker, Podman).

    Use it as ``async with DockerClient() as docker:``; the endpoints are grouped by area:
    ``docker.containers``, ``docker.images``, ``docker.system``, ``docker.exec``,
    ``docker.networks``, ``docker.volumes``, ``docker.archives``; ``docker.build(...)`` builds an
    image (``POST /build``).

    The engine is found as the Docker CLI finds it (:func:`find_engine`: ``host``/``context``,
    ``DOCKER_HOST``, ``DOCKER_CONTEXT``, ``currentContext``, ``CONTAINER_HOST``, the default
    socket, then the usual places); ``docker.address`` says which and why.

    Args:
        host: ``unix:///path/to.sock`` (or a bare path), ``tcp://host:port`` or a bare
            ``host:port``, ``ssh://[user@]host[:port][/socket]``.
        context: a Docker context name (``docker context ls``); not together with ``host``.
        tls: TLS towards a ``tcp://`` engine, overriding the environment's and the context's:
            a :class:`TLSConfig` (the ``ca``/``cert``/``key`` paths), an ``ssl.SSLContext``
            used as is, or ``False`` for none.
        api_version: pin the API version (``"1.41"``) and skip negotiation; default
            ``DOCKER_API_VERSION``, else negotiated on first use (``GET /_ping``).
        timeout: seconds an ordinary request may take (``None``: no limit). Streams (logs
            with ``follow``, events, wait, pull) never time out on their own.
        connect_timeout: seconds to open the socket.
        transport: the seam: any ``httpx.AsyncBaseTransport`` (a cassette, a fake); when given,
            ``host`` only names the socket in error messages (and the usual places are not
            searched).
        transport_kind: which built-in transport to use when ``transport`` is not given:
            ``"native"`` (default) or ``"httpx"`` (httpx's stock ``AsyncHTTPTransport``).
        max_connections: connections the built-in transport uses for ordinary requests at once
            (at least 1); a request that finds them all busy waits up to ``timeout``, then
            raises :class:`PoolExhaustedError`. Streams that hold their connection while they
            live (logs with ``follow``, events, wait, attach/exec sessions) are not counted:
            each opens its own connection (one file descriptor), so streams never starve
            ordinary calls nor wait for each other.
        credentials: where registry credentials are found when a call gets no ``auth=``
            (default: a :class:`~lightshuttle_runtime.CredentialStore` reading
            ``DOCKER_AUTH_CONFIG``, ``DOCKER_CONFIG``/``~/.docker/config.json`` and its
            credential helpers, as the Docker CLI does).
        ssh_options: extra arguments for ``ssh`` on ``ssh://`` addresses, placed before the
            host (``["-i", "~/.ssh/engine_key", "-o", "UserKnownHostsFile=/etc/hosts_keys"]``);
            ``~/.ssh/config`` applies as always.
        ssh_mode: how an ``ssh://`` engine is reached. ``"auto"`` (default) as the Docker CLI:
            ``docker system dial-stdio`` on the remote host, one ssh process per connection
            (with a URL path: ``docker --host=unix://PATH system dial-stdio``); when the URL
            has a path and the remote has no ``docker`` (a Podman host), the client forwards
            to that socket instead (decided by the first request). ``"dial-stdio"``: never
            forward. ``"forward"``: one ``ssh -L`` process forwarding a local socket to the
            URL's path (which must be given), whatever the remote has.

    Raises:
        UnsupportedHostError: the address is malformed, or no built-in transport reaches its
            scheme (``npipe://``, ``fd://``).
        InvalidArgumentError: ``api_version`` is not ``MAJOR.MINOR``, a timeout is negative,
            ``max_connections`` is below 1, ``transport_kind`` is not one of ``"native"``,
            ``"httpx"``, ``ssh_mode`` is not one of :data:`SSHMode`'s (``"forward"`` needs
            a URL path), or both ``host`` and ``context`` are given.
        ContextNotFoundError, EngineConfigError, TLSConfigError, EngineNotFoundError: as
            :func:`find_engine` and :meth:`TLSConfig.ssl_context`.
    """

    def __init__(
        self,
        host: str | None = None,
        *,
        context: str | None = None,
        tls: TLSConfig | ssl.SSLContext | bool | None = None,
        api_version: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        connect_timeout: float | None = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        transport_kind: TransportKind = "native",
        max_connections: int = 10,
        credentials: CredentialStore | None = None,
        ssh_options: Sequence[str] = (),
        ssh_mode: SSHMode = "auto",
    ) -> None:
        if ssh_mode not in SSH_MODES:
            raise InvalidArgumentError(
                f"ssh_mode={ssh_mode!r} is not one of " + ", ".join(map(repr, SSH_MODES))
            )
        if transport_kind not in TRANSPORT_KINDS:
            raise InvalidArgumentError(
                f"transport_kind={transport_kind!r} is not a built-in transport; use one of "
                + ", ".join(repr(kind) for kind in TRANSPORT_KINDS)
            )
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise InvalidArgumentError(
                f"max_connections must be an int, not {type(max_connections).__name__}"
            )
        if max_connections < 1:
            raise InvalidArgumentError(f"max_connections must be >= 1, got {max_connections}")
        if tls is True:
            raise InvalidArgumentError("tls=True: give a TLSConfig or an ssl.SSLContext")
        # With a transport given, the address only names the engine: no search of the sockets.
        self.address: EngineAddress = find_engine(
            host, context=context, tls=tls, search=transport is None
        )
        version = api_version or os.environ.get("DOCKER_API_VERSION") or None
        pinned_by = "api_version" if api_version else "DOCKER_API_VERSION"
        if version is not None:
            _check_pinned(version, pinned_by)
        if transport is None:
            transport = _default_transport(
                self.address,
                transport_kind,
                max_connections,
                tls if isinstance(tls, ssl.SSLContext) else None,
                connect_timeout=connect_timeout,
                ssh=_SSHSettings(ssh_options, ssh_mode),
            )
        self._session = EngineSession(
            transport,
            address=self.address,
            api_version=version,
            pinned_by=pinned_by,
            timeouts=Timeouts(connect=connect_timeout, request=timeout),
            credentials=credentials,
        )

    # The API areas load on first use (``import lightshuttle_runtime`` stays small).
    containers = Area(_containers)
    images = Area(_images)
    system = Area(_system)
    exec = Area(_exec)
    networks = Area(_networks)
    volumes = Area(_volumes)
    archives = Area(_archives)
    events = Area(_events)
    #: ``POST /build``: see :meth:`BuildAPI.build`.
    build = Area(lambda session: _build(session).build)
    #: ``POST /build`` as typed step events: see :meth:`BuildAPI.events`.
    build_events = Area(lambda session: _build(session).events)

    @property
    def credentials(self) -> CredentialStore:
        """The registry credential store this client looks credentials up in."""
        return self._session.credentials

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        """The transport every request goes through."""
        return self._session.transport

    async def api_version(self) -> str:
        """The API version in use (negotiating it first if needed), e.g. ``"1.41"``.

        Raises:
            APIVersionError: the engine is older than API 1.41.
            DockerConnectionError: the engine could not be reached.
        """
        return await self._session.api_version()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = -1.0,
        versioned: bool = True,
    ) -> httpx.Response:
        """Send any API request: the escape hatch for endpoints not modelled yet.

        ``await docker.request("GET", "/info")`` sends ``GET /v1.xx/info`` (the negotiated
        version is prefixed unless ``versioned=False``) and returns the read response:
        ``.json()`` gives the engine's JSON as plain ``dict``/``list``, ``.content`` the raw
        bytes. Query values follow the models' rules (bools as ``1``/``0``, mappings as JSON,
        ``None`` left out); ``json`` (a msgspec Struct or plain value) is encoded as the body.

        Args:
            path: the API path, starting with ``/`` (``"/containers/abc/json"``).
            timeout: read timeout in seconds; ``-1`` the client's request timeout, ``None`` none.

        Raises:
            InvalidArgumentError: ``path`` does not start with ``/``, or both ``json`` and
                ``body`` are given.
            EngineError: an error status, as its typed subclass (404 NotFoundError...).
            DockerConnectionError, DockerTimeout: the engine is unreachable or too slow.
        """
        if not path.startswith("/"):
            raise InvalidArgumentError(f"path must start with '/', not {path!r}")
        if json is not None and body is not None:
            raise InvalidArgumentError("give either json= or body=, not both")
        return await self._session.send(
            method.upper(),
            path,
            params=params,
            json=json,
            body=body,
            headers=headers,
            timeout=timeout,
            versioned=versioned,
        )

    async def aclose(self) -> None:
        """Close every connection. The client must not be used afterwards."""
        await self._session.aclose()


def _check_pinned(version: str, source: str) -> None:
    if not (
        parse_version(API_VERSION_MIN) <= parse_version(version) <= parse_version(API_VERSION_MAX)
    ):
        raise InvalidArgumentError(
            f"{source}={version} is outside the API versions this client speaks "
            f"({API_VERSION_MIN} to {API_VERSION_MAX}); pick one in that range or leave it "
            "unset to negotiate"
        )


class _SSHSettings(NamedTuple):
    options: Sequence[str] = ()
    mode: SSHMode = "auto"


def _default_transport(
    address: EngineAddress,
    kind: TransportKind,
    max_connections: int,
    ssl_context: ssl.SSLContext | None,
    *,
    connect_timeout: float | None = None,
    ssh: _SSHSettings,
) -> httpx.AsyncBaseTransport:
    if address.scheme == "tcp" and address.host is not None and address.port is not None:
        if ssl_context is None and address.tls is not None:
            ssl_context = address.tls.ssl_context()
        if kind == "native" and not address.path:
            from ._transports._native import NativeTransport
            from ._transports._tcp import TCPConnector

            connector = TCPConnector(address.host, address.port, ssl_context=ssl_context)
            return NativeTransport(connector, max_connections=max_connections)
        from ._transports._remote import HttpxTCPTransport

        return HttpxTCPTransport(
            address.host,
            address.port,
            ssl_context=ssl_context,
            path_prefix=address.path or "",
            max_connections=max_connections,
        )
    if address.scheme == "ssh" and address.host is not None:
        return _ssh_transport(address, kind, max_connections, connect_timeout, ssh)
    if address.socket_path is None:
        raise UnsupportedHostError(
            f"engine address {address.url} (from {address.source}): no built-in transport "
            f"reaches {address.scheme}://; use unix://, tcp:// or ssh://"
        )
    return _unix_transport(address.socket_path, kind, max_connections)


def _ssh_transport(
    address: EngineAddress,
    kind: TransportKind,
    max_connections: int,
    connect_timeout: float | None,
    ssh: _SSHSettings,
) -> httpx.AsyncBaseTransport:
    assert address.host is not None
    host, path = address.host, address.path or None
    if ssh.mode == "forward":
        if path is None:
            raise InvalidArgumentError(
                f"ssh_mode='forward' needs the remote engine socket as the URL's path "
                f"({address.url.rstrip('/')}/run/podman/podman.sock, say), and {address.url} "
                "has none"
            )
        return _ssh_forward(address, path, kind, max_connections, connect_timeout, ssh.options)
    from ._transports._ssh import SSHConnector, dial_stdio_command

    line = dial_stdio_command(
        host,
        user=address.user,
        port=address.port,
        path=path,
        connect_timeout=connect_timeout,
        options=ssh.options,
    )
    dialer = SSHConnector(line, address.url)
    dial: httpx.AsyncBaseTransport
    if kind == "httpx":
        from ._transports._ssh_httpx import HttpxSSHTransport

        dial = HttpxSSHTransport(dialer, max_connections=max_connections)
    else:
        from ._transports._native import NativeTransport

        dial = NativeTransport(dialer, max_connections=max_connections)
    if path is None or ssh.mode == "dial-stdio":
        return dial
    from ._transports._ssh_path import SSHPathTransport

    remote = path
    return SSHPathTransport(
        dial,
        lambda: _ssh_forward(address, remote, kind, max_connections, connect_timeout, ssh.options),
    )


def _ssh_forward(
    address: EngineAddress,
    remote: str,
    kind: TransportKind,
    max_connections: int,
    connect_timeout: float | None,
    options: Sequence[str],
) -> httpx.AsyncBaseTransport:
    from ._transports._ssh import SSHForwardTransport, forward_command

    assert address.host is not None
    host = address.host

    def command(local: str) -> list[str]:
        return forward_command(
            host,
            local,
            remote,
            user=address.user,
            port=address.port,
            connect_timeout=connect_timeout,
            options=options,
        )

    return SSHForwardTransport(
        lambda local: _unix_transport(local, kind, max_connections),
        command,
        start_timeout=(connect_timeout or 30.0) + 5.0,
    )


def _unix_transport(
    path: str, kind: TransportKind, max_connections: int
) -> httpx.AsyncBaseTransport:
    if kind == "native":
        from ._transports import UnixSocketTransport

        return UnixSocketTransport(path, max_connections=max_connections)
    from ._transports._httpx import httpx_transport

    return httpx_transport(path, max_connections=max_connections)

"""Finding the engine as the Docker CLI does: contexts, ``DOCKER_HOST``, TLS, the usual sockets.

The order (the Docker CLI's ``cli/command/cli.go``, then Podman's variable, then a search):

1. an explicit context (``DockerClient(context=)``, ``--context``); giving a host too is an error;
2. an explicit host (``DockerClient(host)``, ``--host``);
3. ``DOCKER_HOST`` (when non-empty);
4. ``DOCKER_CONTEXT`` (when non-empty);
5. ``currentContext`` in ``$DOCKER_CONFIG/config.json`` (``~/.docker/config.json``);
6. ``CONTAINER_HOST`` (Podman's variable), when none of the Docker ones is set;
7. the ``default`` context: ``unix:///var/run/docker.sock``, or, when TLS is on from the
   environment, ``tcp://localhost:2376``;
8. when nothing at all is configured and that socket does not exist: the first of the usual
   places (rootless Docker, Docker Desktop, Colima, Podman) that answers ``GET /_ping``.

Hosts are parsed as the CLI's ``opts/hosts.go`` does: a bare ``host:port`` is ``tcp://``, a
bare path (``/x`` or ``./x``) is ``unix://``, ``tcp://`` without a port gets ``2375`` and an
empty host ``localhost``.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from ._errors import (
    ContextNotFoundError,
    EngineConfigError,
    EngineNotFoundError,
    InvalidArgumentError,
    TLSConfigError,
    UnsupportedHostError,
)

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_SOCKET",
    "DEFAULT_TLS_HOST",
    "EngineAddress",
    "Scheme",
    "TLSConfig",
    "config_dir",
    "find_engine",
    "parse_host",
    "resolve_host",
    "usual_sockets",
]

DEFAULT_SOCKET = "/var/run/docker.sock"
DEFAULT_HOST = "unix://" + DEFAULT_SOCKET
#: The default host when TLS is on from the environment and no host is given (as the CLI).
DEFAULT_TLS_HOST = "tcp://localhost:2376"
_DEFAULT_TCP_PORT = 2375
_DEFAULT_CONTEXT = "default"
#: The ``TLSConfig.source`` recorded for an ``ssl.SSLContext`` given as is (``tls=``).
GIVEN_CONTEXT = "an ssl.SSLContext (tls=)"

#: The address schemes an engine may have.
Scheme = Literal["unix", "tcp", "ssh", "npipe", "fd"]


@dataclass(frozen=True, slots=True)
class TLSConfig:
    """TLS towards a ``tcp://`` engine: the three PEM files of ``docker --tlsverify``.

    Attributes:
        ca: the CA certificate the server's is checked against (``ca.pem``), the only CA
            trusted then; ``None``: the system's CAs.
        cert: the client certificate (``cert.pem``), or ``None`` to send none.
        key: the client certificate's private key (``key.pem``); needed with ``cert``.
        verify: check the server's certificate and host name (``False``: ``SkipTLSVerify``,
            ``DOCKER_TLS`` without ``DOCKER_TLS_VERIFY``).
        source: where the settings came from (``"argument"``, ``"DOCKER_TLS_VERIFY"``,
            ``"context 'name'"``...).
    """

    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    verify: bool = True
    source: str = "argument"

    def ssl_context(self) -> ssl.SSLContext:
        """A client ``ssl.SSLContext`` for these files (TLS 1.2 or newer).

        Raises:
            TLSConfigError: a file is missing or unreadable, is not PEM of the right kind, or
                only one of ``cert``/``key`` is given; the message names the file.
        """
        if (self.cert is None) != (self.key is None):
            given, missing = ("cert", "key") if self.key is None else ("key", "cert")
            raise TLSConfigError(
                f"TLS ({self.source}): a client {given} without its {missing}: give both "
                "cert.pem and key.pem, or neither",
                path=self.cert or self.key,
            )
        # PROTOCOL_TLS_CLIENT verifies the server and its host name; the system's CAs are
        # loaded only when no CA is given (a given CA is the only one trusted, as the CLI).
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif self.ca is None:
            context.load_default_certs(ssl.Purpose.SERVER_AUTH)
        else:
            _readable(self.ca, "CA certificate", self.source)
            try:
                context.load_verify_locations(cafile=self.ca)
            except (ssl.SSLError, ValueError) as exc:
                raise TLSConfigError(
                    f"TLS ({self.source}): {self.ca} is not a PEM CA certificate: {exc}",
                    path=self.ca,
                ) from exc
        if self.cert is not None and self.key is not None:
            _readable(self.cert, "client certificate", self.source)
            _readable(self.key, "client key", self.source)
            try:
                context.load_cert_chain(self.cert, self.key)
            except ssl.SSLError as exc:
                raise TLSConfigError(
                    f"TLS ({self.source}): cannot use the client certificate {self.cert} with "
                    f"the key {self.key} (not PEM, or not a pair): {exc}",
                    path=self.cert,
                ) from exc
        return context


def _readable(path: str, what: str, source: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        raise TLSConfigError(
            f"TLS ({source}): the {what} {path} does not exist", path=path
        ) from None
    except OSError as exc:
        raise TLSConfigError(
            f"TLS ({source}): the {what} {path} cannot be read: {exc.strerror}", path=path
        ) from exc


@dataclass(frozen=True, slots=True)
class EngineAddress:
    """A resolved engine address, and how it was found.

    Attributes:
        url: the address, normalised (``unix:///var/run/docker.sock``, ``tcp://host:2376``,
            ``ssh://user@host:22/run/podman/podman.sock``).
        socket_path: the Unix socket's path for ``unix://``, else ``None``.
        source: what chose it: ``"argument"``, ``"DOCKER_HOST"``, ``"context"``,
            ``"CONTAINER_HOST"``, ``"default"`` or ``"found"`` (the search of the usual places).
        scheme: ``"unix"``, ``"tcp"``, ``"ssh"``, ``"npipe"`` or ``"fd"``.
        host: the host name or IP of ``tcp://`` and ``ssh://`` (IPv6 without brackets).
        port: the TCP port of ``tcp://``; of ``ssh://`` only when the URL gives one.
        user: the ``ssh://`` user, when given.
        path: the ``ssh://`` URL's path (the remote engine socket), or a ``tcp://`` path
            prefix; ``None`` when there is none.
        tls: the TLS settings of a ``tcp://`` address, or ``None`` for plain HTTP.
        context: the Docker context used, when one was.
        why: how it was found, one step a line, for people (``lightshuttle-runtime context``).
    """

    url: str
    socket_path: str | None
    source: str
    scheme: Scheme = "unix"
    host: str | None = None
    port: int | None = None
    user: str | None = None
    path: str | None = None
    tls: TLSConfig | None = None
    context: str | None = None
    why: tuple[str, ...] = field(default=())

    @property
    def display(self) -> str:
        """The URL as a person reads it: ``tcp://`` with TLS is shown with ``(TLS)``."""
        if self.tls is None:
            return self.url
        return f"{self.url} (TLS{'' if self.tls.verify else ', not verified'})"


def parse_host(text: str, *, source: str = "argument", tls: bool = False) -> EngineAddress:
    """Parse an engine address as the Docker CLI does (``opts/hosts.go``).

    ``host:port`` and ``tcp://host`` are ``tcp://`` (port 2375 when none is given, host
    ``localhost`` when empty); ``/path`` and ``./path`` are ``unix://``; ``ssh://`` keeps its
    user, port and path; an empty text is the default (``tcp://localhost:2376`` when ``tls``).
    The result has no TLS settings: :func:`find_engine` adds them.

    Raises:
        UnsupportedHostError: an unknown scheme, a malformed address, or a password in an
            ``ssh://`` URL; the message names the address and ``source``.
    """
    raw = text.strip()
    if not raw:
        raw = DEFAULT_TLS_HOST if tls else DEFAULT_HOST
    proto, sep, rest = raw.partition("://")
    if not sep:
        rest = proto
        proto = "unix" if rest.startswith(("/", "./")) else "tcp"
    if proto == "unix":
        path = _simple(raw, "unix", rest, DEFAULT_SOCKET, source)
        return EngineAddress(f"unix://{path}", path, source, "unix")
    if proto == "npipe":
        path = _simple(raw, "npipe", rest, "//./pipe/docker_engine", source)
        return EngineAddress(f"npipe://{path}", None, source, "npipe", path=path)
    if proto == "fd":
        return EngineAddress(raw, None, source, "fd")
    if proto == "tcp":
        return _tcp(raw, rest, source)
    if proto == "ssh":
        return _ssh(raw, source)
    raise UnsupportedHostError(
        f"engine address {text!r} (from {source}) has an unknown scheme {proto!r}: use "
        "unix:///path, tcp://host:port or ssh://[user@]host[:port]"
    )


def _simple(raw: str, proto: str, rest: str, default: str, source: str) -> str:
    if "://" in rest:
        raise UnsupportedHostError(f"engine address {raw!r} (from {source}): expected {proto}://")
    return rest or default


def _tcp(raw: str, rest: str, source: str) -> EngineAddress:
    bad = UnsupportedHostError(
        f"engine address {raw!r} (from {source}) is not a valid tcp:// address: expected "
        "tcp://HOST[:PORT] (e.g. tcp://127.0.0.1:2376)"
    )
    if "://" in rest:
        raise bad
    hostport, slash, tail = rest.partition("/")
    path = slash + tail if slash else ""
    host, port_text = hostport, ""
    if hostport.startswith("["):
        inner, close, after = hostport[1:].partition("]")
        if not close or (after and not after.startswith(":")):
            raise bad
        host, port_text = inner, after[1:]
    elif hostport.count(":") == 1:
        host, _, port_text = hostport.partition(":")
    elif hostport.count(":") > 1:
        raise bad  # IPv6 needs brackets
    if any(ch.isspace() for ch in host) or "@" in host:
        raise bad
    host = host or "localhost"
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise bad
        port = int(port_text)
    else:
        port = _DEFAULT_TCP_PORT
    url = f"tcp://{_join(host, port)}{path}"
    return EngineAddress(url, None, source, "tcp", host=host, port=port, path=path or None)


def _join(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def _host_port(parsed: urllib.parse.SplitResult) -> str:
    """The ``host[:port]`` of ``parsed`` as written (an IPv6 host in brackets), no userinfo."""
    return parsed.netloc.rpartition("@")[2]


def _ssh(raw: str, source: str) -> EngineAddress:
    parsed = urllib.parse.urlsplit(raw)
    try:
        port = parsed.port
    except ValueError:
        port = -1
    if parsed.password is not None:
        raise UnsupportedHostError(
            f"engine address ssh://{parsed.username}:***@{_host_port(parsed)} (from {source}) "
            "carries a password: ssh:// addresses never take one; use a key (ssh-agent or "
            "~/.ssh/config IdentityFile)"
        )
    if not parsed.hostname or port == -1 or parsed.query or parsed.fragment:
        raise UnsupportedHostError(
            f"engine address {raw!r} (from {source}) is not a valid ssh:// address: expected "
            "ssh://[USER@]HOST[:PORT][/REMOTE/SOCKET]"
        )
    user = urllib.parse.unquote(parsed.username) if parsed.username else None
    host = parsed.hostname
    path = parsed.path or None
    url = f"ssh://{user + '@' if user else ''}{_join(host, port)}{path or ''}"
    return EngineAddress(url, None, source, "ssh", host=host, port=port, user=user, path=path)


# -- the configuration directory and the context store -----------------------------------------


def config_dir(environ: Mapping[str, str] | None = None) -> str:
    """The Docker CLI's configuration directory: ``DOCKER_CONFIG``, else ``~/.docker``."""
    env = os.environ if environ is None else environ
    configured = env.get("DOCKER_CONFIG")
    if configured:
        return configured
    home = env.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".docker")


def _load_json(path: str, what: str) -> object:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise EngineConfigError(
            f"cannot read the {what} {path}: {exc.strerror}", path=path
        ) from exc
    try:
        return json.loads(data) if data.strip() else {}
    except ValueError as exc:
        raise EngineConfigError(f"the {what} {path} is not valid JSON: {exc}", path=path) from exc


def _current_context(directory: str) -> tuple[str | None, str]:
    path = os.path.join(directory, "config.json")
    loaded = _load_json(path, "Docker CLI configuration")
    if loaded is None:
        return None, path
    if not isinstance(loaded, dict):
        raise EngineConfigError(
            f"the Docker CLI configuration {path} is not a JSON object", path=path
        )
    current = loaded.get("currentContext")
    if current is not None and not isinstance(current, str):
        raise EngineConfigError(f"currentContext in {path} is not a string", path=path)
    return current or None, path


def _context_endpoint(name: str, directory: str) -> EngineAddress:
    """The ``docker`` endpoint of the stored context ``name``."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    store = os.path.join(directory, "contexts")
    meta_dir = os.path.join(store, "meta")
    meta_path = os.path.join(meta_dir, digest, "meta.json")
    loaded = _load_json(meta_path, f"metadata of context {name!r}")
    where = f"context {name!r}"
    if loaded is None:
        raise ContextNotFoundError(
            f"no Docker context named {name!r}: {meta_path} does not exist (contexts are "
            f"searched in {meta_dir}; `docker context ls` lists them, `docker context create` "
            "makes one)",
            path=meta_dir,
            context=name,
        )
    endpoint = loaded.get("Endpoints", {}).get("docker") if isinstance(loaded, dict) else None
    if isinstance(loaded, dict) and loaded.get("Name", name) != name:
        raise EngineConfigError(
            f"{meta_path} is the metadata of context {loaded.get('Name')!r}, not {name!r}",
            path=meta_path,
        )
    host = endpoint.get("Host") if isinstance(endpoint, dict) else None
    if not isinstance(endpoint, dict) or not isinstance(host, str):
        raise EngineConfigError(
            f"{meta_path} ({where}) has no Endpoints.docker.Host string", path=meta_path
        )
    skip = endpoint.get("SkipTLSVerify", False)
    if not isinstance(skip, bool):
        raise EngineConfigError(
            f"{meta_path} ({where}): Endpoints.docker.SkipTLSVerify is not a boolean",
            path=meta_path,
        )
    address = parse_host(host, source="context")
    tls_dir = os.path.join(store, "tls", digest, "docker")
    files = {kind: os.path.join(tls_dir, f"{kind}.pem") for kind in ("ca", "cert", "key")}
    present = {kind: path for kind, path in files.items() if os.path.exists(path)}
    tls: TLSConfig | None = None
    if address.scheme == "tcp" and (present or skip):
        tls = TLSConfig(
            ca=present.get("ca"),
            cert=present.get("cert"),
            key=present.get("key"),
            verify=not skip,
            source=where,
        )
    why = f"{where} ({meta_path}): Endpoints.docker.Host {host}"
    if tls is not None:
        material = ", ".join(f"{k}.pem" for k in present) or "no certificates"
        why += f"; TLS from {tls_dir} ({material}{', SkipTLSVerify' if skip else ''})"
    return replace(address, tls=tls, context=name, why=(why,))


# -- TLS from the environment ------------------------------------------------------------------


def _env_tls(env: Mapping[str, str], directory: str) -> TLSConfig | None:
    """TLS as the CLI's flags default it: ``DOCKER_TLS_VERIFY`` or ``DOCKER_TLS`` non-empty."""
    verify = bool(env.get("DOCKER_TLS_VERIFY"))
    if not (verify or env.get("DOCKER_TLS")):
        return None
    cert_path = env.get("DOCKER_CERT_PATH") or directory
    ca, cert, key = (os.path.join(cert_path, f"{k}.pem") for k in ("ca", "cert", "key"))
    # The CLI drops a default client certificate or key that does not exist; the CA is kept
    # (and a missing one is an error when verifying).
    return TLSConfig(
        ca=ca if verify else None,
        cert=cert if os.path.exists(cert) else None,
        key=key if os.path.exists(key) else None,
        verify=verify,
        source="DOCKER_TLS_VERIFY" if verify else "DOCKER_TLS",
    )


def _with_tls(address: EngineAddress, tls: TLSConfig | None, why: list[str]) -> EngineAddress:
    if tls is None:
        return address
    if address.scheme != "tcp":
        why.append(f"TLS settings ({tls.source}) ignored: they apply to tcp:// only")
        return address
    files = ", ".join(p for p in (tls.ca, tls.cert, tls.key) if p) or "no certificate files"
    why.append(f"TLS from {tls.source}: {files}{'' if tls.verify else ' (not verified)'}")
    return replace(address, tls=tls)


# -- the search of the usual places ------------------------------------------------------------


def usual_sockets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Where engines usually listen when ``/var/run/docker.sock`` does not exist, in the order
    they are tried: rootless Docker, Docker Desktop (two places), Colima, rootless Podman,
    rootful Podman."""
    env = os.environ if environ is None else environ
    home = env.get("HOME") or os.path.expanduser("~")
    runtime = env.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    return [
        os.path.join(runtime, "docker.sock"),
        os.path.join(home, ".docker", "run", "docker.sock"),
        os.path.join(home, ".docker", "desktop", "docker.sock"),
        os.path.join(home, ".colima", "default", "docker.sock"),
        os.path.join(runtime, "podman", "podman.sock"),
        "/run/podman/podman.sock",
    ]


def _answers_ping(path: str, timeout: float) -> str | None:
    """``None`` when the socket answers ``GET /_ping`` with 200, else why not."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
            head = sock.recv(64)
    except FileNotFoundError:
        return "does not exist"
    except PermissionError:
        return "permission denied"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    status = head.split(b"\r\n", 1)[0].split(b" ")
    if len(status) >= 2 and status[0].startswith(b"HTTP/1.") and status[1] == b"200":
        return None
    return "did not answer GET /_ping with 200"


def _search(env: Mapping[str, str], timeout: float, why: list[str]) -> EngineAddress:
    tried = [(DEFAULT_SOCKET, "does not exist")]
    for path in usual_sockets(env):
        reason = _answers_ping(path, timeout) if os.path.exists(path) else "does not exist"
        if reason is None:
            why.append(f"{DEFAULT_SOCKET} does not exist; {path} answers GET /_ping")
            return replace(parse_host(path, source="found"), why=tuple(why))
        tried.append((path, reason))
    lines = "; ".join(f"{path} ({reason})" for path, reason in tried)
    raise EngineNotFoundError(
        f"no engine found: nothing is configured (no --host, DOCKER_HOST, DOCKER_CONTEXT, "
        f"currentContext or CONTAINER_HOST) and none of the usual sockets answers: {lines}. "
        "Start the engine, or set DOCKER_HOST (e.g. DOCKER_HOST=unix:///run/podman/podman.sock "
        "or tcp://HOST:2376 with DOCKER_TLS_VERIFY=1) or select a context (--context NAME)",
        tried=tuple(path for path, _ in tried),
    )


# -- find_engine -------------------------------------------------------------------------------


def find_engine(
    host: str | None = None,
    *,
    context: str | None = None,
    tls: TLSConfig | ssl.SSLContext | Literal[False] | None = None,
    environ: Mapping[str, str] | None = None,
    search: bool = True,
    probe_timeout: float = 1.0,
) -> EngineAddress:
    """Find the engine the way the Docker CLI does; see the module's documentation for the
    order. Reads files and environment only, except the last step (the search of the usual
    sockets), which connects to each existing one with a ``GET /_ping`` bounded by
    ``probe_timeout`` seconds.

    Args:
        host: an explicit address (``--host``); parsed as :func:`parse_host`.
        context: an explicit Docker context name (``--context``); ``"default"`` is the
            ``DOCKER_HOST``/default-socket endpoint.
        tls: overrides the TLS settings found (``False``: none). An ``ssl.SSLContext`` is used
            as is by the transport; the result's ``tls`` then only records that (no paths,
            ``source`` ``"an ssl.SSLContext (tls=)"``).
        environ: the environment to read (default ``os.environ``).
        search: search the usual places when nothing is configured and the default socket
            does not exist (``False``: the default socket regardless).
        probe_timeout: seconds each ``GET /_ping`` of the search may take.

    Returns:
        the address, with ``source``, ``context`` and ``why`` telling how it was found.

    Raises:
        InvalidArgumentError: both ``host`` and ``context`` are given.
        ContextNotFoundError: the context named (by argument, ``DOCKER_CONTEXT`` or
            ``currentContext``) is not in the store; names it and the directory searched.
        EngineConfigError: ``config.json`` or a context's ``meta.json`` is malformed (names the
            file).
        UnsupportedHostError: the address is malformed or has an unknown scheme.
        EngineNotFoundError: nothing is configured, the default socket does not exist and none
            of :func:`usual_sockets` answers; lists every place tried.
    """
    env = os.environ if environ is None else environ
    if context and host:
        raise InvalidArgumentError(
            f"conflicting options: a context ({context!r}) and a host ({host!r}); give one"
        )
    directory = config_dir(env)
    why: list[str] = []
    env_tls = _env_tls(env, directory)
    name: str | None = None
    if context:
        name, origin = context, "given explicitly (--context / context=)"
    elif host:
        address = parse_host(host, source="argument", tls=env_tls is not None)
        why.append(f"host {host} given explicitly (--host / host=)")
        return _finish(address, env_tls, tls, why)
    elif env.get("DOCKER_HOST"):
        text = env["DOCKER_HOST"]
        address = parse_host(text, source="DOCKER_HOST", tls=env_tls is not None)
        why.append(f"DOCKER_HOST={text}")
        if env.get("DOCKER_CONTEXT"):
            why.append(f"DOCKER_CONTEXT={env['DOCKER_CONTEXT']} ignored: DOCKER_HOST wins")
        return _finish(address, env_tls, tls, why)
    elif env.get("DOCKER_CONTEXT"):
        name, origin = env["DOCKER_CONTEXT"], "from DOCKER_CONTEXT"
    else:
        current, config_path = _current_context(directory)
        if current:
            name, origin = current, f"currentContext in {config_path}"
        else:
            why.append(f"no DOCKER_HOST, DOCKER_CONTEXT or currentContext (in {config_path})")
    if name is not None and name != _DEFAULT_CONTEXT:
        address = _context_endpoint(name, directory)
        why.append(f"context {name!r} {origin}")
        why.extend(address.why)
        return _finish(replace(address, source="context"), None, tls, why)
    if name is not None:
        why.append(f"context 'default' {origin}: DOCKER_HOST or the default socket")
    container_host = env.get("CONTAINER_HOST")
    if name is None and container_host:
        address = parse_host(container_host, source="CONTAINER_HOST")
        why.append(f"CONTAINER_HOST={container_host} (Podman's variable)")
        return _finish(address, None, tls, why)
    if env_tls is not None:
        address = parse_host("", source="default", tls=True)
        why.append(f"TLS is on ({env_tls.source}) and no host is given: {DEFAULT_TLS_HOST}")
        return _finish(address, env_tls, tls, why)
    if search and name is None and not os.path.exists(DEFAULT_SOCKET):
        address = _search(env, probe_timeout, why)
        return _finish(address, None, tls, list(address.why))
    why.append(f"the default socket {DEFAULT_SOCKET}")
    return _finish(parse_host(DEFAULT_SOCKET, source="default"), None, tls, why)


def _finish(
    address: EngineAddress,
    found_tls: TLSConfig | None,
    given: TLSConfig | ssl.SSLContext | Literal[False] | None,
    why: list[str],
) -> EngineAddress:
    if given is False:
        if address.tls is not None or found_tls is not None:
            why.append("TLS turned off (tls=False)")
        return replace(address, tls=None, why=tuple(why))
    if isinstance(given, TLSConfig):
        address = replace(address, tls=None)
        found_tls = given
    elif isinstance(given, ssl.SSLContext):
        # Used as is by the transport; recorded so that the address says TLS is on.
        found_tls = TLSConfig(verify=given.verify_mode != ssl.CERT_NONE, source=GIVEN_CONTEXT)
    address = _with_tls(address, found_tls, why)
    return replace(address, why=tuple(why))


def resolve_host(host: str | None = None) -> EngineAddress:
    """The engine address: :func:`find_engine` with only ``host`` given and no search of the
    usual places (kept for callers of the first releases).

    Raises:
        as :func:`find_engine`.
    """
    return find_engine(host, search=False)

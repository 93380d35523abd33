"""Registry credentials, found as the Docker CLI finds them.

Where a registry's credentials come from, first match wins:

1. an explicit ``auth=`` argument (handled by the caller);
2. ``DOCKER_AUTH_CONFIG``: a ``config.json`` document in the environment (its ``auths``);
3. ``config.json`` in ``DOCKER_CONFIG`` (else ``~/.docker``): ``credHelpers[registry]``, then
   ``credsStore`` — a credential helper, ``docker-credential-<name>``, run as a subprocess
   through its protocol (``get`` with the server URL on stdin, ``{"Username", "Secret"}`` JSON
   out; username ``<token>`` means an identity token; "credentials not found" means none) —
   then ``auths[registry]`` (``auth``: base64 ``user:password``; ``identitytoken``).

Registry names are normalised: ``docker.io``, ``index.docker.io``, ``registry-1.docker.io``
and ``https://index.docker.io/v1/`` are all Docker Hub, whose key is
``https://index.docker.io/v1/``; any other ``https://host:port/path`` is ``host:port``.

No secret appears in a ``repr``, an error message or a log line.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import anyio
import anyio.abc
import msgspec

from ._errors import DockerError, EngineError, RegistryAuthError, StreamError

__all__ = [
    "DOCKER_HUB",
    "CredentialStore",
    "CredentialsError",
    "RegistryAuth",
    "normalize_registry",
    "raise_for_registry_auth",
    "registry_of",
]

#: The key of Docker Hub's credentials (config.json, helpers, ``X-Registry-Config``).
DOCKER_HUB: Final = "https://index.docker.io/v1/"
_HUB_NAMES: Final = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
#: What a credential helper prints when it has nothing for a server.
_NOT_FOUND: Final = "credentials not found"
#: The username a helper returns for an identity token.
_TOKEN_USER: Final = "<token>"
#: Seconds a credential helper may take.
HELPER_TIMEOUT: Final = 30.0


class CredentialsError(DockerError):
    """Credentials could not be read or stored: an unreadable ``config.json`` or
    ``DOCKER_AUTH_CONFIG``, a credential helper missing from ``PATH`` or failing.

    Attributes:
        registry: the registry key concerned, when there is one.
    """

    def __init__(self, message: str, *, registry: str | None = None) -> None:
        super().__init__(message)
        self.registry = registry


@dataclass(frozen=True, slots=True)
class RegistryAuth:
    """One registry's credentials: ``username``/``password``, or an ``identity_token``
    (OAuth refresh token from ``POST /auth``) or ``registry_token`` (bearer token).

    The ``repr`` shows the username and server only.
    """

    username: str = ""
    password: str = field(default="", repr=False)
    server_address: str = ""
    identity_token: str = field(default="", repr=False)
    registry_token: str = field(default="", repr=False)

    @property
    def is_empty(self) -> bool:
        """Whether it holds no credential at all."""
        return not (self.username or self.password or self.identity_token or self.registry_token)

    def to_dict(self) -> dict[str, str]:
        """The API's ``AuthConfig`` JSON object (``X-Registry-Auth``, ``POST /auth``): only the
        fields that are set."""
        wire = {
            "username": self.username,
            "password": self.password,
            "serveraddress": self.server_address,
            "identitytoken": self.identity_token,
            "registrytoken": self.registry_token,
        }
        return {key: value for key, value in wire.items() if value}


def normalize_registry(name: str) -> str:
    """The credential key of a registry name or URL.

    ``docker.io``, ``index.docker.io``, ``registry-1.docker.io`` (with or without scheme and
    path) and the empty name give :data:`DOCKER_HUB`; ``https://host:port/v2/`` gives
    ``host:port``. Host names are compared case-insensitively (lower-cased).
    """
    text = name.strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
            break
    host = text.split("/", 1)[0].lower()
    if not host or host in _HUB_NAMES:
        return DOCKER_HUB
    return host


def registry_of(repository: str) -> str:
    """The credential key of the registry an image reference (or repository) lives on.

    The first path component is a registry when it holds a ``.`` or ``:`` or is
    ``localhost`` (as the Docker CLI decides); otherwise the image is on Docker Hub.
    """
    first, sep, _ = repository.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return normalize_registry(first)
    return DOCKER_HUB


def decode_auth_entry(entry: Mapping[str, Any], server: str) -> RegistryAuth:
    """A ``config.json`` ``auths`` entry as :class:`RegistryAuth`.

    ``auth`` is standard base64 of ``user:password``; ``identitytoken`` /
    ``registrytoken`` and legacy ``username``/``password`` fields are read too.

    Raises:
        CredentialsError: ``auth`` is not base64 of ``user:password`` (the value is not shown).
    """
    username = str(entry.get("username") or "")
    password = str(entry.get("password") or "")
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
        except (binascii.Error, ValueError):
            decoded = ""
        user, sep, secret = decoded.partition(":")
        if not sep:
            raise CredentialsError(
                f"the 'auth' of {server!r} in the Docker config is not base64 of user:password",
                registry=server,
            )
        username, password = user, secret
    return RegistryAuth(
        username=username,
        password=password,
        server_address=server,
        identity_token=str(entry.get("identitytoken") or ""),
        registry_token=str(entry.get("registrytoken") or ""),
    )


class CredentialStore:
    """Registry credentials from ``DOCKER_AUTH_CONFIG``, ``config.json`` and credential helpers.

    The environment is read at each call (a test may change ``DOCKER_CONFIG``). Helpers run as
    subprocesses (``anyio.run_process``: asyncio and trio).

    Args:
        config_dir: the directory of ``config.json``; default ``DOCKER_CONFIG``, else
            ``~/.docker``.
        environ: where ``DOCKER_CONFIG``/``DOCKER_AUTH_CONFIG``/``PATH`` are read; default
            ``os.environ``.
    """

    def __init__(
        self,
        config_dir: str | os.PathLike[str] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._config_dir = None if config_dir is None else Path(config_dir)
        self._environ = environ

    def __repr__(self) -> str:
        return f"CredentialStore(config={str(self.config_path)!r})"

    @property
    def environ(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    @property
    def config_path(self) -> Path:
        """The ``config.json`` read and written (it need not exist)."""
        if self._config_dir is not None:
            return self._config_dir / "config.json"
        configured = self.environ.get("DOCKER_CONFIG")
        base = Path(configured) if configured else Path.home() / ".docker"
        return base / "config.json"

    # -- reading -----------------------------------------------------------------------------

    def read_config(self) -> dict[str, Any]:
        """``config.json`` as a dict (``{}`` when it does not exist).

        Raises:
            CredentialsError: it exists but cannot be read or is not a JSON object.
        """
        path = self.config_path
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise CredentialsError(
                f"cannot read the Docker config {path}: {exc.strerror}"
            ) from None
        return _json_object(raw, f"the Docker config {path}")

    def _env_auths(self) -> dict[str, Mapping[str, Any]]:
        text = self.environ.get("DOCKER_AUTH_CONFIG")
        if not text:
            return {}
        document = _json_object(text.encode("utf-8"), "DOCKER_AUTH_CONFIG")
        return _auths(document, "DOCKER_AUTH_CONFIG")

    def helper_for(self, registry: str, config: Mapping[str, Any] | None = None) -> str | None:
        """The credential helper name (``pass`` for ``docker-credential-pass``) that holds
        ``registry``'s credentials: ``credHelpers[registry]``, else ``credsStore``."""
        config = self.read_config() if config is None else config
        key = normalize_registry(registry)
        helpers = config.get("credHelpers")
        if isinstance(helpers, Mapping):
            for name, helper in helpers.items():
                if normalize_registry(str(name)) == key and isinstance(helper, str) and helper:
                    return helper
        store = config.get("credsStore")
        return store if isinstance(store, str) and store else None

    async def get(self, registry: str) -> RegistryAuth | None:
        """The credentials of ``registry`` (a name, ``host:port`` or URL), or ``None``.

        Raises:
            CredentialsError: an unreadable config, or a helper that is missing or fails
                (other than by having no credentials).
        """
        key = normalize_registry(registry)
        for server, entry in self._env_auths().items():
            if normalize_registry(server) == key:
                return decode_auth_entry(entry, key)
        config = self.read_config()
        helper = self.helper_for(key, config)
        if helper is not None:
            found = await self._helper_get(helper, key)
            if found is not None:
                return found
        for server, entry in _auths(config, str(self.config_path)).items():
            if normalize_registry(server) == key:
                auth = decode_auth_entry(entry, key)
                return None if auth.is_empty else auth
        return None

    async def all(self) -> dict[str, RegistryAuth]:
        """Every registry's credentials, by key (what a build sends as ``X-Registry-Config``).

        Empty, without running anything, when there is no config and no ``DOCKER_AUTH_CONFIG``.

        Raises:
            CredentialsError: as :meth:`get`.
        """
        config = self.read_config()
        servers = {normalize_registry(s) for s in _auths(config, str(self.config_path))}
        helpers = config.get("credHelpers")
        if isinstance(helpers, Mapping):
            servers |= {normalize_registry(str(name)) for name in helpers}
        store = config.get("credsStore")
        if isinstance(store, str) and store:
            servers |= {normalize_registry(s) for s in await self._helper_list(store)}
        servers |= {normalize_registry(s) for s in self._env_auths()}
        found: dict[str, RegistryAuth] = {}
        for server in sorted(servers):
            auth = await self.get(server)
            if auth is not None:
                found[server] = auth
        return found

    # -- writing (login/logout) --------------------------------------------------------------

    async def store(self, registry: str, auth: RegistryAuth) -> str:
        """Keep ``auth`` for ``registry`` as the Docker CLI does: in its credential helper
        (``credHelpers``/``credsStore``; ``config.json`` then gets an empty ``auths`` entry),
        else base64 in ``config.json`` (written ``0600``).

        Returns:
            Where it went: ``"docker-credential-NAME"`` or the config path.

        Raises:
            CredentialsError: the config cannot be read or written, or the helper fails.
        """
        key = normalize_registry(registry)
        config = self.read_config()
        helper = self.helper_for(key, config)
        auths = dict(_auths(config, str(self.config_path)))
        auths.pop(_matching_server(auths, key) or key, None)
        if helper is not None:
            username = auth.username
            secret = auth.password
            if auth.identity_token:
                username, secret = _TOKEN_USER, auth.identity_token
            payload = {"ServerURL": key, "Username": username, "Secret": secret}
            await self._run_helper(helper, "store", msgspec.json.encode(payload), key)
            auths[key] = {}
            where = f"docker-credential-{helper}"
        else:
            entry: dict[str, str] = {}
            if auth.username or auth.password:
                joined = f"{auth.username}:{auth.password}".encode()
                entry["auth"] = base64.b64encode(joined).decode("ascii")
            if auth.identity_token:
                entry["identitytoken"] = auth.identity_token
            auths[key] = entry
            where = str(self.config_path)
        config["auths"] = auths
        self._write_config(config)
        return where

    async def erase(self, registry: str) -> bool:
        """Forget ``registry``'s credentials (helper and ``config.json``).

        Returns:
            Whether there was anything to forget in ``config.json``'s ``auths``.

        Raises:
            CredentialsError: the config cannot be read or written, or the helper fails
                (other than by having nothing stored).
        """
        key = normalize_registry(registry)
        config = self.read_config()
        helper = self.helper_for(key, config)
        if helper is not None:
            await self._run_helper(helper, "erase", key.encode(), key, missing_ok=True)
        auths = dict(_auths(config, str(self.config_path)))
        server = _matching_server(auths, key)
        if server is None:
            return False
        del auths[server]
        config["auths"] = auths
        self._write_config(config)
        return True

    def _write_config(self, config: Mapping[str, Any]) -> None:
        path = self.config_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".config.json.")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(msgspec.json.format(msgspec.json.encode(config), indent=1))
                    out.write(b"\n")
                os.replace(temp, path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise CredentialsError(
                f"cannot write the Docker config {path}: {exc.strerror}"
            ) from None

    # -- the helper protocol -----------------------------------------------------------------

    async def _helper_get(self, helper: str, key: str) -> RegistryAuth | None:
        out = await self._run_helper(helper, "get", key.encode(), key, missing_ok=True)
        if out is None:
            return None
        answer = _json_object(out, f"docker-credential-{helper} get")
        username = str(answer.get("Username") or "")
        secret = str(answer.get("Secret") or "")
        if not secret and not username:
            return None
        if username == _TOKEN_USER:
            return RegistryAuth(server_address=key, identity_token=secret)
        return RegistryAuth(username=username, password=secret, server_address=key)

    async def _helper_list(self, helper: str) -> list[str]:
        out = await self._run_helper(helper, "list", b"", None)
        if out is None:
            return []
        return [str(server) for server in _json_object(out, f"docker-credential-{helper} list")]

    async def _run_helper(
        self, helper: str, action: str, data: bytes, key: str | None, *, missing_ok: bool = False
    ) -> bytes | None:
        """Run ``docker-credential-<helper> <action>`` with ``data`` on stdin; its stdout, or
        ``None`` when it has no credentials for the server (and ``missing_ok``)."""
        program = f"docker-credential-{helper}"
        found = shutil.which(program, path=self.environ.get("PATH"))
        if found is None:
            raise CredentialsError(
                f"the credential helper {program} named in {self.config_path} is not on PATH: "
                "install it, or remove credsStore/credHelpers from the config",
                registry=key,
            )
        try:
            with anyio.fail_after(HELPER_TIMEOUT):
                returncode, stdout, stderr = await _run(found, action, data, self.environ)
        except TimeoutError:
            raise CredentialsError(
                f"{program} {action} did not answer within {HELPER_TIMEOUT:g} s", registry=key
            ) from None
        except OSError as exc:
            raise CredentialsError(f"cannot run {program}: {exc.strerror}", registry=key) from None
        if returncode == 0:
            return stdout
        said = (stdout or stderr).decode("utf-8", "replace").strip()
        if missing_ok and _NOT_FOUND in said.lower():
            return None
        if action == "list" and not said:
            return None
        # A helper's message names the problem, never the secret it was given on stdin.
        first_line = said.splitlines()[0][:200] if said else f"exit status {returncode}"
        target = f" for {key}" if key else ""
        raise CredentialsError(f"{program} {action}{target} failed: {first_line}", registry=key)


async def _run(
    program: str, action: str, data: bytes, environ: Mapping[str, str]
) -> tuple[int, bytes, bytes]:
    """Run ``program action`` with ``data`` on stdin: its exit status, stdout and stderr. A
    program that exits without reading its stdin is no error (its answer still counts)."""
    outputs: dict[str, bytes] = {}

    async def read(name: str, stream: anyio.abc.ByteReceiveStream | None) -> None:
        chunks = []
        if stream is not None:
            async for chunk in stream:
                chunks.append(chunk)
        outputs[name] = b"".join(chunks)

    async with await anyio.open_process(
        [program, action],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(environ),
    ) as process:
        async with anyio.create_task_group() as group:
            group.start_soon(read, "stdout", process.stdout)
            group.start_soon(read, "stderr", process.stderr)
            if process.stdin is not None:
                with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                    await process.stdin.send(data)
                await process.stdin.aclose()
        returncode = await process.wait()
    return returncode, outputs["stdout"], outputs["stderr"]


#: What engines and registries say when credentials are refused or missing (Docker, Podman,
#: distribution, Docker Hub), never a local "permission denied".
_AUTH_REFUSED = re.compile(
    r"unauthorized|authentication required|no basic auth credentials|"
    r"incorrect username or password|access to the resource is denied|\bdenied: |"
    r"login attempt to \S+ failed with status",
    re.IGNORECASE,
)


#: Docker's report of its plain-HTTP fallback reaching a registry that speaks only HTTPS.
_HTTPS_FALLBACK = re.compile(r"Client sent an HTTP request to an HTTPS server", re.IGNORECASE)


def raise_for_registry_auth(
    exc: DockerError,
    registry: str,
    *,
    sent: bool,
    logging_in: bool = False,
    passed: bool = False,
) -> None:
    """Raise :class:`RegistryAuthError` in place of ``exc`` when it says the registry refused
    (or wanted) credentials; otherwise return. ``sent``: whether credentials were sent;
    ``logging_in``: the error answers a login; ``passed``: the credentials sent were the
    caller's ``auth=`` (not the store's). Sent credentials get the advice to check them."""
    if not isinstance(exc, (EngineError, StreamError)):
        return
    shown = "Docker Hub" if registry == DOCKER_HUB else registry
    what = "refused the credentials sent" if sent else "wants credentials and none were sent"
    if not sent and _HTTPS_FALLBACK.search(exc.message):
        # Docker (20.10) falls back to plain HTTP for a registry on an insecure range once
        # HTTPS failed without credentials, and reports that attempt's failure.
        what = (
            "most likely wants credentials and none were sent (the engine tried HTTPS, then "
            "plain HTTP, which the registry refuses)"
        )
    elif not _AUTH_REFUSED.search(exc.message):
        return
    login = "docker.io" if registry == DOCKER_HUB else registry
    if logging_in:
        advice = "Check the username and password (or token) for it"
    elif sent and passed:
        advice = "Check the username and password (or token) passed as auth="
    elif sent:
        advice = (
            f"Log in again (lightshuttle-runtime login {login}, or docker login) to renew the "
            "stored credentials, or pass auth="
        )
    else:
        advice = f"Log in first (lightshuttle-runtime login {login}, or docker login) or pass auth="
    raise RegistryAuthError.replacing(
        exc, f"the registry {shown} {what}: {exc.message}. {advice}", registry=registry
    ) from exc


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise CredentialsError(f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise CredentialsError(f"{what} is not a JSON object")
    return value


def _auths(config: Mapping[str, Any], what: str) -> dict[str, Mapping[str, Any]]:
    auths = config.get("auths")
    if auths is None:
        return {}
    if not isinstance(auths, dict):
        raise CredentialsError(f"'auths' in {what} is not a JSON object")
    return {str(k): v for k, v in auths.items() if isinstance(v, Mapping)}


def _matching_server(auths: Mapping[str, Any], key: str) -> str | None:
    for server in auths:
        if normalize_registry(server) == key:
            return server
    return None

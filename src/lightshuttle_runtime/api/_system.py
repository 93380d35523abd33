"""System endpoints: ``GET /_ping``, ``GET /version``, ``GET /info``, ``GET /system/df``,
``POST /auth``, and ``prune`` across the areas (as ``docker system prune``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, overload

import httpx

from .._errors import DockerError, InvalidArgumentError
from .._session import EngineSession, JSONObject, answer_type, convert_json, decode_json
from .._validate import Filters, normalize_filters
from ..models import (
    ContainerPruneResponse,
    ImagePruneResponse,
    LoginResponse,
    NetworkPruneResponse,
    PingInfo,
    SystemDataUsage,
    SystemInfo,
    SystemVersion,
    VolumePruneResponse,
)

if TYPE_CHECKING:
    from .._credentials import RegistryAuth

__all__ = ["SystemAPI", "SystemPruneReport"]


@dataclass(frozen=True, slots=True)
class SystemPruneReport:
    """What :meth:`SystemAPI.prune` removed, area by area (each the area's own prune answer).

    Attributes:
        containers, networks, images: the answers of ``POST /containers/prune``,
            ``/networks/prune`` and ``/images/prune``.
        volumes: the answer of ``POST /volumes/prune``, or ``None`` when volumes were kept.
    """

    containers: ContainerPruneResponse
    networks: NetworkPruneResponse
    images: ImagePruneResponse
    volumes: VolumePruneResponse | None

    @property
    def space_reclaimed(self) -> int:
        """Bytes freed in all, as the engine counted them."""
        volumes = self.volumes.space_reclaimed if self.volumes is not None else 0
        return self.containers.space_reclaimed + self.images.space_reclaimed + volumes


_PING_HEADERS = frozenset(
    (b"api-version", b"ostype", b"server", b"docker-experimental", b"builder-version", b"swarm")
)


def _header_values(headers: httpx.Headers, names: frozenset[bytes]) -> dict[bytes, str]:
    """The values of the headers ``names`` (lowercase) in one pass, repeated ones joined with
    ``", "`` as ``headers.get`` joins them (six ``get`` calls cost six passes)."""
    found: dict[bytes, str] = {}
    encoding = headers.encoding
    for key, value in headers.raw:
        low = key.lower()
        if low in names:
            text = value.decode(encoding)
            found[low] = f"{found[low]}, {text}" if low in found else text
    return found


class SystemAPI:
    """Engine-wide calls. Reached as ``client.system``."""

    def __init__(self, session: EngineSession) -> None:
        self._session = session

    async def ping(self) -> PingInfo:
        """``GET /_ping`` (unversioned): is the engine up, and which API it speaks at most.

        Raises:
            DockerConnectionError: the socket is missing or not permitted.
            DockerTimeout: no answer within the request timeout.
        """
        response = await self._session.send("GET", "/_ping", versioned=False)
        found = _header_values(response.headers, _PING_HEADERS)
        get = found.get
        return PingInfo(
            api_version=get(b"api-version"),
            os_type=get(b"ostype"),
            server=get(b"server"),
            experimental=(get(b"docker-experimental") or "").lower() == "true",
            builder_version=get(b"builder-version"),
            swarm=get(b"swarm"),
        )

    @overload
    async def version(self, *, raw: Literal[False] = False) -> SystemVersion: ...
    @overload
    async def version(self, *, raw: Literal[True]) -> JSONObject: ...
    async def version(self, *, raw: bool = False) -> SystemVersion | JSONObject:
        """``GET /version``: the engine's version, API range and platform.

        Args:
            raw: return the engine's JSON as a ``dict`` instead of the model.

        Raises:
            DecodeError: the answer is not a version object.
            EngineError, DockerConnectionError, DockerTimeout: as any request.
        """
        response = await self._session.send("GET", "/version")
        answer: SystemVersion | JSONObject = decode_json(
            response.content,
            answer_type(SystemVersion, raw),
            method="GET",
            path="/version",
            sent=response.request.url.path,
        )
        return answer

    @overload
    async def info(self, *, raw: Literal[False] = False) -> SystemInfo: ...
    @overload
    async def info(self, *, raw: Literal[True]) -> JSONObject: ...
    async def info(self, *, raw: bool = False) -> SystemInfo | JSONObject:
        """``GET /info``: the engine's host, storage driver and object counts; every API version.

        Args:
            raw: return the engine's JSON as a ``dict`` instead of the model.

        Raises:
            DecodeError: the answer does not match :class:`SystemInfo`.
        """
        return await self._session.request_json("GET", "/info", answer_type(SystemInfo, raw))

    @overload
    async def df(self, *, raw: Literal[False] = False) -> SystemDataUsage: ...
    @overload
    async def df(self, *, raw: Literal[True]) -> JSONObject: ...
    async def df(self, *, raw: bool = False) -> SystemDataUsage | JSONObject:
        """``GET /system/df``: disk usage of images, containers, volumes and build cache.

        Since API 1.25 (``type`` to pick parts since 1.42: not used, every part is asked for).
        This can take seconds on an engine with many objects; the request timeout applies.

        Args:
            raw: return the engine's JSON as a ``dict`` instead of the model.

        Raises:
            DecodeError: the answer does not match :class:`SystemDataUsage`.
        """
        answer: JSONObject = await self._session.request_json("GET", "/system/df", JSONObject)
        if raw:
            return answer
        # Podman 4.3 sends null for some containers' Ports and Mounts here (their
        # /containers/json entry has []): a null is taken as the field left out.
        containers = answer.get("Containers")
        if isinstance(containers, list):
            answer["Containers"] = [
                {key: value for key, value in entry.items() if value is not None}
                if isinstance(entry, dict)
                else entry
                for entry in containers
            ]
        return convert_json(answer, SystemDataUsage, method="GET", path="/system/df")

    async def login(
        self,
        auth: RegistryAuth | Mapping[str, str] | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        registry: str | None = None,
    ) -> LoginResponse:
        """``POST /auth``: check credentials against a registry (every API version).

        The engine logs in to the registry and answers whether it worked; it keeps nothing
        (store the credentials with :meth:`CredentialStore.store` to use them later, as
        ``docker login`` does). Give ``auth`` or ``username``/``password``/``registry``.

        Args:
            auth: the credentials (``serveraddress`` names the registry).
            username, password, registry: the same, one by one; ``registry`` is a name,
                ``host:port`` or URL (default Docker Hub), normalised as the CLI does.

        Returns:
            ``status`` ``"Login Succeeded"``; ``identity_token`` when the registry gives one.

        Raises:
            RegistryAuthError: the registry refused the credentials (engines answer 500, or
                401, naming the registry; the message never holds the password).
            ServerError: the registry could not be reached.
        """
        # Loaded here: ping/version/info need none of the credential machinery.
        from .._credentials import RegistryAuth, normalize_registry, raise_for_registry_auth

        if auth is None:
            server = normalize_registry(registry or "")
            auth = RegistryAuth(username or "", password or "", server)
        body = auth.to_dict() if isinstance(auth, RegistryAuth) else dict(auth)
        server = normalize_registry(body.get("serveraddress", ""))
        body.setdefault("serveraddress", server)
        try:
            return await self._session.request_json("POST", "/auth", LoginResponse, json=body)
        except DockerError as exc:
            raise_for_registry_auth(exc, server, sent=True, logging_in=True)
            raise

    async def prune(
        self,
        *,
        filters: Filters | None = None,
        all_images: bool = False,
        volumes: bool = False,
    ) -> SystemPruneReport:
        """Remove what nothing uses, as ``docker system prune``: stopped containers, unused
        networks, dangling images (every unused image with ``all_images``), and with
        ``volumes`` unused volumes, in that order (API 1.25+ for each).

        ``filters`` (``until``, ``label``, ``label!``) go to every area; volumes take no
        ``until``, so they are pruned with the label filters only, and ``volumes`` with an
        ``until`` filter is refused, as the Docker CLI refuses it. Without filters this acts
        on **everything** unused on the engine.

        Raises:
            InvalidArgumentError: a filter value is not a string or list of strings, or
                ``volumes`` with an ``until`` filter.
            ConflictError: another prune is running.
            ServerError: Podman 4.3 refuses ``all_images`` (see :meth:`ImagesAPI.prune`).
        """
        from ._containers import ContainersAPI
        from ._images import ImagesAPI
        from ._networks import NetworksAPI
        from ._volumes import VolumesAPI

        normalized = normalize_filters(filters)
        if volumes and normalized and "until" in normalized:
            raise InvalidArgumentError(
                "volumes cannot be pruned with an 'until' filter (the engine does not support "
                "it): leave volumes=False or drop the 'until' filter"
            )
        session = self._session
        return SystemPruneReport(
            containers=await ContainersAPI(session).prune(filters=normalized),
            networks=await NetworksAPI(session).prune(filters=normalized),
            volumes=await VolumesAPI(session).prune(filters=normalized) if volumes else None,
            images=await ImagesAPI(session).prune(dangling=not all_images, filters=normalized),
        )

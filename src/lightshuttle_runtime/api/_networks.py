"""Network endpoints: create, inspect, list, remove, connect, disconnect."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, overload

import msgspec

from .._session import EngineSession, JSONObject, QueryValue, answer_type
from .._validate import (
    Filters,
    check_identifier,
    check_name,
    normalize_filters,
    only_the_request,
)
from ..models import (
    IPAM,
    EndpointSettings,
    Network,
    NetworkConnectRequest,
    NetworkCreateRequest,
    NetworkCreateResponse,
    NetworkDisconnectRequest,
    NetworkPruneResponse,
)

__all__ = ["NetworksAPI"]

NetworkList = list[Network]


class NetworksAPI:
    """``/networks/...`` endpoints. Reached as ``client.networks``."""

    def __init__(self, session: EngineSession) -> None:
        self._session = session

    async def create(
        self,
        name: str | NetworkCreateRequest,
        *,
        driver: str = "bridge",
        labels: Mapping[str, str] | None = None,
        internal: bool = False,
        attachable: bool = False,
        enable_ipv6: bool = False,
        ipam: IPAM | None = None,
        options: Mapping[str, str] | None = None,
        check_duplicate: bool = True,
    ) -> NetworkCreateResponse:
        """``POST /networks/create``.

        Like every ``create``, it takes the API's request model
        (``create(NetworkCreateRequest(name="web", driver="bridge"))``), or keywords that
        build it.

        Args:
            name: ``[a-zA-Z0-9][a-zA-Z0-9_.-]+``, or the whole :class:`NetworkCreateRequest`
                (then no other keyword).
            driver: the network driver (``bridge`` for a user-defined bridge).
            labels: metadata, e.g. ``{"lightshuttle.project": "web"}``.
            internal: no access to outside networks.
            ipam: subnets and gateways; default: the engine picks a free subnet.
            options: driver options (``com.docker.network.bridge.name``...).
            check_duplicate: refuse a name already in use (best effort on old Docker; always
                checked since API 1.44 and by Podman).

        Returns:
            The new network's id (and the engine's warning, often ``""``).

        Raises:
            InvalidArgumentError: the name would be rejected (checked before sending), or
                keywords were given beside a request model.
            ConflictError: a network has this name (Docker 409, Podman 500).
            NotFoundError: no such driver plugin.
        """
        if isinstance(name, NetworkCreateRequest):
            only_the_request(
                name,
                {
                    "driver": (driver, "bridge"),
                    "labels": (labels, None),
                    "internal": (internal, False),
                    "attachable": (attachable, False),
                    "enable_ipv6": (enable_ipv6, False),
                    "ipam": (ipam, None),
                    "options": (options, None),
                    "check_duplicate": (check_duplicate, True),
                },
            )
            check_name(name.name, what="network name")
            return await self._session.request_json(
                "POST", "/networks/create", NetworkCreateResponse, json=name
            )
        request = NetworkCreateRequest(
            name=check_name(name, what="network name"),
            check_duplicate=check_duplicate or None,
            driver=driver,
            internal=internal or None,
            attachable=attachable or None,
            enable_ipv6=enable_ipv6 or None,
            ipam=ipam,
            options=dict(options) if options else None,
            labels=dict(labels) if labels else None,
        )
        return await self._session.request_json(
            "POST", "/networks/create", NetworkCreateResponse, json=request
        )

    @overload
    async def inspect(
        self,
        network: str,
        *,
        verbose: bool = ...,
        scope: str | None = ...,
        raw: Literal[False] = False,
    ) -> Network: ...
    @overload
    async def inspect(
        self, network: str, *, verbose: bool = ..., scope: str | None = ..., raw: Literal[True]
    ) -> JSONObject: ...
    async def inspect(
        self, network: str, *, verbose: bool = False, scope: str | None = None, raw: bool = False
    ) -> Network | JSONObject:
        """``GET /networks/{id}``: the network with its attached containers.

        The engine resolves ``network`` as a full id, then a name, then an id prefix: compare
        :attr:`Network.name` if an exact name is required.

        Args:
            verbose: detailed output for troubleshooting (swarm services).
            scope: only match a network of this scope (``local``, ``global``, ``swarm``).
            raw: return the engine's JSON as a ``dict`` instead of the model.

        Raises:
            NotFoundError: no such network.
            DecodeError: the answer does not match :class:`Network`.
        """
        params: dict[str, QueryValue] = {"verbose": verbose or None, "scope": scope}
        return await self._session.request_json(
            "GET", f"/networks/{_network(network)}", answer_type(Network, raw), params=params
        )

    @overload
    async def list(
        self, *, filters: Filters | None = ..., raw: Literal[False] = False
    ) -> NetworkList: ...
    @overload
    async def list(
        self, *, filters: Filters | None = ..., raw: Literal[True]
    ) -> list[JSONObject]: ...
    async def list(
        self, *, filters: Filters | None = None, raw: bool = False
    ) -> NetworkList | list[JSONObject]:
        """``GET /networks``: every network (without their containers).

        Args:
            filters: e.g. ``{"label": ["lightshuttle.project=web"]}``, ``{"driver": "bridge"}``,
                ``{"type": "custom"}``. ``name`` and ``id`` match a *part* of the name/id.
            raw: return the engine's JSON as dicts instead of the model.

        Raises:
            InvalidArgumentError: a filter value is not a string or list of strings.
        """
        return await self._session.request_json(
            "GET",
            "/networks",
            answer_type(NetworkList, raw),
            params={"filters": normalize_filters(filters)},
        )

    async def remove(self, network: str, *, missing_ok: bool = False) -> None:
        """``DELETE /networks/{id}``.

        Args:
            missing_ok: a network that does not exist counts as removed.

        Raises:
            NotFoundError: no such network (unless ``missing_ok``).
            EngineError: containers are still attached (Docker 403 "has active endpoints",
                Podman 500 "network is being used" — but Podman 4.3 removes a network named
                *by id* even while containers use it), or it is a predefined network (403).
        """
        await self._session.delete(f"/networks/{_network(network)}", missing_ok=missing_ok)

    async def connect(
        self,
        network: str,
        container: str,
        *,
        aliases: Sequence[str] | None = None,
        endpoint_config: EndpointSettings | None = None,
    ) -> None:
        """``POST /networks/{id}/connect``: attach a container.

        Args:
            aliases: extra DNS names of the container on this network (merged into
                ``endpoint_config``).

        Raises:
            NotFoundError: no such network or container.
            EngineError: the container is already attached, or the network refuses it (403).
        """
        config = endpoint_config
        if aliases:
            base = endpoint_config or EndpointSettings()
            config = msgspec.structs.replace(base, aliases=[*(base.aliases or ()), *aliases])
        body = NetworkConnectRequest(container=check_identifier(container), endpoint_config=config)
        await self._post_json(f"/networks/{_network(network)}/connect", body)

    async def disconnect(self, network: str, container: str, *, force: bool = False) -> None:
        """``POST /networks/{id}/disconnect``: detach a container.

        Raises:
            NotFoundError: no such network or container.
            EngineError: the container is not attached to it.
        """
        body = NetworkDisconnectRequest(container=check_identifier(container), force=force or None)
        await self._post_json(f"/networks/{_network(network)}/disconnect", body)

    async def prune(self, *, filters: Filters | None = None) -> NetworkPruneResponse:
        """``POST /networks/prune``: remove every unused custom network matching ``filters``.

        Since API 1.25. ``filters``: ``until`` (a time or duration), ``label``
        (``"key"``/``"key=value"``), ``label!``. Without filters this removes **every** unused
        network of the engine (predefined ones are kept).

        Raises:
            InvalidArgumentError: a filter value is not a string or list of strings.
        """
        return await self._session.request_json(
            "POST",
            "/networks/prune",
            NetworkPruneResponse,
            params={"filters": normalize_filters(filters)},
        )

    async def _post_json(self, path: str, body: msgspec.Struct) -> None:
        await self._session.send("POST", path, json=body)


def _network(value: str) -> str:
    return check_identifier(value, what="network id or name")

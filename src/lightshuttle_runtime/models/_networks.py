"""Models of the network endpoints (``/networks/...``), API 1.41 on."""

from __future__ import annotations

import msgspec

from ._base import Model
from ._containers import EndpointSettings

__all__ = [
    "IPAM",
    "IPAMConfig",
    "Network",
    "NetworkConnectRequest",
    "NetworkContainer",
    "NetworkCreateRequest",
    "NetworkCreateResponse",
    "NetworkDisconnectRequest",
]


class IPAMConfig(Model):
    """One address pool: ``subnet``/``ip_range`` in CIDR form, ``gateway`` an address."""

    subnet: str | None = None
    ip_range: str | None = msgspec.field(default=None, name="IPRange")
    gateway: str | None = None
    auxiliary_addresses: dict[str, str] | None = None


class IPAM(Model):
    """A network's IP address management: the driver (``default``) and its pools."""

    driver: str | None = None
    config: list[IPAMConfig] | None = None
    options: dict[str, str] | None = None


class NetworkContainer(Model):
    """A container's endpoint on a network (``Network.Containers`` values).

    Addresses are CIDR strings (``172.19.0.2/16``); Podman leaves ``endpoint_id`` empty.
    """

    name: str | None = None
    endpoint_id: str | None = msgspec.field(default=None, name="EndpointID")
    mac_address: str | None = None
    ipv4_address: str | None = msgspec.field(default=None, name="IPv4Address")
    ipv6_address: str | None = msgspec.field(default=None, name="IPv6Address")


class Network(Model):
    """A network, as inspect and list answer it (list leaves ``containers`` empty).

    ``created`` is an RFC3339Nano string; ``scope`` is ``local``, ``global`` or ``swarm``;
    ``containers`` maps a container id to its endpoint.
    """

    name: str
    id: str
    created: str | None = None
    scope: str | None = None
    driver: str | None = None
    enable_ipv6: bool = msgspec.field(default=False, name="EnableIPv6")
    ipam: IPAM | None = msgspec.field(default=None, name="IPAM")
    internal: bool = False
    attachable: bool = False
    ingress: bool = False
    config_only: bool = False
    containers: dict[str, NetworkContainer] | None = None
    options: dict[str, str] | None = None
    labels: dict[str, str] | None = None


class NetworkCreateRequest(Model):
    """The ``POST /networks/create`` body.

    ``check_duplicate`` asks the engine to refuse a name in use (deprecated in API 1.44,
    where the check always happens).
    """

    name: str
    check_duplicate: bool | None = None
    driver: str | None = None
    internal: bool | None = None
    attachable: bool | None = None
    enable_ipv6: bool | None = msgspec.field(default=None, name="EnableIPv6")
    ipam: IPAM | None = msgspec.field(default=None, name="IPAM")
    options: dict[str, str] | None = None
    labels: dict[str, str] | None = None


class NetworkCreateResponse(Model):
    """``201`` answer of ``POST /networks/create``: the id, and a warning (often ``""``)."""

    id: str
    warning: str | None = None


class NetworkConnectRequest(Model):
    """The ``POST /networks/{id}/connect`` body."""

    container: str
    endpoint_config: EndpointSettings | None = None


class NetworkDisconnectRequest(Model):
    """The ``POST /networks/{id}/disconnect`` body."""

    container: str
    force: bool | None = None

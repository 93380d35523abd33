"""Models of the network endpoints (``/networks/...``), API 1.41 on."""

from __future__ import annotations

import msgspec

from ._base import Model, Timestamp
from ._containers import EndpointSettings

__all__ = [
    "IPAM",
    "IPAMConfig",
    "Network",
    "NetworkConfigReference",
    "NetworkConnectRequest",
    "NetworkContainer",
    "NetworkCreateRequest",
    "NetworkCreateResponse",
    "NetworkDisconnectRequest",
    "NetworkPruneResponse",
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

    name: str = ""
    endpoint_id: str = msgspec.field(default="", name="EndpointID")
    mac_address: str = ""
    ipv4_address: str = msgspec.field(default="", name="IPv4Address")
    ipv6_address: str = msgspec.field(default="", name="IPv6Address")


class NetworkConfigReference(Model):
    """``ConfigFrom``: the config-only network this one takes its configuration from."""

    network: str = ""


class Network(Model):
    """A network, as inspect and list answer it (list leaves ``containers`` empty).

    ``scope`` is ``local``, ``global`` or ``swarm``; ``containers`` maps a container id to its
    endpoint; ``enable_ipv4`` since API 1.48 (Docker 28; others: ``None``).
    """

    name: str
    id: str
    created: Timestamp = None
    scope: str = ""
    driver: str = ""
    enable_ipv4: bool | None = msgspec.field(default=None, name="EnableIPv4")
    enable_ipv6: bool = msgspec.field(default=False, name="EnableIPv6")
    ipam: IPAM | None = msgspec.field(default=None, name="IPAM")
    internal: bool = False
    attachable: bool = False
    ingress: bool = False
    config_from: NetworkConfigReference | None = None
    config_only: bool = False
    containers: dict[str, NetworkContainer] | None = None
    options: dict[str, str] | None = None
    labels: dict[str, str] | None = None


class NetworkCreateRequest(Model):
    """The ``POST /networks/create`` body.

    ``check_duplicate`` asks the engine to refuse a name in use (deprecated in API 1.44,
    where the check always happens); ``enable_ipv4`` since API 1.48.
    """

    name: str
    check_duplicate: bool | None = None
    driver: str | None = None
    scope: str | None = None
    internal: bool | None = None
    attachable: bool | None = None
    ingress: bool | None = None
    config_only: bool | None = None
    config_from: NetworkConfigReference | None = None
    enable_ipv4: bool | None = msgspec.field(default=None, name="EnableIPv4")
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


class NetworkPruneResponse(Model):
    """``POST /networks/prune`` answer: the names of the networks removed."""

    networks_deleted: list[str] | None = None

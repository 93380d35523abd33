"""Models of the system endpoints (``/_ping``, ``/version``)."""

from __future__ import annotations

import msgspec

from ._base import Model, Timestamp

__all__ = ["ComponentVersion", "PingInfo", "PlatformName", "SystemVersion"]


class PingInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What ``GET /_ping`` tells in its headers.

    ``api_version`` is the engine's maximum API version; ``os_type`` is absent on Podman;
    ``builder_version`` and ``swarm`` since API 1.42.
    """

    api_version: str | None
    os_type: str | None = None
    server: str | None = None
    experimental: bool = False
    builder_version: str | None = None
    swarm: str | None = None


class ComponentVersion(Model):
    """One component of ``/version`` (``Engine``, ``containerd``, Podman's ``Podman Engine``)."""

    name: str
    version: str
    details: dict[str, object] | None = None


class PlatformName(Model):
    """``Platform`` of ``/version``: the product's name (Docker: often ``""``)."""

    name: str = ""


class SystemVersion(Model):
    """``GET /version``: engine version, API range (``min_api_version`` since 1.25), platform.

    ``build_time`` is when the engine was built (Podman packages without a date: 1970).
    """

    platform: PlatformName | None = None
    components: list[ComponentVersion] = msgspec.field(default_factory=list)
    version: str = ""
    api_version: str = ""
    min_api_version: str = msgspec.field(default="", name="MinAPIVersion")
    git_commit: str = ""
    go_version: str = ""
    os: str = ""
    arch: str = ""
    kernel_version: str = ""
    experimental: bool = False
    build_time: Timestamp = None

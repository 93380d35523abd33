"""Models of the system endpoints (``/_ping``, ``/version``)."""

from __future__ import annotations

import msgspec

from ._base import Model

__all__ = ["ComponentVersion", "PingInfo", "SystemVersion"]


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


class SystemVersion(Model):
    """``GET /version``: engine version, API range (``min_api_version`` since 1.25), platform."""

    version: str = ""
    api_version: str = ""
    min_api_version: str | None = msgspec.field(default=None, name="MinAPIVersion")
    os: str | None = None
    arch: str | None = None
    kernel_version: str | None = None
    git_commit: str | None = None
    go_version: str | None = None
    components: list[ComponentVersion] | None = None

"""Models of the system endpoints (``/_ping``, ``/version``)."""

from __future__ import annotations

import msgspec

from ._base import Model, Timestamp
from ._containers import ContainerSummary
from ._images import ImageSummary
from ._volumes import Volume

__all__ = [
    "BuildCacheRecord",
    "ComponentVersion",
    "LoginResponse",
    "PingInfo",
    "PlatformName",
    "SystemDataUsage",
    "SystemInfo",
    "SystemVersion",
]


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


class SystemInfo(Model):
    """``GET /info``: the engine's host, storage and counts (the fields users look at).

    ``mem_total`` and ``memory_limit``-style flags describe the host (bytes; booleans tell
    whether the kernel supports the limit); ``ncpu`` the host's CPUs; ``driver_status`` the
    storage driver's ``[name, value]`` pairs; ``cgroup_version`` ``"1"`` or ``"2"`` (API 1.40);
    ``system_time`` the engine's clock. Podman fills the Docker-compatible subset (no
    ``Plugins``/``Swarm``). Fields not modelled here: ``client.request("GET", "/info")``.
    """

    id: str = msgspec.field(default="", name="ID")
    name: str = ""
    containers: int = 0
    containers_running: int = 0
    containers_paused: int = 0
    containers_stopped: int = 0
    images: int = 0
    driver: str = ""
    driver_status: list[list[str]] | None = None
    docker_root_dir: str = ""
    memory_limit: bool = False
    swap_limit: bool = False
    cpu_cfs_period: bool = False
    cpu_cfs_quota: bool = False
    cpu_shares: bool = msgspec.field(default=False, name="CPUShares")
    cpu_set: bool = msgspec.field(default=False, name="CPUSet")
    pids_limit: bool = False
    oom_kill_disable: bool = False
    debug: bool = False
    system_time: Timestamp = None
    logging_driver: str = ""
    cgroup_driver: str = ""
    cgroup_version: str = ""
    kernel_version: str = ""
    operating_system: str = ""
    os_version: str = msgspec.field(default="", name="OSVersion")
    os_type: str = msgspec.field(default="", name="OSType")
    architecture: str = ""
    ncpu: int = msgspec.field(default=0, name="NCPU")
    mem_total: int = 0
    index_server_address: str = ""
    http_proxy: str = ""
    https_proxy: str = ""
    no_proxy: str = ""
    labels: list[str] | None = None
    experimental_build: bool = False
    server_version: str = ""
    default_runtime: str = ""
    live_restore_enabled: bool = False
    security_options: list[str] | None = None
    warnings: list[str] | None = None


class BuildCacheRecord(Model):
    """One entry of ``BuildCache`` in ``GET /system/df``: a BuildKit cache record.

    ``type`` is ``regular``, ``source.local``, ``exec.cachemount``...; ``size`` in bytes.
    """

    id: str = msgspec.field(default="", name="ID")
    parent: str | None = None
    type: str = ""
    description: str = ""
    in_use: bool = False
    shared: bool = False
    size: int = 0
    created_at: Timestamp = None
    last_used_at: Timestamp = None
    usage_count: int = 0


class SystemDataUsage(Model):
    """``GET /system/df``: disk usage by images, containers, volumes and build cache.

    ``layers_size`` in bytes; each volume's ``usage_data`` says its size (``-1`` when not
    computed). Podman sends no build cache (``[]``).
    """

    layers_size: int = 0
    images: list[ImageSummary] | None = None
    containers: list[ContainerSummary] | None = None
    volumes: list[Volume] | None = None
    build_cache: list[BuildCacheRecord] | None = None


class LoginResponse(Model):
    """``POST /auth``: ``status`` (``"Login Succeeded"``) and, when the registry gives one,
    an ``identity_token`` to use instead of the password (``""`` for basic-auth registries).
    Its ``repr`` leaves the token out."""

    status: str = ""
    identity_token: str = msgspec.field(default="", name="IdentityToken")

    def __repr__(self) -> str:
        token = ", identity_token=<hidden>" if self.identity_token else ""
        return f"LoginResponse(status={self.status!r}{token})"

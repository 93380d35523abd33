"""Models of the container endpoints (``/containers/...``), from the v1.41 spec on.

Request models (the create body and what it nests: ``ContainerConfig``, ``HostConfig``,
``Mount``...) default every field to ``None``, which is not sent. Answer-only models
(``ContainerInspect``, ``ContainerState``, ``MountPoint``, ``ContainerSummary``...) make a field
``Optional`` only where an engine may leave it out or send ``null`` (checked against Docker
20.10, Docker 28.5 and Podman 4.3: ``tests/models/data``); the others default to the value Go
writes for "unset" (``""``, ``0``, ``[]``), so partial answers still decode.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import msgspec

from ._base import Model, Timestamp

__all__ = [
    "Address",
    "BindOptions",
    "BlkioEntry",
    "BlkioStats",
    "CPUStats",
    "CPUUsage",
    "ChangeKind",
    "ContainerConfig",
    "ContainerCreateRequest",
    "ContainerCreateResponse",
    "ContainerInspect",
    "ContainerPruneResponse",
    "ContainerState",
    "ContainerStats",
    "ContainerSummary",
    "ContainerSummaryHostConfig",
    "ContainerSummaryNetworkSettings",
    "ContainerTopResponse",
    "ContainerUpdateRequest",
    "ContainerUpdateResponse",
    "ContainerWaitExitError",
    "ContainerWaitResponse",
    "DeviceMapping",
    "DeviceRequest",
    "DriverData",
    "EndpointIPAMConfig",
    "EndpointSettings",
    "FilesystemChange",
    "Health",
    "HealthConfig",
    "HealthSummary",
    "HealthcheckResult",
    "HostConfig",
    "ImageMountOptions",
    "LogConfig",
    "MemoryStats",
    "Mount",
    "MountPoint",
    "NetworkSettings",
    "NetworkStats",
    "NetworkingConfig",
    "PidsStats",
    "Port",
    "PortBinding",
    "RestartPolicy",
    "ThrottleDevice",
    "ThrottlingData",
    "TmpfsOptions",
    "Ulimit",
    "VolumeDriverConfig",
    "VolumeOptions",
    "WeightDevice",
]


class HealthConfig(Model):
    """``Config.Healthcheck``: how the engine probes the container.

    ``test`` is ``[]`` (inherit), ``["NONE"]``, ``["CMD", arg...]`` or ``["CMD-SHELL", cmd]``.
    Durations are int **nanoseconds**: 0 inherits, otherwise at least 1,000,000 (1 ms).
    ``start_period`` since API 1.29, ``start_interval`` since 1.44.
    """

    test: list[str] | None = None
    interval: int | None = None
    timeout: int | None = None
    retries: int | None = None
    start_period: int | None = None
    start_interval: int | None = None


class ContainerConfig(Model):
    """The portable part of a container's configuration (``POST /containers/create`` body).

    ``env`` holds ``"KEY=value"`` strings; ``exposed_ports`` and ``volumes`` map ``"80/tcp"`` /
    a path to ``{}``; ``stop_timeout`` is in **seconds**; ``mac_address`` is deprecated in API
    1.44 (set it per network in ``EndpointSettings``). ``args_escaped`` and ``on_build`` come
    from the image.
    """

    hostname: str | None = None
    domainname: str | None = None
    user: str | None = None
    attach_stdin: bool | None = None
    attach_stdout: bool | None = None
    attach_stderr: bool | None = None
    exposed_ports: dict[str, dict[str, object]] | None = None
    tty: bool | None = None
    open_stdin: bool | None = None
    stdin_once: bool | None = None
    env: list[str] | None = None
    cmd: list[str] | None = None
    healthcheck: HealthConfig | None = None
    args_escaped: bool | None = None
    image: str | None = None
    volumes: dict[str, dict[str, object]] | None = None
    working_dir: str | None = None
    entrypoint: list[str] | None = None
    network_disabled: bool | None = None
    mac_address: str | None = None
    on_build: list[str] | None = None
    labels: dict[str, str] | None = None
    stop_signal: str | None = None
    stop_timeout: int | None = None
    shell: list[str] | None = None


class PortBinding(Model):
    """One host binding of a container port; ``host_port`` is a string as in the API."""

    host_ip: str | None = msgspec.field(default=None, name="HostIp")
    host_port: str | None = None


class RestartPolicy(Model):
    """``name`` is ``""``, ``no``, ``always``, ``unless-stopped`` or ``on-failure``;
    ``maximum_retry_count`` applies to ``on-failure``."""

    name: str | None = None
    maximum_retry_count: int | None = None


class BindOptions(Model):
    """``Mount.BindOptions``: ``propagation`` is ``private``, ``rprivate``, ``shared``,
    ``rshared``, ``slave`` or ``rslave``; ``non_recursive`` skips submounts (API 1.40);
    ``create_mountpoint`` makes a missing host path (API 1.42); ``read_only_non_recursive`` /
    ``read_only_force_recursive`` choose how a read-only bind treats submounts (API 1.44)."""

    propagation: str | None = None
    non_recursive: bool | None = None
    create_mountpoint: bool | None = None
    read_only_non_recursive: bool | None = None
    read_only_force_recursive: bool | None = None


class VolumeDriverConfig(Model):
    """``Mount.VolumeOptions.DriverConfig``: the volume driver and its options."""

    name: str | None = None
    options: dict[str, str] | None = None


class VolumeOptions(Model):
    """``Mount.VolumeOptions``: ``no_copy`` leaves the new volume empty (no image data);
    ``subpath`` mounts a relative path inside the volume (API 1.45)."""

    no_copy: bool | None = None
    labels: dict[str, str] | None = None
    driver_config: VolumeDriverConfig | None = None
    subpath: str | None = None


class ImageMountOptions(Model):
    """``Mount.ImageOptions`` (``type="image"``, API 1.48): a relative path inside the image."""

    subpath: str | None = None


class TmpfsOptions(Model):
    """``Mount.TmpfsOptions``: ``size_bytes`` in bytes; ``mode`` the POSIX permission bits;
    ``options`` extra mount options, each ``[flag]`` or ``[name, value]`` (API 1.46)."""

    size_bytes: int | None = None
    mode: int | None = None
    options: list[list[str]] | None = None


class Mount(Model):
    """A mount in ``HostConfig.Mounts``: ``type`` is ``bind``, ``volume``, ``tmpfs``, ``npipe``,
    ``cluster`` or ``image`` (API 1.48).

    ``type`` has no default: both engines reject a mount without one, and a default would
    be left out of the body. ``consistency`` is ``default``, ``consistent``, ``cached`` or
    ``delegated`` (macOS only).
    """

    target: str
    type: str
    source: str | None = None
    read_only: bool | None = None
    consistency: str | None = None
    bind_options: BindOptions | None = None
    volume_options: VolumeOptions | None = None
    tmpfs_options: TmpfsOptions | None = None
    image_options: ImageMountOptions | None = None


class LogConfig(Model):
    """``HostConfig.LogConfig``: the log driver (``json-file``, ``journald``, ``none``...)
    and its options (``{"max-size": "10m"}``; Podman sends ``null`` for none)."""

    type: str | None = None
    config: dict[str, str] | None = None


class WeightDevice(Model):
    """A block device's relative weight (``BlkioWeightDevice``), 10 to 1000."""

    path: str | None = None
    weight: int | None = None


class ThrottleDevice(Model):
    """A block device limit: ``rate`` in bytes (``...Bps``) or operations (``...IOps``) per
    second."""

    path: str | None = None
    rate: int | None = None


class DeviceMapping(Model):
    """A host device in the container; ``cgroup_permissions`` is a mix of ``r``, ``w``, ``m``."""

    path_on_host: str | None = None
    path_in_container: str | None = None
    cgroup_permissions: str | None = None


class DeviceRequest(Model):
    """A request for devices from a driver (``nvidia``): ``count`` -1 for all, or
    ``device_ids``; ``capabilities`` is a list of alternatives, each a list of capabilities."""

    driver: str | None = None
    count: int | None = None
    device_ids: list[str] | None = msgspec.field(default=None, name="DeviceIDs")
    capabilities: list[list[str]] | None = None
    options: dict[str, str] | None = None


class Ulimit(Model):
    """A resource limit (``nofile``, ``nproc``...): soft and hard values."""

    name: str | None = None
    soft: int | None = None
    hard: int | None = None


class HostConfig(Model):
    """The host-dependent part of a container's configuration.

    Resources: ``memory``, ``memory_reservation``, ``memory_swap`` (memory + swap, -1
    unlimited), ``kernel_memory_tcp`` and ``shm_size`` in **bytes**; ``nano_cpus`` in
    10⁻⁹ CPUs; ``cpu_period``, ``cpu_quota``, ``cpu_realtime_period`` and
    ``cpu_realtime_runtime`` in **microseconds**; ``cpu_shares`` a relative weight;
    ``pids_limit`` 0 or -1 for unlimited (Docker sends ``null``); ``memory_swappiness``
    0-100; ``kernel_memory`` is gone in API 1.42 and ``kernel_memory_tcp`` in 1.45;
    ``cpu_count``, ``cpu_percent``, ``io_maximum_iops`` and ``io_maximum_bandwidth`` are
    Windows-only.

    Everything else: ``binds`` are ``"src:dst[:opts]"`` strings; ``port_bindings`` maps
    ``"80/tcp"`` to its host bindings; ``extra_hosts`` are ``"name:address"`` lines for
    ``/etc/hosts``; ``cap_add``/``cap_drop`` kernel capabilities (``NET_ADMIN``);
    ``security_opt`` strings like ``no-new-privileges`` or ``seccomp=unconfined``; ``tmpfs``
    maps a path to its mount options; ``console_size`` is ``[height, width]``. Podman leaves
    out ``mounts`` (it reports them in ``ContainerInspect.mounts`` and ``tmpfs``) and ``init``.
    ``annotations`` since API 1.43.
    """

    # Resources
    cpu_shares: int | None = None
    memory: int | None = None
    cgroup_parent: str | None = None
    blkio_weight: int | None = None
    blkio_weight_device: list[WeightDevice] | None = None
    blkio_device_read_bps: list[ThrottleDevice] | None = None
    blkio_device_write_bps: list[ThrottleDevice] | None = None
    blkio_device_read_iops: list[ThrottleDevice] | None = msgspec.field(
        default=None, name="BlkioDeviceReadIOps"
    )
    blkio_device_write_iops: list[ThrottleDevice] | None = msgspec.field(
        default=None, name="BlkioDeviceWriteIOps"
    )
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpu_realtime_period: int | None = None
    cpu_realtime_runtime: int | None = None
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    devices: list[DeviceMapping] | None = None
    device_cgroup_rules: list[str] | None = None
    device_requests: list[DeviceRequest] | None = None
    kernel_memory: int | None = None
    kernel_memory_tcp: int | None = msgspec.field(default=None, name="KernelMemoryTCP")
    memory_reservation: int | None = None
    memory_swap: int | None = None
    memory_swappiness: int | None = None
    nano_cpus: int | None = None
    oom_kill_disable: bool | None = None
    init: bool | None = None
    pids_limit: int | None = None
    ulimits: list[Ulimit] | None = None
    cpu_count: int | None = None
    cpu_percent: int | None = None
    io_maximum_iops: int | None = msgspec.field(default=None, name="IOMaximumIOps")
    io_maximum_bandwidth: int | None = msgspec.field(default=None, name="IOMaximumBandwidth")
    # The rest of HostConfig
    binds: list[str] | None = None
    container_id_file: str | None = msgspec.field(default=None, name="ContainerIDFile")
    log_config: LogConfig | None = None
    network_mode: str | None = None
    port_bindings: dict[str, list[PortBinding] | None] | None = None
    restart_policy: RestartPolicy | None = None
    auto_remove: bool | None = None
    volume_driver: str | None = None
    volumes_from: list[str] | None = None
    mounts: list[Mount] | None = None
    cap_add: list[str] | None = None
    cap_drop: list[str] | None = None
    cgroupns_mode: str | None = None
    dns: list[str] | None = None
    dns_options: list[str] | None = None
    dns_search: list[str] | None = None
    extra_hosts: list[str] | None = None
    group_add: list[str] | None = None
    ipc_mode: str | None = None
    cgroup: str | None = None
    links: list[str] | None = None
    oom_score_adj: int | None = None
    pid_mode: str | None = None
    privileged: bool | None = None
    publish_all_ports: bool | None = None
    readonly_rootfs: bool | None = None
    security_opt: list[str] | None = None
    storage_opt: dict[str, str] | None = None
    tmpfs: dict[str, str] | None = None
    uts_mode: str | None = msgspec.field(default=None, name="UTSMode")
    userns_mode: str | None = None
    shm_size: int | None = None
    sysctls: dict[str, str] | None = None
    runtime: str | None = None
    console_size: list[int] | None = None
    isolation: str | None = None
    masked_paths: list[str] | None = None
    readonly_paths: list[str] | None = None
    annotations: dict[str, str] | None = None


class EndpointIPAMConfig(Model):
    """Static addresses asked for on one network."""

    ipv4_address: str | None = msgspec.field(default=None, name="IPv4Address")
    ipv6_address: str | None = msgspec.field(default=None, name="IPv6Address")
    link_local_ips: list[str] | None = msgspec.field(default=None, name="LinkLocalIPs")


class EndpointSettings(Model):
    """A container's settings on one network: asked for in a create or connect body,
    reported by inspect.

    ``aliases`` are extra DNS names; ``ip_prefix_len`` / ``global_ipv6_prefix_len`` are the
    subnets' prefix lengths (``16`` for ``/16``); ``dns_names`` (API 1.44) every name the
    container answers to there; ``gw_priority`` (API 1.48) picks the default gateway among
    networks. Podman leaves ``endpoint_id`` empty.
    """

    ipam_config: EndpointIPAMConfig | None = msgspec.field(default=None, name="IPAMConfig")
    links: list[str] | None = None
    mac_address: str | None = None
    aliases: list[str] | None = None
    driver_opts: dict[str, str] | None = None
    gw_priority: int | None = None
    network_id: str | None = msgspec.field(default=None, name="NetworkID")
    endpoint_id: str | None = msgspec.field(default=None, name="EndpointID")
    gateway: str | None = None
    ip_address: str | None = msgspec.field(default=None, name="IPAddress")
    ip_prefix_len: int | None = msgspec.field(default=None, name="IPPrefixLen")
    ipv6_gateway: str | None = msgspec.field(default=None, name="IPv6Gateway")
    global_ipv6_address: str | None = msgspec.field(default=None, name="GlobalIPv6Address")
    global_ipv6_prefix_len: int | None = msgspec.field(default=None, name="GlobalIPv6PrefixLen")
    dns_names: list[str] | None = msgspec.field(default=None, name="DNSNames")


class NetworkingConfig(Model):
    """``NetworkingConfig`` of a create body: network name → endpoint settings."""

    endpoints_config: dict[str, EndpointSettings] | None = None


class ContainerCreateRequest(ContainerConfig):
    """The full ``POST /containers/create`` body: ContainerConfig plus host and network config."""

    host_config: HostConfig | None = None
    networking_config: NetworkingConfig | None = None


class ContainerCreateResponse(Model):
    """``201`` answer of ``POST /containers/create``."""

    id: str
    warnings: list[str] | None = None


class HealthcheckResult(Model):
    """One health probe: ``exit_code`` 0 healthy, 1 unhealthy; when it started and ended."""

    start: Timestamp = None
    end: Timestamp = None
    exit_code: int = 0
    output: str = ""


class Health(Model):
    """``State.Health``: ``status`` is ``none``, ``starting``, ``healthy`` or ``unhealthy``
    (Podman: ``""`` before the first check); ``log`` the last probes, oldest first (Podman
    sends ``null`` before the first one)."""

    status: str = ""
    failing_streak: int = 0
    log: list[HealthcheckResult] | None = None


class ContainerState(Model):
    """``State`` of an inspected container.

    ``status`` is ``created``, ``running``, ``paused``, ``restarting``, ``removing``,
    ``exited`` or ``dead``; ``started_at``/``finished_at`` are ``None`` until it has started /
    finished (the engine's zero time); ``pid`` is 0 when not running; ``health`` is present
    only with a health check (its own or its image's).
    """

    status: str = ""
    running: bool = False
    paused: bool = False
    restarting: bool = False
    oom_killed: bool = msgspec.field(default=False, name="OOMKilled")
    dead: bool = False
    pid: int = 0
    exit_code: int = 0
    error: str = ""
    started_at: Timestamp = None
    finished_at: Timestamp = None
    health: Health | None = None


class MountPoint(Model):
    """A mount as reported by inspect and list.

    ``type`` is ``bind``, ``volume``, ``tmpfs``, ``npipe`` or ``cluster``; ``name`` and
    ``driver`` are a volume's; ``mode`` the options as written in ``binds`` (``"ro,z"``, often
    ``""``); ``rw`` false for a read-only mount; ``propagation`` a bind's (``rprivate``;
    Docker sends ``""`` for tmpfs and volumes).
    """

    type: str = ""
    name: str | None = None
    source: str = ""
    destination: str = ""
    driver: str | None = None
    mode: str = ""
    rw: bool = msgspec.field(default=False, name="RW")
    propagation: str = ""


class Address(Model):
    """An address and its prefix length (``NetworkSettings.SecondaryIPAddresses``)."""

    addr: str = ""
    prefix_len: int = 0


class NetworkSettings(Model):
    """``NetworkSettings`` of an inspected container.

    ``networks`` maps each network's name to the container's endpoint there (its address,
    gateway, MAC address, prefix lengths); ``ports`` maps ``"80/tcp"`` to the host bindings
    in use (``None`` for an exposed port that is not published). The top-level address
    fields are the default bridge network's, deprecated since API 1.44 and gone in 1.52:
    read them from ``networks``.
    """

    sandbox_id: str = msgspec.field(default="", name="SandboxID")
    sandbox_key: str = ""
    ports: dict[str, list[PortBinding] | None] | None = None
    networks: dict[str, EndpointSettings] = msgspec.field(default_factory=dict)
    bridge: str | None = None
    hairpin_mode: bool | None = None
    link_local_ipv6_address: str | None = msgspec.field(default=None, name="LinkLocalIPv6Address")
    link_local_ipv6_prefix_len: int | None = msgspec.field(
        default=None, name="LinkLocalIPv6PrefixLen"
    )
    secondary_ip_addresses: list[Address] | None = msgspec.field(
        default=None, name="SecondaryIPAddresses"
    )
    secondary_ipv6_addresses: list[Address] | None = msgspec.field(
        default=None, name="SecondaryIPv6Addresses"
    )
    endpoint_id: str | None = msgspec.field(default=None, name="EndpointID")
    gateway: str | None = None
    global_ipv6_address: str | None = msgspec.field(default=None, name="GlobalIPv6Address")
    global_ipv6_prefix_len: int | None = msgspec.field(default=None, name="GlobalIPv6PrefixLen")
    ip_address: str | None = msgspec.field(default=None, name="IPAddress")
    ip_prefix_len: int | None = msgspec.field(default=None, name="IPPrefixLen")
    ipv6_gateway: str | None = msgspec.field(default=None, name="IPv6Gateway")
    mac_address: str | None = None


class DriverData(Model):
    """The storage driver's name and its details (``GraphDriver``: ``overlay2`` and the
    layer directories)."""

    name: str = ""
    data: dict[str, str] | None = None


class ContainerInspect(Model):
    """``GET /containers/{id}/json``: a container's configuration and state.

    ``name`` keeps the engine's leading ``/``; ``path`` and ``args`` are the command being run
    (entrypoint and command joined); ``image`` is the image's id (``sha256:...``);
    ``log_path`` the json-file log on the host (``""`` with other log drivers);
    ``restart_count`` how often the restart policy restarted it; ``exec_ids`` its exec
    instances (Docker: ``None`` when there are none); ``size_rw`` / ``size_root_fs`` in bytes,
    only when asked for (``size=true``; Podman always sends ``size_root_fs``); ``platform``
    is ``linux``.
    """

    id: str
    created: Timestamp = None
    path: str = ""
    args: list[str] = msgspec.field(default_factory=list)
    state: ContainerState = msgspec.field(default_factory=ContainerState)
    image: str = ""
    resolv_conf_path: str = ""
    hostname_path: str = ""
    hosts_path: str = ""
    log_path: str = ""
    name: str = ""
    restart_count: int = 0
    driver: str = ""
    platform: str = ""
    mount_label: str = ""
    process_label: str = ""
    app_armor_profile: str = ""
    exec_ids: list[str] | None = msgspec.field(default=None, name="ExecIDs")
    host_config: HostConfig = msgspec.field(default_factory=HostConfig)
    graph_driver: DriverData | None = None
    size_rw: int | None = None
    size_root_fs: int | None = None
    mounts: list[MountPoint] = msgspec.field(default_factory=list)
    config: ContainerConfig = msgspec.field(default_factory=ContainerConfig)
    network_settings: NetworkSettings = msgspec.field(default_factory=NetworkSettings)


class Port(Model):
    """A port in a container list entry: ``private_port`` inside the container, and where
    it is published (``ip`` and ``public_port``; absent for a port only exposed)."""

    private_port: int
    type: str = "tcp"
    ip: str | None = msgspec.field(default=None, name="IP")
    public_port: int | None = None


class ContainerSummaryHostConfig(Model):
    """``HostConfig`` of a list entry: the network mode (Docker only; Podman leaves it out)."""

    network_mode: str = ""
    annotations: dict[str, str] | None = None


class ContainerSummaryNetworkSettings(Model):
    """``NetworkSettings`` of a list entry: the container's endpoint on each network."""

    networks: dict[str, EndpointSettings] = msgspec.field(default_factory=dict)


class HealthSummary(Model):
    """``Health`` of a list entry (API 1.52): the health status and failing streak."""

    status: str = ""
    failing_streak: int = 0


class ContainerSummary(Model):
    """One entry of ``GET /containers/json``; ``names`` keep their leading ``/``.

    ``created_unix`` is the wire's UNIX time in seconds, :attr:`created` the same as an
    aware datetime; ``state`` is ``created``, ``running``, ``exited``...; ``status`` the
    human text (``Up 2 minutes``); ``command`` the command line as one string; ``size_rw`` /
    ``size_root_fs`` in bytes with ``size=true``; ``health`` since API 1.52.
    """

    id: str
    names: list[str] = msgspec.field(default_factory=list)
    image: str = ""
    image_id: str = msgspec.field(default="", name="ImageID")
    command: str = ""
    created_unix: int = msgspec.field(default=0, name="Created")
    ports: list[Port] = msgspec.field(default_factory=list)
    size_rw: int | None = None
    size_root_fs: int | None = None
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    state: str = ""
    status: str = ""
    host_config: ContainerSummaryHostConfig | None = None
    network_settings: ContainerSummaryNetworkSettings | None = None
    mounts: list[MountPoint] = msgspec.field(default_factory=list)
    health: HealthSummary | None = None

    @property
    def created(self) -> datetime:
        """When the container was created (aware, UTC; whole seconds)."""
        return datetime.fromtimestamp(self.created_unix, UTC)


class ContainerWaitExitError(Model):
    """``Error`` of a wait answer."""

    message: str | None = None


class ContainerWaitResponse(Model):
    """``POST /containers/{id}/wait`` answer: the exit code, and an error since API 1.34."""

    status_code: int
    error: ContainerWaitExitError | None = None


class ContainerUpdateRequest(Model):
    """Body of ``POST /containers/{id}/update``: the resources and restart policy to change.

    Units as in :class:`HostConfig`: ``memory``, ``memory_reservation`` and ``memory_swap``
    (memory + swap, -1 unlimited) in **bytes**; ``nano_cpus`` in 10⁻⁹ CPUs; ``cpu_period`` and
    ``cpu_quota`` in **microseconds**; ``cpu_shares`` and ``blkio_weight`` relative weights;
    ``pids_limit`` 0 or -1 for unlimited. Fields left at ``None`` keep their value.
    """

    cpu_shares: int | None = None
    memory: int | None = None
    memory_reservation: int | None = None
    memory_swap: int | None = None
    nano_cpus: int | None = None
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    blkio_weight: int | None = None
    pids_limit: int | None = None
    restart_policy: RestartPolicy | None = None


class ContainerUpdateResponse(Model):
    """``POST /containers/{id}/update`` answer: the engine's warnings (Podman: none)."""

    warnings: list[str] | None = None


class ContainerTopResponse(Model):
    """``GET /containers/{id}/top``: ``ps`` column ``titles`` and one row per process.

    Docker runs the host's ``ps`` (titles ``UID PID PPID C STIME TTY TIME CMD``, one per
    column); Podman 4.3 runs the container's ``ps`` and sends one unsplit title and one string
    per process (busybox: ``["PID   USER     COMMAND"]``, ``[["1 root     sleep 60"]]``).
    """

    titles: list[str] = msgspec.field(default_factory=list)
    processes: list[list[str]] = msgspec.field(default_factory=list)


class ChangeKind(enum.IntEnum):
    """``Kind`` of a filesystem change: 0 modified, 1 added, 2 deleted."""

    MODIFIED = 0
    ADDED = 1
    DELETED = 2


class FilesystemChange(Model):
    """An entry of ``GET /containers/{id}/changes``: a ``path`` in the container, its ``kind``."""

    path: str
    kind: ChangeKind


class ContainerPruneResponse(Model):
    """``POST /containers/prune`` answer: the IDs removed and the bytes freed."""

    containers_deleted: list[str] | None = None
    space_reclaimed: int = 0


class CPUUsage(Model, rename=None):
    """``cpu_usage`` of a stats sample: CPU time in **nanoseconds** (``percpu_usage`` only
    on cgroup v1)."""

    total_usage: int = 0
    percpu_usage: list[int] | None = None
    usage_in_kernelmode: int = 0
    usage_in_usermode: int = 0


class ThrottlingData(Model, rename=None):
    """``throttling_data``: CFS periods, throttled periods, throttled time (ns)."""

    periods: int = 0
    throttled_periods: int = 0
    throttled_time: int = 0


class CPUStats(Model, rename=None):
    """``cpu_stats``/``precpu_stats``: the container's and the host's CPU time (ns).

    ``system_cpu_usage`` is the host's total (absent for a stopped container); ``online_cpus``
    since API 1.27.
    """

    cpu_usage: CPUUsage = msgspec.field(default_factory=CPUUsage)
    system_cpu_usage: int = 0
    online_cpus: int = 0
    throttling_data: ThrottlingData | None = None


class MemoryStats(Model, rename=None):
    """``memory_stats``: ``usage``/``max_usage``/``limit`` in **bytes**; ``stats`` the cgroup's
    ``memory.stat`` counters (cgroup v1 ``total_inactive_file``..., v2 ``inactive_file``...).
    All zero/absent for a stopped container."""

    usage: int = 0
    max_usage: int = 0
    stats: dict[str, int] | None = None
    failcnt: int = 0
    limit: int = 0


class PidsStats(Model, rename=None):
    """``pids_stats``: processes now and the limit (absent/0: none)."""

    current: int = 0
    limit: int = 0


class NetworkStats(Model, rename=None):
    """One interface of ``networks`` in a stats sample: bytes, packets, errors, drops."""

    rx_bytes: int = 0
    rx_packets: int = 0
    rx_errors: int = 0
    rx_dropped: int = 0
    tx_bytes: int = 0
    tx_packets: int = 0
    tx_errors: int = 0
    tx_dropped: int = 0


class BlkioEntry(Model, rename=None):
    """One block-I/O counter: device ``major:minor``, ``op`` (``read``/``write``...), value."""

    major: int = 0
    minor: int = 0
    op: str = ""
    value: int = 0


class BlkioStats(Model, rename=None):
    """``blkio_stats``: per-device bytes (``io_service_bytes_recursive``) and operations
    (``io_serviced_recursive``); ``None`` on cgroup v2 for most of them."""

    io_service_bytes_recursive: list[BlkioEntry] | None = None
    io_serviced_recursive: list[BlkioEntry] | None = None


class ContainerStats(Model, rename=None):
    """One sample of ``GET /containers/{id}/stats`` (snake_case on the wire).

    ``read`` is when it was taken, ``preread``/``precpu_stats`` the previous sample's (empty
    in a one-shot sample and in the first of a stream; Podman 4.3 sends no ``preread``).
    :attr:`cpu_percent`, :attr:`memory_usage` and :attr:`memory_percent` compute what
    ``docker stats`` shows.
    """

    read: Timestamp = None
    preread: Timestamp = None
    id: str = ""
    name: str = ""
    num_procs: int = 0
    pids_stats: PidsStats = msgspec.field(default_factory=PidsStats)
    cpu_stats: CPUStats = msgspec.field(default_factory=CPUStats)
    precpu_stats: CPUStats = msgspec.field(default_factory=CPUStats)
    memory_stats: MemoryStats = msgspec.field(default_factory=MemoryStats)
    blkio_stats: BlkioStats = msgspec.field(default_factory=BlkioStats)
    networks: dict[str, NetworkStats] | None = None

    @property
    def cpu_percent(self) -> float:
        """CPU use between ``precpu_stats`` and ``cpu_stats``, in percent of *one* CPU (so up
        to ``100 * online_cpus``), as ``docker stats`` shows it. Without a previous sample
        (one-shot) the formula, like the CLI's, compares against the host's uptime: near 0."""
        cpu, previous = self.cpu_stats, self.precpu_stats
        cpu_delta = cpu.cpu_usage.total_usage - previous.cpu_usage.total_usage
        system_delta = cpu.system_cpu_usage - previous.system_cpu_usage
        online = cpu.online_cpus or len(cpu.cpu_usage.percpu_usage or ())
        if cpu_delta <= 0 or system_delta <= 0:
            return 0.0
        return cpu_delta / system_delta * online * 100.0

    @property
    def memory_usage(self) -> int:
        """Memory in use in bytes without the page cache that can be dropped (``usage``
        minus inactive file pages: ``total_inactive_file`` on cgroup v1, ``inactive_file``
        on v2), as ``docker stats`` shows it."""
        memory = self.memory_stats
        counters = memory.stats or {}
        inactive = counters.get("total_inactive_file", counters.get("inactive_file"))
        if inactive is not None and inactive < memory.usage:
            return memory.usage - inactive
        return memory.usage

    @property
    def memory_percent(self) -> float:
        """:attr:`memory_usage` in percent of ``memory_stats.limit`` (``0.0`` without one)."""
        limit = self.memory_stats.limit
        return self.memory_usage / limit * 100.0 if limit else 0.0

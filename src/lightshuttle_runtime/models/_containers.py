"""Models of the container endpoints (``/containers/...``), from the v1.41 spec on."""

from __future__ import annotations

import msgspec

from ._base import Model

__all__ = [
    "ContainerConfig",
    "ContainerCreateRequest",
    "ContainerCreateResponse",
    "ContainerInspect",
    "ContainerState",
    "ContainerSummary",
    "ContainerWaitExitError",
    "ContainerWaitResponse",
    "EndpointSettings",
    "Health",
    "HealthConfig",
    "HealthcheckResult",
    "HostConfig",
    "Mount",
    "MountPoint",
    "NetworkSettings",
    "NetworkingConfig",
    "Port",
    "PortBinding",
    "RestartPolicy",
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

    ``env`` holds ``"KEY=value"`` strings; ``exposed_ports`` maps ``"80/tcp"`` to ``{}``;
    ``stop_timeout`` is in seconds.
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
    image: str | None = None
    volumes: dict[str, dict[str, object]] | None = None
    working_dir: str | None = None
    entrypoint: list[str] | None = None
    network_disabled: bool | None = None
    labels: dict[str, str] | None = None
    stop_signal: str | None = None
    stop_timeout: int | None = None


class PortBinding(Model):
    """One host binding of a container port; ``host_port`` is a string as in the API."""

    host_ip: str | None = msgspec.field(default=None, name="HostIp")
    host_port: str | None = None


class RestartPolicy(Model):
    """``name`` is ``""``, ``no``, ``always``, ``unless-stopped`` or ``on-failure``."""

    name: str | None = None
    maximum_retry_count: int | None = None


class Mount(Model):
    """A mount in ``HostConfig.Mounts``: ``type`` is ``bind``, ``volume`` or ``tmpfs``.

    ``type`` has no default: both engines reject a mount without one, and a default would
    be left out of the body.
    """

    target: str
    type: str
    source: str | None = None
    read_only: bool | None = None


class HostConfig(Model):
    """The host-dependent part of a container's configuration.

    ``binds`` are ``"src:dst[:opts]"`` strings; ``port_bindings`` maps ``"80/tcp"`` to its
    host bindings.
    """

    binds: list[str] | None = None
    network_mode: str | None = None
    port_bindings: dict[str, list[PortBinding] | None] | None = None
    restart_policy: RestartPolicy | None = None
    auto_remove: bool | None = None
    mounts: list[Mount] | None = None
    privileged: bool | None = None
    init: bool | None = None


class EndpointSettings(Model):
    """A container's settings on one network (``aliases`` are extra DNS names)."""

    aliases: list[str] | None = None
    network_id: str | None = msgspec.field(default=None, name="NetworkID")
    endpoint_id: str | None = msgspec.field(default=None, name="EndpointID")
    ip_address: str | None = msgspec.field(default=None, name="IPAddress")


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
    """One health probe: ``exit_code`` 0 healthy, 1 unhealthy; ``start``/``end`` RFC3339 strings."""

    start: str | None = None
    end: str | None = None
    exit_code: int | None = None
    output: str | None = None


class Health(Model):
    """``State.Health``: ``status`` is ``none``, ``starting``, ``healthy`` or ``unhealthy``."""

    status: str | None = None
    failing_streak: int | None = None
    log: list[HealthcheckResult] | None = None


class ContainerState(Model):
    """``State`` of an inspected container.

    ``status`` is ``created``, ``running``, ``paused``, ``restarting``, ``removing``,
    ``exited`` or ``dead``; ``started_at``/``finished_at`` are RFC3339Nano strings.
    """

    status: str = ""
    running: bool = False
    paused: bool = False
    restarting: bool = False
    oom_killed: bool = msgspec.field(default=False, name="OOMKilled")
    dead: bool = False
    pid: int | None = None
    exit_code: int | None = None
    error: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    health: Health | None = None


class MountPoint(Model):
    """A mount as reported by inspect."""

    type: str | None = None
    name: str | None = None
    source: str | None = None
    destination: str | None = None
    rw: bool | None = msgspec.field(default=None, name="RW")


class NetworkSettings(Model):
    """``NetworkSettings`` of an inspected container (``ports`` as in ``HostConfig``)."""

    ports: dict[str, list[PortBinding] | None] | None = None
    networks: dict[str, EndpointSettings] | None = None
    ip_address: str | None = msgspec.field(default=None, name="IPAddress")


class ContainerInspect(Model):
    """``GET /containers/{id}/json``. ``name`` keeps the engine's leading ``/``."""

    id: str
    name: str = ""
    created: str | None = None
    image: str | None = None
    state: ContainerState = msgspec.field(default_factory=ContainerState)
    config: ContainerConfig = msgspec.field(default_factory=ContainerConfig)
    host_config: HostConfig | None = None
    network_settings: NetworkSettings | None = None
    mounts: list[MountPoint] | None = None
    restart_count: int | None = None


class Port(Model):
    """A published port in a container list entry (``private_port`` inside the container)."""

    private_port: int
    type: str = "tcp"
    ip: str | None = msgspec.field(default=None, name="IP")
    public_port: int | None = None


class ContainerSummary(Model):
    """One entry of ``GET /containers/json``; ``names`` keep their leading ``/``.

    ``created`` is a UNIX timestamp in seconds.
    """

    id: str
    names: list[str] | None = None
    image: str | None = None
    image_id: str | None = msgspec.field(default=None, name="ImageID")
    command: str | None = None
    created: int | None = None
    ports: list[Port] | None = None
    labels: dict[str, str] | None = None
    state: str | None = None
    status: str | None = None


class ContainerWaitExitError(Model):
    """``Error`` of a wait answer."""

    message: str | None = None


class ContainerWaitResponse(Model):
    """``POST /containers/{id}/wait`` answer: the exit code, and an error since API 1.34."""

    status_code: int
    error: ContainerWaitExitError | None = None

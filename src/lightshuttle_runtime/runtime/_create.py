"""From a ContainerSpec to the ``POST /containers/create`` body."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from ..models import (
    ContainerCreateRequest,
    EndpointSettings,
    HealthConfig,
    HostConfig,
    Mount,
    NetworkingConfig,
    PortBinding,
)
from ._errors import InvalidSpecError
from ._labels import LABEL_PROJECT, LABEL_RESOURCE, PROJECT_NETWORK_PREFIX, project_network_name
from ._spec import HEALTHCHECK_KINDS, ContainerSpec, HealthcheckSpec, PortSpec, VolumeSpec

__all__ = [
    "LABEL_PROJECT",
    "LABEL_RESOURCE",
    "PROJECT_NETWORK_PREFIX",
    "create_request",
    "project_network_name",
]

#: Published ports bind to loopback unless the spec names another address.
DEFAULT_HOST_ADDRESS = "127.0.0.1"


def create_request(spec: ContainerSpec, *, image: str | None = None) -> ContainerCreateRequest:
    """The create body for ``spec`` (which must be valid).

    ``image`` replaces ``spec.image``: it is required when that is a :class:`BuildSpec` (pass
    the built image's id).

    Raises:
        InvalidSpecError: ``spec.image`` is a build source and no ``image`` was given.
    """
    if image is None:
        if not isinstance(spec.image, str):
            raise InvalidSpecError("the spec's image is a build source: build it first")
        image = spec.image
    labels = dict(spec.labels)
    if spec.project is not None:
        labels[LABEL_PROJECT] = spec.project
    if spec.resource is not None:
        labels[LABEL_RESOURCE] = spec.resource
    ports: dict[str, dict[str, object]] = {_port_key(port): {} for port in spec.ports}
    return ContainerCreateRequest(
        image=image,
        env=[f"{key}={value}" for key, value in spec.env.items()] or None,
        cmd=list(spec.command) if spec.command is not None else None,
        entrypoint=list(spec.entrypoint) if spec.entrypoint is not None else None,
        working_dir=spec.working_dir,
        labels=labels or None,
        tty=spec.tty or None,
        exposed_ports=ports or None,
        healthcheck=_health_config(spec.healthcheck) if spec.healthcheck else None,
        networking_config=_networking_config(spec),
        host_config=HostConfig(
            network_mode=project_network_name(spec.project) if spec.project else None,
            port_bindings=_port_bindings(spec.ports) or None,
            mounts=[_mount(volume) for volume in spec.volumes] or None,
        ),
    )


def _networking_config(spec: ContainerSpec) -> NetworkingConfig | None:
    """Join the project's network, reachable there by the resource name."""
    if spec.project is None:
        return None
    aliases = [spec.resource] if spec.resource else None
    network = project_network_name(spec.project)
    return NetworkingConfig(endpoints_config={network: EndpointSettings(aliases=aliases)})


def _port_key(port: PortSpec) -> str:
    return f"{port.container_port}/{port.protocol}"


def _port_bindings(ports: Sequence[PortSpec]) -> dict[str, list[PortBinding] | None]:
    bindings: dict[str, list[PortBinding]] = {}
    for port in ports:
        binding = PortBinding(
            host_ip=port.host_address or DEFAULT_HOST_ADDRESS,
            host_port=str(port.host_port) if port.host_port else "",  # "": the engine picks
        )
        bindings.setdefault(_port_key(port), []).append(binding)
    return dict(bindings)


def _mount(volume: VolumeSpec) -> Mount:
    if volume.source is None:
        return Mount(target=volume.target, type="volume", read_only=volume.read_only or None)
    kind = "bind" if volume.source.startswith("/") else "volume"
    return Mount(
        target=volume.target,
        source=volume.source,
        type=kind,
        read_only=volume.read_only or None,
    )


def _nanoseconds(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000_000 + value.microseconds * 1_000


def _health_test(test: str | Sequence[str]) -> list[str]:
    """A string runs in the shell; a list runs directly, unless it is already in the engine's
    form (``CMD``, ``CMD-SHELL`` or ``NONE`` first)."""
    if isinstance(test, str):
        return ["CMD-SHELL", test]
    if test[0] in HEALTHCHECK_KINDS:
        return list(test)
    return ["CMD", *test]


def _health_config(check: HealthcheckSpec) -> HealthConfig:
    test = _health_test(check.test)
    return HealthConfig(
        test=test,
        interval=_nanoseconds(check.interval),
        timeout=_nanoseconds(check.timeout),
        retries=check.retries,
        start_period=_nanoseconds(check.start_period),
    )

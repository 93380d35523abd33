"""ContainerSpec: what to run, in the runtime's own terms."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from .._context import DEFAULT_DOCKERFILE, dockerfile_in_context
from .._errors import InvalidArgumentError
from .._reference import parse_reference
from .._validate import check_name
from ..api._build import Builder
from ._errors import InvalidSpecError, seconds_text

__all__ = [
    "HEALTHCHECK_KINDS",
    "BuildSpec",
    "ContainerSpec",
    "HealthcheckSpec",
    "PortSpec",
    "VolumeSpec",
]

_ENV_KEY = re.compile(r"[^=\x00]+")


@dataclass(frozen=True, slots=True)
class PortSpec:
    """A published port.

    Attributes:
        container_port: the port inside the container (1-65535).
        host_port: the port on the host (0-65535); ``None`` or ``0`` lets the engine pick a
            free one (``docker run -p 127.0.0.1:0:80``; inspect's ``NetworkSettings.Ports``
            tells which).
        host_address: the host address to bind, an IPv4 or IPv6 address; ``None`` means
            ``127.0.0.1`` (loopback only: name ``"0.0.0.0"`` to publish on every interface).
        protocol: ``tcp``, ``udp`` or ``sctp``.
    """

    container_port: int
    host_port: int | None = None
    host_address: str | None = None
    protocol: Literal["tcp", "udp", "sctp"] = "tcp"


@dataclass(frozen=True, slots=True)
class VolumeSpec:
    """A volume mounted at ``target``.

    Attributes:
        target: the absolute path inside the container.
        source: an absolute host path (a bind mount), a volume name (a named volume), or
            ``None`` (an anonymous volume).
        read_only: mount read-only.
    """

    target: str
    source: str | None = None
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class HealthcheckSpec:
    """How the engine probes the container (sent as HealthConfig, durations in nanoseconds).

    Attributes:
        test: the command: a list runs directly (``CMD``), a string runs in the shell
            (``CMD-SHELL``). The engine's own forms are taken as they are:
            ``["CMD", exe, arg...]``, ``["CMD-SHELL", "shell command"]``, and ``["NONE"]``
            (turn off the image's check).
        interval, timeout, start_period: ``timedelta``; zero inherits the image's/engine's
            value, otherwise at least 1 ms.
        retries: consecutive failures before unhealthy; 0 inherits.
    """

    test: Sequence[str] | str
    interval: timedelta = timedelta(seconds=30)
    timeout: timedelta = timedelta(seconds=30)
    retries: int = 3
    start_period: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class BuildSpec:
    """An image to build (``POST /build``) before the container is created from it.

    Attributes:
        context: the build-context directory, sent as a tar that honours its
            ``.dockerignore`` (symlinks stored, never followed; every mtime 0).
        dockerfile: the Dockerfile's path inside ``context`` (relative, or absolute inside it).
        build_args: ``ARG`` values.
        target: the stage of a multi-stage Dockerfile to build; ``None`` builds the last one.
        tag: a ``name[:tag]`` for the image; ``None`` leaves it untagged. The container is
            created from the built image's id either way.
        builder: ``"auto"`` (BuildKit on Docker, buildah on Podman), ``"buildkit"`` or
            ``"classic"``: see :meth:`lightshuttle_runtime.api.BuildAPI.build`.
    """

    context: str | os.PathLike[str]
    dockerfile: str = DEFAULT_DOCKERFILE
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    tag: str | None = None
    builder: Builder = "auto"

    def validate(self) -> None:
        """Check the build source locally (the directory exists; nothing is sent).

        A missing Dockerfile is left to the builder, whose answer becomes a ``BuildError``.

        Raises:
            InvalidSpecError: naming the first problem found.
        """
        if not isinstance(self.context, str | os.PathLike) or not os.path.isdir(self.context):
            raise InvalidSpecError(
                f"build context {self.context!r} does not exist or is not a directory"
            )
        try:
            dockerfile_in_context(self.context, self.dockerfile)
            if self.tag is not None:
                parse_reference(self.tag)
        except InvalidArgumentError as exc:
            raise InvalidSpecError(str(exc)) from None
        for key, value in self.build_args.items():
            if not isinstance(key, str) or not key or not isinstance(value, str):
                raise InvalidSpecError(
                    f"build arg {key!r}={value!r}: names must be non-empty strings, values strings"
                )
        if self.target is not None and (not isinstance(self.target, str) or not self.target):
            raise InvalidSpecError(f"build target {self.target!r} must be a non-empty stage name")
        if self.builder not in ("auto", "buildkit", "classic"):
            raise InvalidSpecError(
                f"builder {self.builder!r} must be 'auto', 'buildkit' or 'classic'"
            )


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """Everything needed to start one container of a project.

    Attributes:
        name: the container name (``[a-zA-Z0-9][a-zA-Z0-9_.-]+``).
        image: an image reference (``busybox:local``, ``localhost:5000/app:1``), pulled
            when not present; or a :class:`BuildSpec`, built on every start (the builder's
            cache makes an unchanged rebuild quick).
            when not present.
        project, resource: recorded as the labels ``lightshuttle.project`` and
            ``lightshuttle.resource``.
        env: environment variables.
        ports, volumes: published ports and mounts.
        command, entrypoint: replace the image's ``CMD`` / ``ENTRYPOINT`` when given.
        working_dir: the working directory inside the container.
        healthcheck: the health check; ``None`` keeps the image's.
        tty: allocate a TTY (the output is then raw, all stdout).
        labels: extra labels.
    """

    name: str
    image: str | BuildSpec
    project: str | None = None
    resource: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    ports: Sequence[PortSpec] = ()
    volumes: Sequence[VolumeSpec] = ()
    command: Sequence[str] | None = None
    entrypoint: Sequence[str] | None = None
    working_dir: str | None = None
    healthcheck: HealthcheckSpec | None = None
    tty: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        """Check the spec without contacting an engine.

        Raises:
            InvalidSpecError: naming the first problem found.
        """
        try:
            check_name(self.name)
            if not isinstance(self.image, BuildSpec):
                parse_reference(self.image)
        except InvalidArgumentError as exc:
            raise InvalidSpecError(str(exc)) from None
        if isinstance(self.image, BuildSpec):
            self.image.validate()
        for key in self.env:
            if not isinstance(key, str) or not _ENV_KEY.fullmatch(key):
                raise InvalidSpecError(f"env key {key!r} is empty or contains '=' or NUL")
        for port in self.ports:
            _check_port(port)
        for volume in self.volumes:
            if not volume.target.startswith("/"):
                raise InvalidSpecError(f"volume target {volume.target!r} must be an absolute path")
        if self.working_dir is not None and not self.working_dir.startswith("/"):
            raise InvalidSpecError(f"working_dir {self.working_dir!r} must be an absolute path")
        if self.healthcheck is not None:
            _check_healthcheck(self.healthcheck)


def _check_port(port: PortSpec) -> None:
    if not _in_port_range(port.container_port):
        raise InvalidSpecError(f"container port {port.container_port!r} is not in 1-65535")
    if port.host_port is not None and not _in_port_range(port.host_port, lowest=0):
        raise InvalidSpecError(f"host port {port.host_port!r} is not in 0-65535")
    if port.protocol not in ("tcp", "udp", "sctp"):
        raise InvalidSpecError(f"port protocol {port.protocol!r} is not tcp, udp or sctp")
    if port.host_address is not None:
        try:
            ipaddress.ip_address(port.host_address)
        except ValueError:
            raise InvalidSpecError(
                f"host address {port.host_address!r} is not an IPv4 or IPv6 address"
            ) from None


def _in_port_range(value: object, lowest: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lowest <= value <= 65535


#: The first words of the engine's own forms of a health-check test.
HEALTHCHECK_KINDS = ("CMD", "CMD-SHELL", "NONE")


def _check_healthcheck(check: HealthcheckSpec) -> None:
    test = check.test
    if not test:
        raise InvalidSpecError("healthcheck test must not be empty")
    if not isinstance(test, str):
        if not all(isinstance(word, str) for word in test):
            raise InvalidSpecError(f"healthcheck test {list(test)!r} must be strings")
        kind, rest = test[0], list(test[1:])
        if kind == "CMD" and not rest:
            raise InvalidSpecError('healthcheck test ["CMD"] names no command')
        if kind == "CMD-SHELL" and len(rest) != 1:
            raise InvalidSpecError(
                f'healthcheck test {list(test)!r}: "CMD-SHELL" takes exactly one shell command'
            )
        if kind == "NONE" and rest:
            raise InvalidSpecError(f'healthcheck test {list(test)!r}: "NONE" takes nothing more')
    for label in ("interval", "timeout", "start_period"):
        value: timedelta = getattr(check, label)
        if value < timedelta(0):
            raise InvalidSpecError(
                f"healthcheck {label} must not be negative (got {seconds_text(value)})"
            )
        if timedelta(0) < value < timedelta(milliseconds=1):
            raise InvalidSpecError(
                f"healthcheck {label} must be 0 or at least 1 ms (got {seconds_text(value)})"
            )
    if check.retries < 0:
        raise InvalidSpecError(f"healthcheck retries must not be negative (got {check.retries})")

"""Errors of the runtime layer.

Each one names the operation that failed; the client error underneath, if any, is kept
as ``__cause__``.
"""

from __future__ import annotations

from datetime import timedelta

__all__ = [
    "BuildError",
    "ContainerExitedError",
    "ContainerNotFoundError",
    "ContainerRuntimeError",
    "ContainerUnhealthyError",
    "EngineConnectError",
    "ImagePullError",
    "InspectError",
    "InvalidSpecError",
    "LogStreamError",
    "OperationTimedOut",
    "RemoveError",
    "StartError",
    "StopError",
]


def seconds_text(value: timedelta) -> str:
    """``value`` for a message, in seconds (``-1 s``, ``0.0005 s``): a negative ``timedelta``'s
    own ``str`` reads ``-1 day, 23:59:59``."""
    return f"{value.total_seconds():g} s"


class ContainerRuntimeError(Exception):
    """Base class of the runtime layer's errors."""


class EngineConnectError(ContainerRuntimeError):
    """The engine could not be reached (socket missing, permission denied, version mismatch)."""


class InvalidSpecError(ContainerRuntimeError, ValueError):
    """A :class:`ContainerSpec` is invalid; raised before any request is sent."""


class ImagePullError(ContainerRuntimeError):
    """The image is not present and could not be pulled.

    The message names the image and, when the registry refused the credentials or wanted some
    (the cause is a :class:`~lightshuttle_runtime.RegistryAuthError`) or they could not be
    looked up (:class:`~lightshuttle_runtime.CredentialsError`), the registry and what to do;
    never a credential.

    Attributes:
        registry: the registry's credential key (``127.0.0.1:5443``,
            ``https://index.docker.io/v1/``), when the image name could be parsed.
        auth_refused: whether the registry refused the credentials or wanted some.
    """

    def __init__(
        self, message: str, *, registry: str | None = None, auth_refused: bool = False
    ) -> None:
        super().__init__(message)
        self.registry = registry
        self.auth_refused = auth_refused


class BuildError(ContainerRuntimeError):
    """The image of a :class:`BuildSpec` could not be built (``POST /build``).

    Raised alike for an error the builder reports inside its stream (a failing ``RUN``,
    Podman's missing Dockerfile) and for an error status before the stream (Docker's 500 for
    a missing Dockerfile), and when the context cannot be packed.

    Attributes:
        builder_message: the builder's own message, e.g. Docker's ``The command '/bin/sh -c
            exit 3' returned a non-zero code: 3`` or Podman's ``building at STEP "RUN exit 3":
            while running runtime: exit status 3``.
        step: the failing step as the builder names it (BuildKit's vertex name, e.g.
            ``"[2/3] RUN make"`` or ``"[stage-0 2/3] RUN make"``; the classic builders' step
            header read the same way, ``"[2/3] RUN make"``), if any.
        log: the last lines (at most 20) the failing step printed.
        code: the failing command's exit code (Docker's classic builder reports it; BuildKit
            and Podman put it in the message only).
    """

    def __init__(
        self,
        message: str,
        *,
        builder_message: str | None = None,
        step: str | None = None,
        code: int | None = None,
        log: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.builder_message = builder_message
        self.step = step
        self.code = code
        self.log = log


class StartError(ContainerRuntimeError):
    """The container could not be created or started (name conflict, bad config...)."""


class StopError(ContainerRuntimeError):
    """The container could not be stopped."""


class RemoveError(ContainerRuntimeError):
    """The container could not be removed."""


class InspectError(ContainerRuntimeError):
    """The container's state could not be read."""


class ContainerNotFoundError(ContainerRuntimeError):
    """No container has this id or name."""


class LogStreamError(ContainerRuntimeError):
    """The log stream failed (the engine reported an error, or the connection broke)."""


class OperationTimedOut(ContainerRuntimeError):
    """An operation did not finish in time.

    Attributes:
        operation: what was being waited for (``"wait_healthy"``).
        duration: the time limit that ran out.
    """

    def __init__(self, message: str, *, operation: str, duration: timedelta) -> None:
        super().__init__(message)
        self.operation = operation
        self.duration = duration


class ContainerExitedError(ContainerRuntimeError):
    """The container exited while it was awaited to become healthy.

    Attributes:
        exit_code: its exit code, when the engine reports one.
        health_output: the output of its last health check, if it ran one.
    """

    def __init__(
        self, message: str, *, exit_code: int | None, health_output: str | None = None
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.health_output = health_output


class ContainerUnhealthyError(ContainerRuntimeError):
    """The container's health check reported it unhealthy while it was awaited.

    Attributes:
        health_output: the output of the last health check.
    """

    def __init__(self, message: str, *, health_output: str | None = None) -> None:
        super().__init__(message)
        self.health_output = health_output

"""Which API versions we speak, and how long we wait (where the engine is: ``_discovery``)."""

from __future__ import annotations

from dataclasses import dataclass

from ._discovery import DEFAULT_HOST, EngineAddress, resolve_host
from ._errors import InvalidArgumentError

__all__ = [
    "API_VERSION_MAX",
    "API_VERSION_MIN",
    "DEFAULT_HOST",
    "DEFAULT_TIMEOUT",
    "EngineAddress",
    "Timeouts",
    "parse_version",
    "resolve_host",
]

#: The oldest API version whose semantics this client models (Docker Engine 20.10, Podman 4.x).
API_VERSION_MIN = "1.41"
#: The newest API version this client knows (Docker Engine 29.6).
API_VERSION_MAX = "1.55"
#: Seconds an ordinary request may take, from connecting to the last body byte.
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Timeouts in seconds; ``None`` means wait forever.

    Attributes:
        connect: to open the Unix socket.
        request: for a whole ordinary request (a ``stop`` adds its grace period).

    Raises:
        InvalidArgumentError: a timeout is negative or NaN.
    """

    connect: float | None = 5.0
    request: float | None = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        for label, value in (("connect timeout", self.connect), ("timeout", self.request)):
            # ``not value >= 0`` also refuses NaN; a negative request timeout would read as
            # the "use the default" marker of EngineSession.send.
            if value is not None and not value >= 0:
                raise InvalidArgumentError(
                    f"{label} must be None or a number of seconds >= 0, not {value!r}"
                )


def parse_version(version: str) -> tuple[int, int]:
    """Parse an API version such as ``"1.41"`` into ``(1, 41)``.

    Raises:
        InvalidArgumentError: the text is not ``MAJOR.MINOR``.
    """
    major, sep, minor = version.strip().partition(".")
    if not (sep and major.isdigit() and minor.isdigit()):
        raise InvalidArgumentError(f"API version {version!r} is not of the form MAJOR.MINOR (1.41)")
    return int(major), int(minor)

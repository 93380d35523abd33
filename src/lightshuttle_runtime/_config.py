"""Where the engine is, which API versions we speak, and how long we wait.

Host resolution follows the Docker CLI: an explicit argument, then ``DOCKER_HOST``,
then ``unix:///var/run/docker.sock``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ._errors import InvalidArgumentError, UnsupportedHostError

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

DEFAULT_HOST = "unix:///var/run/docker.sock"
#: The oldest API version whose semantics this client models (Docker Engine 20.10, Podman 4.x).
API_VERSION_MIN = "1.41"
#: The newest API version this client knows (Docker Engine 29.6).
API_VERSION_MAX = "1.55"
#: Seconds an ordinary request may take, from connecting to the last body byte.
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class EngineAddress:
    """A resolved engine address.

    Attributes:
        url: the address as given (``unix:///var/run/docker.sock``).
        socket_path: the filesystem path of the Unix socket.
        source: where the address came from: ``"argument"``, ``"DOCKER_HOST"`` or ``"default"``.
    """

    url: str
    socket_path: str
    source: str


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


def resolve_host(host: str | None = None) -> EngineAddress:
    """Resolve the engine address the way the Docker CLI does.

    Args:
        host: ``unix:///path`` (or a bare absolute socket path); ``None`` reads ``DOCKER_HOST``,
            then falls back to ``unix:///var/run/docker.sock``.

    Raises:
        UnsupportedHostError: the scheme is ``tcp://``, ``ssh://``, ``npipe://`` or unknown.
    """
    if host:
        url, source = host, "argument"
    elif os.environ.get("DOCKER_HOST"):
        url, source = os.environ["DOCKER_HOST"], "DOCKER_HOST"
    else:
        url, source = DEFAULT_HOST, "default"
    if url.startswith("/"):
        return EngineAddress(f"unix://{url}", url, source)
    scheme, sep, rest = url.partition("://")
    if sep and scheme == "unix" and rest.startswith("/"):
        return EngineAddress(url, rest, source)
    if sep and scheme in {"tcp", "ssh", "npipe", "http", "https", "fd"}:
        raise UnsupportedHostError(
            f"engine address {url!r} (from {source}) uses {scheme}://, which this client does not "
            "support yet; use a unix:// socket, e.g. DOCKER_HOST=unix:///var/run/docker.sock"
        )
    raise UnsupportedHostError(
        f"engine address {url!r} (from {source}) is not a unix:// socket URL; "
        "expected e.g. unix:///var/run/docker.sock"
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

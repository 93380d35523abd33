"""The errors of the cassette machinery.

They are not :class:`~lightshuttle_runtime.DockerError`\\ s: they say that a test's recording is
wrong or incomplete, not that an engine failed, and the client lets them through unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "CassetteError",
    "CassetteFormatError",
    "CassetteNotFoundError",
    "UnmatchedRequestError",
    "UnplayedInteractionsError",
]


class CassetteError(Exception):
    """Base class of every error of :mod:`lightshuttle_runtime.testing`.

    Attributes:
        path: the cassette file concerned, when there is one.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        if self.path and self.path not in self.message:
            return f"{self.message} [cassette {self.path}]"
        return self.message


class CassetteFormatError(CassetteError):
    """A cassette file is not valid JSON, not a cassette, or of an unknown format version."""


class CassetteNotFoundError(CassetteError):
    """Replaying (record mode ``none``) from a cassette file that does not exist."""


class UnmatchedRequestError(CassetteError):
    """A request has no recorded answer left (or never had one).

    Attributes:
        request: the request, as ``"GET /v1.41/containers/json?all=1"``.
        nearest: the nearest recorded requests, each with how it differs.
    """

    def __init__(
        self,
        message: str,
        *,
        request: str,
        nearest: Sequence[str] = (),
        path: str | None = None,
    ) -> None:
        super().__init__(message, path=path)
        self.request = request
        self.nearest = list(nearest)


class UnplayedInteractionsError(CassetteError):
    """Recorded interactions were never requested during the replay.

    Attributes:
        unplayed: the unplayed requests, as ``"#3 POST /v1.41/containers/create"``.
    """

    def __init__(self, message: str, *, unplayed: Sequence[str], path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.unplayed = list(unplayed)

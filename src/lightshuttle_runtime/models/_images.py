"""Models of the image endpoints (``/images/...``, ``/build``), from the v1.41 spec on."""

from __future__ import annotations

import msgspec

from ._base import Model
from ._containers import ContainerConfig

__all__ = ["ErrorDetail", "ImageInspect", "ProgressDetail", "ProgressMessage"]


class ImageInspect(Model):
    """``GET /images/{name}/json``. ``size`` is in bytes; ``created`` an RFC3339 string."""

    id: str
    repo_tags: list[str] | None = None
    repo_digests: list[str] | None = None
    created: str | None = None
    architecture: str | None = None
    os: str | None = None
    size: int | None = None
    config: ContainerConfig | None = None


class ProgressDetail(msgspec.Struct, omit_defaults=True, kw_only=True):
    """``progressDetail`` of a progress line: ``current`` and ``total`` in bytes."""

    current: int | None = None
    total: int | None = None


class ErrorDetail(msgspec.Struct, omit_defaults=True, kw_only=True):
    """``errorDetail`` of a stream line: the engine's message and optional code."""

    message: str | None = None
    code: int | None = None


class ProgressMessage(msgspec.Struct, omit_defaults=True, kw_only=True):
    """One line of a JSON progress stream (pull, import, build, push).

    Pull/import lines carry ``status``/``id``/``progress_detail``; build lines carry
    ``stream`` (builder output) or ``aux`` (``{"ID": "sha256:..."}``); an ``error`` /
    ``error_detail`` line reports a failure inside the 200 stream.
    """

    status: str | None = None
    id: str | None = None
    progress: str | None = None
    progress_detail: ProgressDetail | None = msgspec.field(default=None, name="progressDetail")
    stream: str | None = None
    aux: dict[str, object] | None = None
    error: str | None = None
    error_detail: ErrorDetail | None = msgspec.field(default=None, name="errorDetail")

"""Models of the image endpoints (``/images/...``, ``/build``), from the v1.41 spec on."""

from __future__ import annotations

import msgspec

from ._base import Model, Timestamp
from ._containers import ContainerConfig, DriverData

__all__ = [
    "ErrorDetail",
    "ImageInspect",
    "ImageMetadata",
    "ImageRootFS",
    "ProgressDetail",
    "ProgressMessage",
]


class ImageRootFS(Model):
    """``RootFS`` of an image: ``type`` is ``layers``; ``layers`` the layer digests, base first."""

    type: str = ""
    layers: list[str] = msgspec.field(default_factory=list)


class ImageMetadata(Model):
    """``Metadata`` of an image: when it was last tagged (``None``: never, or Podman)."""

    last_tag_time: Timestamp = None


class ImageInspect(Model):
    """``GET /images/{name}/json``.

    ``size`` is in bytes (``virtual_size``, the same, is gone in API 1.44); ``created`` when it
    was built; ``config`` what containers made from it inherit; ``parent``, ``container``,
    ``container_config`` and ``docker_version`` come from the classic builder (deprecated in
    API 1.44, left out by Docker 28); Podman qualifies ``repo_tags`` (``docker.io/library/...``).
    """

    id: str
    repo_tags: list[str] = msgspec.field(default_factory=list)
    repo_digests: list[str] = msgspec.field(default_factory=list)
    parent: str | None = None
    comment: str = ""
    created: Timestamp = None
    container: str | None = None
    container_config: ContainerConfig | None = None
    docker_version: str | None = None
    author: str = ""
    config: ContainerConfig | None = None
    architecture: str = ""
    variant: str | None = None
    os: str = ""
    os_version: str | None = None
    size: int = 0
    virtual_size: int | None = None
    graph_driver: DriverData | None = None
    root_fs: ImageRootFS | None = msgspec.field(default=None, name="RootFS")
    metadata: ImageMetadata | None = None


class ProgressDetail(Model, rename=None):
    """``progressDetail`` of a progress line: ``current`` and ``total`` in bytes."""

    current: int | None = None
    total: int | None = None


class ErrorDetail(Model, rename=None):
    """``errorDetail`` of a stream line: the engine's message and optional code."""

    message: str | None = None
    code: int | None = None


class ProgressMessage(Model, rename=None):
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

"""Models of the image endpoints (``/images/...``, ``/build``), from the v1.41 spec on."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import msgspec

from ._base import Model, Timestamp
from ._containers import ContainerConfig, DriverData

__all__ = [
    "ErrorDetail",
    "ImageDeleteResponseItem",
    "ImageHistoryItem",
    "ImageInspect",
    "ImageMetadata",
    "ImagePruneResponse",
    "ImageRootFS",
    "ImageSummary",
    "ProgressDetail",
    "ProgressMessage",
]


_DIGEST = re.compile(r"(?:^|\s)[Dd]igest: ([A-Za-z0-9_+.-]+:[0-9a-fA-F]{32,})")


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

    @property
    def digest(self) -> str | None:
        """The image digest this line reports, if any: a push's last lines
        (``aux.Digest``; ``"TAG: digest: sha256:... size: N"`` also on Podman) and a pull's
        ``"Digest: sha256:..."`` line (Docker)."""
        if self.aux is not None:
            found = self.aux.get("Digest")
            if isinstance(found, str) and found:
                return found
        if self.status:
            match = _DIGEST.search(self.status)
            if match:
                return match.group(1)
        return None


class ImageSummary(Model):
    """One entry of ``GET /images/json``.

    ``created_unix`` is the wire's UNIX time in seconds (:attr:`created` the same as an aware
    datetime); ``size`` in bytes; ``shared_size`` and ``containers`` are ``-1`` unless the
    engine computed them; ``virtual_size`` is gone in API 1.44; ``parent_id`` is ``""`` for a
    pulled image.
    """

    id: str
    parent_id: str = ""
    repo_tags: list[str] | None = None
    repo_digests: list[str] | None = None
    created_unix: int = msgspec.field(default=0, name="Created")
    size: int = 0
    shared_size: int = -1
    virtual_size: int | None = None
    labels: dict[str, str] | None = None
    containers: int = -1

    @property
    def created(self) -> datetime:
        """When the image was created (aware, UTC; whole seconds)."""
        return datetime.fromtimestamp(self.created_unix, UTC)


class ImageHistoryItem(Model):
    """One layer of ``GET /images/{name}/history``, newest first.

    ``id`` is ``<missing>`` for a layer built elsewhere; ``created_unix`` UNIX seconds;
    ``size`` in bytes; ``created_by`` the Dockerfile step; ``tags`` the tags of that layer.
    """

    id: str
    created_unix: int = msgspec.field(default=0, name="Created")
    created_by: str = ""
    tags: list[str] | None = None
    size: int = 0
    comment: str = ""

    @property
    def created(self) -> datetime:
        """When the layer was created (aware, UTC; whole seconds)."""
        return datetime.fromtimestamp(self.created_unix, UTC)


class ImageDeleteResponseItem(Model):
    """One entry of an image removal: a tag ``untagged`` or an image/layer ID ``deleted``."""

    untagged: str | None = None
    deleted: str | None = None


class ImagePruneResponse(Model):
    """``POST /images/prune`` answer: what was untagged/deleted and the bytes freed."""

    images_deleted: list[ImageDeleteResponseItem] | None = None
    space_reclaimed: int = 0

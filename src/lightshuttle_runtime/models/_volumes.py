"""Models of the volume endpoints (``/volumes/...``), API 1.41 on."""

from __future__ import annotations

from typing import Any

import msgspec

from ._base import Model, Timestamp

__all__ = [
    "Volume",
    "VolumeCreateRequest",
    "VolumeListResponse",
    "VolumePruneResponse",
    "VolumeUsageData",
]


class VolumeUsageData(Model):
    """Disk usage of a volume (only from ``GET /system/df``): ``size`` in bytes, -1 unknown."""

    size: int = -1
    ref_count: int = -1


class Volume(Model):
    """A volume, as inspect, list and create answer it.

    ``scope`` is ``local`` or ``global``; ``status`` holds driver-specific details, when the
    driver gives any. Docker sends ``labels``/``options`` as ``null`` where Podman sends ``{}``.
    """

    name: str
    driver: str = "local"
    mountpoint: str = ""
    created_at: Timestamp = None
    status: dict[str, Any] | None = None
    labels: dict[str, str] | None = None
    scope: str = "local"
    options: dict[str, str] | None = None
    usage_data: VolumeUsageData | None = None


class VolumeCreateRequest(Model):
    """The ``POST /volumes/create`` body; an omitted ``name`` lets the engine pick one."""

    name: str | None = None
    driver: str | None = None
    driver_opts: dict[str, str] | None = None
    labels: dict[str, str] | None = None


class VolumeListResponse(Model):
    """``GET /volumes``: the volumes and the engine's warnings (Docker: ``None`` for none)."""

    volumes: list[Volume] = msgspec.field(default_factory=list)
    warnings: list[str] | None = None


class VolumePruneResponse(Model):
    """``POST /volumes/prune`` answer: the names removed and the bytes freed."""

    volumes_deleted: list[str] | None = None
    space_reclaimed: int = 0

"""The stat of a path in a container (``X-Docker-Container-Path-Stat``), API 1.41 on."""

from __future__ import annotations

import msgspec

__all__ = ["ContainerPathStat"]

# Go's os.FileMode type bits, as the engine encodes them in ``mode``.
_MODE_DIR = 1 << 31
_MODE_SYMLINK = 1 << 27


class ContainerPathStat(msgspec.Struct, omit_defaults=True, kw_only=True, rename="camel"):
    """What ``HEAD``/``GET /containers/{id}/archive`` say about the path.

    ``size`` is in bytes; ``mode`` is a Go ``os.FileMode`` (permission bits plus type bits:
    1<<31 directory, 1<<27 symlink); ``mtime`` is an RFC3339Nano string; ``link_target`` is
    the symlink's target (Podman gives the resolved path for every path). Podman adds
    ``is_dir``.
    """

    name: str
    size: int = 0
    mode: int = 0
    mtime: str | None = None
    link_target: str = ""
    is_dir: bool | None = None

    @property
    def is_directory(self) -> bool:
        """Whether the path is a directory (from ``mode``, which both engines send)."""
        return bool(self.mode & _MODE_DIR)

    @property
    def is_symlink(self) -> bool:
        """Whether the path is a symbolic link."""
        return bool(self.mode & _MODE_SYMLINK)

    @property
    def permissions(self) -> int:
        """The permission bits (``0o755``)."""
        return self.mode & 0o777

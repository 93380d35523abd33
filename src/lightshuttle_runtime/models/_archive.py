"""The stat of a path in a container (``X-Docker-Container-Path-Stat``), API 1.41 on."""

from __future__ import annotations

import stat as _stat
from typing import Final

from ._base import Model, Timestamp

__all__ = ["ContainerPathStat", "FileMode"]

# Go's os.FileMode bits (io/fs), as the engine encodes them in ``mode``.
_DIR: Final = 1 << 31
_APPEND: Final = 1 << 30
_EXCLUSIVE: Final = 1 << 29
_TEMPORARY: Final = 1 << 28
_SYMLINK: Final = 1 << 27
_DEVICE: Final = 1 << 26
_NAMED_PIPE: Final = 1 << 25
_SOCKET: Final = 1 << 24
_SETUID: Final = 1 << 23
_SETGID: Final = 1 << 22
_CHAR_DEVICE: Final = 1 << 21
_STICKY: Final = 1 << 20
_IRREGULAR: Final = 1 << 19
_TYPE: Final = _DIR | _SYMLINK | _NAMED_PIPE | _SOCKET | _DEVICE | _CHAR_DEVICE | _IRREGULAR


class FileMode(int):
    """A Go ``os.FileMode``: the permission bits (``0o777``) plus Go's own type and special
    bits (1<<31 directory, 1<<27 symlink, 1<<23 setuid...), which are *not* POSIX's
    ``st_mode`` bits. :attr:`st_mode` converts.
    """

    __slots__ = ()

    @property
    def is_dir(self) -> bool:
        """A directory."""
        return bool(self & _DIR)

    @property
    def is_symlink(self) -> bool:
        """A symbolic link."""
        return bool(self & _SYMLINK)

    @property
    def is_regular(self) -> bool:
        """A regular file (no type bit set)."""
        return not self & _TYPE

    @property
    def permissions(self) -> int:
        """The POSIX permission bits (``0o755``)."""
        return self & 0o777

    @property
    def st_mode(self) -> int:
        """The same mode as POSIX ``st_mode`` bits (for :mod:`stat`: ``S_ISDIR``...)."""
        if self & _DIR:
            kind = _stat.S_IFDIR
        elif self & _SYMLINK:
            kind = _stat.S_IFLNK
        elif self & _NAMED_PIPE:
            kind = _stat.S_IFIFO
        elif self & _SOCKET:
            kind = _stat.S_IFSOCK
        elif self & _DEVICE:
            kind = _stat.S_IFCHR if self & _CHAR_DEVICE else _stat.S_IFBLK
        else:
            kind = _stat.S_IFREG
        special = (
            (_stat.S_ISUID if self & _SETUID else 0)
            | (_stat.S_ISGID if self & _SETGID else 0)
            | (_stat.S_ISVTX if self & _STICKY else 0)
        )
        return kind | special | self.permissions

    def __repr__(self) -> str:
        return f"FileMode({_stat.filemode(self.st_mode)!r})"


class ContainerPathStat(Model, rename="camel"):
    """What ``HEAD``/``GET /containers/{id}/archive`` say about the path.

    ``size`` is in bytes; ``mode`` is a Go ``os.FileMode`` (see :class:`FileMode`:
    :attr:`file_mode` gives it with its helpers); ``mtime`` the last modification;
    ``link_target`` is a symlink's target (Docker: ``""`` for anything else; Podman gives the
    resolved path of every path and, for a symlink, names and types the target).
    """

    name: str
    size: int = 0
    mode: int = 0
    mtime: Timestamp = None
    link_target: str = ""

    @property
    def file_mode(self) -> FileMode:
        """``mode`` with its helpers."""
        return FileMode(self.mode)

    @property
    def is_dir(self) -> bool:
        """Whether the path is a directory (from ``mode``, which every engine sends)."""
        return self.file_mode.is_dir

    @property
    def is_symlink(self) -> bool:
        """Whether the path is a symbolic link."""
        return self.file_mode.is_symlink

    @property
    def permissions(self) -> int:
        """The POSIX permission bits (``0o755``)."""
        return self.file_mode.permissions

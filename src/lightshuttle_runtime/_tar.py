"""Tar archives for the container archive endpoints: make one from a local path, and
extract one without letting any entry out of the target directory.

Pure helpers (local files only, no engine I/O), used by ``client.archives``. Extraction
checks every entry first and writes nothing when one is refused; it never follows a
symlink while writing, never sets owners, and drops setuid/setgid/sticky and group/other
write bits (what Python's ``tarfile.data_filter`` does, which only 3.11.4+ has).
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from ._errors import DecodeError, InvalidArgumentError, UnsafeArchiveError

__all__ = ["check_members", "extract_tar", "write_tar"]

_FILE_MODE_MASK = 0o755
_COPY_BUFFER = 1 << 16
#: An archive entry with its name split into normalized components (``()`` for the top).
Step = tuple[tarfile.TarInfo, tuple[str, ...]]


def write_tar(
    source: str | os.PathLike[str],
    fileobj: IO[bytes],
    *,
    arcname: str | None = None,
    mtime: int | None = None,
) -> None:
    """Write an uncompressed tar of ``source`` into ``fileobj``.

    A directory is added with everything under it (sorted by name); symlinks are stored
    as symlinks and never followed, so nothing outside ``source`` is read through one.
    Entries are owned by ``0:0`` (root), as ``docker cp`` does.

    Args:
        source: a local file, directory or symlink.
        arcname: the entry name of ``source`` in the archive (``"."`` puts a directory's
            contents at the top level); default: the base name of ``source``.
        mtime: stamp every entry with this UNIX time in seconds (for reproducible
            archives); default: each file's own mtime, truncated to whole seconds.

    Raises:
        InvalidArgumentError: ``source`` does not exist, or ``arcname`` is absolute, has a
            ``..`` component or is empty.
    """
    path = os.fspath(source)
    try:
        os.lstat(path)
    except OSError as exc:
        raise InvalidArgumentError(f"cannot archive {path!r}: {exc.strerror}") from exc
    name = arcname if arcname is not None else os.path.basename(os.path.normpath(path))
    _check_arcname(name, path)

    def as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = int(info.mtime if mtime is None else mtime)
        return info

    with tarfile.open(fileobj=fileobj, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(path, arcname=name, recursive=True, filter=as_root)


def _check_arcname(name: str, path: str) -> None:
    if not name or name in ("/", "..") or name.startswith("/") or ".." in name.split("/"):
        raise InvalidArgumentError(
            f"arcname {name!r} (for {path!r}) must be a relative path without '..'; "
            "name it explicitly"
        )


@dataclass
class _Plan:
    """What an archive will have made, entry by entry, while its members are checked."""

    symlinks: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    directories: set[str] = field(default_factory=set)
    steps: list[Step] = field(default_factory=list)

    def record(self, member: tarfile.TarInfo, parts: tuple[str, ...]) -> None:
        key = "/".join(parts)
        self.symlinks.discard(key)
        self.files.discard(key)
        self.directories.update("/".join(parts[:end]) for end in range(1, len(parts)))
        if member.isdir():
            self.directories.add(key)
        elif member.issym():
            self.symlinks.add(key)
        else:
            self.files.add(key)
        self.steps.append((member, parts))


def check_members(
    members: Iterable[tarfile.TarInfo],
) -> list[tuple[tarfile.TarInfo, tuple[str, ...]]]:
    """Check archive entries, in archive order, before anything is extracted.

    Refused: an absolute name or link target; a ``..`` component that leaves the top; a
    symlink whose target resolves outside the top or through another symlink of the
    archive; a hard link to anything but a regular file stored earlier; an entry whose
    parent path goes through a symlink or a file; device files, FIFOs and unknown types.

    Returns:
        Each entry with its name split into normalized components (``()`` for the top).

    Raises:
        UnsafeArchiveError: naming the first refused entry and why.
    """
    plan = _Plan()
    for member in members:
        parts = _split_name(member, member.name, "path")
        _check_parents(member, parts, plan)
        if member.issym():
            _check_symlink(member, parts, plan)
        elif member.islnk():
            target = _split_name(member, member.linkname, "hard link target")
            if target == parts:
                # Extracting it would remove the file it names, then link to nothing.
                _refuse(member, "is a hard link to itself")
            if "/".join(target) not in plan.files:
                _refuse(member, "is a hard link to something that is not a file stored before it")
        elif member.isdev():
            _refuse(member, "is a device file or FIFO")
        elif not (member.isreg() or member.isdir()):
            _refuse(member, f"has an unsupported type {member.type!r}")
        if not member.isdir() and (not parts or "/".join(parts) in plan.directories):
            _refuse(member, "would replace a directory with something that is not one")
        plan.record(member, parts)
    return plan.steps


def _refuse(member: tarfile.TarInfo, reason: str) -> None:
    raise UnsafeArchiveError(
        f"refusing archive entry {member.name!r}: it {reason}", member=member.name, reason=reason
    )


def _split_name(member: tarfile.TarInfo, name: str, what: str) -> tuple[str, ...]:
    if name.startswith("/"):
        _refuse(member, f"has an absolute {what} ({name!r})")
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        _refuse(member, f"has a '..' component in its {what} ({name!r})")
    return parts


def _check_parents(member: tarfile.TarInfo, parts: tuple[str, ...], plan: _Plan) -> None:
    for end in range(1, len(parts)):
        prefix = "/".join(parts[:end])
        if prefix in plan.symlinks:
            _refuse(member, f"is reached through the symlink {prefix!r}")
        if prefix in plan.files:
            _refuse(member, f"is placed under the file {prefix!r}")


def _check_symlink(member: tarfile.TarInfo, parts: tuple[str, ...], plan: _Plan) -> None:
    target = member.linkname
    if not target:
        _refuse(member, "is a symlink with an empty target")
    if target.startswith("/"):
        _refuse(member, f"is a symlink to the absolute path {target!r}")
    stack = list(parts[:-1])
    steps = [part for part in target.split("/") if part not in ("", ".")]
    for index, part in enumerate(steps):
        if part != "..":
            stack.append(part)
        elif stack:
            stack.pop()
        else:
            _refuse(member, f"is a symlink pointing outside the directory ({target!r})")
        if index < len(steps) - 1 and "/".join(stack) in plan.symlinks:
            _refuse(member, f"is a symlink whose target goes through another symlink ({target!r})")


def extract_tar(fileobj: IO[bytes], dest: str | os.PathLike[str]) -> list[str]:
    """Extract an uncompressed (or gzip/bz2/xz) tar from a seekable ``fileobj`` into ``dest``.

    Every entry is checked first (:func:`check_members`); when one is refused nothing is
    written. ``dest`` is created if missing. Existing files are replaced; an existing
    symlink in the way is replaced, never followed.

    Returns:
        The extracted entries' normalized names, in archive order.

    Raises:
        UnsafeArchiveError: an entry would escape ``dest`` (nothing was written), or a
            path inside ``dest`` already leads outside it through a symlink.
        DecodeError: ``fileobj`` is not a readable tar archive.
    """
    root = os.path.realpath(os.fspath(dest))
    try:
        with tarfile.open(fileobj=fileobj, mode="r:*") as tar:
            steps = check_members(tar.getmembers())
            os.makedirs(root, exist_ok=True)
            directories = [_extract_one(tar, member, parts, root) for member, parts in steps]
    except tarfile.TarError as exc:
        raise DecodeError(f"not a readable tar archive: {exc}") from exc
    # Directory modes and times last, so a read-only directory does not block its contents.
    for member, target in (item for item in directories if item is not None):
        os.chmod(target, (member.mode & _FILE_MODE_MASK) | 0o700)
        os.utime(target, (member.mtime, member.mtime))
    return ["/".join(parts) or "." for _member, parts in steps]


def _extract_one(
    tar: tarfile.TarFile, member: tarfile.TarInfo, parts: tuple[str, ...], root: str
) -> tuple[tarfile.TarInfo, str] | None:
    target = os.path.join(root, *parts)
    parent = os.path.dirname(target) if parts else root
    _check_inside(member, parent, root)
    os.makedirs(parent, exist_ok=True)
    if member.isdir():
        _clear_non_directory(target)
        os.makedirs(target, exist_ok=True)
        return member, target
    _clear_for_file(member, target)
    if member.issym():
        _check_inside(member, os.path.join(parent, member.linkname), root)
        os.symlink(member.linkname, target)
    elif member.islnk():
        linked = (part for part in member.linkname.split("/") if part not in ("", "."))
        source = os.path.join(root, *linked)
        os.link(source, target, follow_symlinks=False)
    else:
        _write_file(tar, member, target)
    return None


def _check_inside(member: tarfile.TarInfo, path: str, root: str) -> None:
    resolved = os.path.realpath(path)
    if resolved != root and not resolved.startswith(root + os.sep):
        _refuse(member, f"would be written outside the directory (through {resolved!r})")


def _clear_non_directory(target: str) -> None:
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):
        os.unlink(target)


def _clear_for_file(member: tarfile.TarInfo, target: str) -> None:
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        _refuse(member, "would replace an existing directory")
    os.unlink(target)


def _write_file(tar: tarfile.TarFile, member: tarfile.TarInfo, target: str) -> None:
    mode = (member.mode & _FILE_MODE_MASK) | 0o600
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    source = tar.extractfile(member)
    assert source is not None  # a regular file always has a body
    with source, os.fdopen(os.open(target, flags, mode), "wb") as out:
        shutil.copyfileobj(source, out, _COPY_BUFFER)
        os.chmod(out.fileno(), mode)
    os.utime(target, (member.mtime, member.mtime), follow_symlinks=False)

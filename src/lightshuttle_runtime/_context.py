"""Packing a directory into the build-context tar that ``POST /build`` takes.

What goes in, and how (the Docker CLI's choices unless said otherwise):

- every file, directory and symlink under the context directory that ``.dockerignore``
  does not exclude (see :mod:`._dockerignore`); the root itself has no entry;
- the Dockerfile and ``.dockerignore`` are always sent, even when a pattern excludes them:
  the builder needs them, and removes them from what ``COPY``/``ADD`` see when excluded;
- symlinks are stored as symlinks with their target text as is, never followed, so a link
  cannot pull files from outside the context (the builder resolves links inside the image);
- sockets, FIFOs and devices are skipped (the CLI sends FIFO and device headers, which no
  build can use); hard links are stored as separate regular files;
- owner ``0:0`` with no user or group names, and the files' permission bits kept.

Deterministic bytes (a choice of ours): entries are in sorted order, depth first, and every
``mtime`` is ``0`` unless asked otherwise, so the same files always give the same tar. Neither
builder's cache looks at ``mtime`` (the classic builder hashes each file's content and header
without it), so a fixed one costs no cache hits; files copied into the image then carry the
1970-01-01 timestamp, as with ``SOURCE_DATE_EPOCH=0`` reproducible builds. Pass ``mtime=None``
to keep each file's own (whole seconds).
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from ._dockerignore import DOCKERIGNORE, DockerignoreMatcher, load_dockerignore
from ._errors import InvalidArgumentError

__all__ = ["DEFAULT_DOCKERFILE", "context_entries", "dockerfile_in_context", "pack_context"]

#: The Dockerfile's name when none is given (as for ``docker build``).
DEFAULT_DOCKERFILE = "Dockerfile"


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str  # relative, slash-separated
    path: str  # on disk
    info: os.stat_result


def dockerfile_in_context(context_dir: str | os.PathLike[str], dockerfile: str) -> str:
    """The Dockerfile's path relative to the context, slash-separated (``docker/Dockerfile``).

    ``dockerfile`` is relative to the context directory, or absolute; it is checked
    lexically (symlinks are not resolved), not for existence: the builder reports a
    missing one.

    Raises:
        InvalidArgumentError: it is empty or lies outside the context directory.
    """
    if not isinstance(dockerfile, str) or not dockerfile.strip():
        raise InvalidArgumentError(f"dockerfile {dockerfile!r} must be a non-empty path")
    root = os.path.abspath(context_dir)
    full = os.path.abspath(os.path.join(root, dockerfile))
    relative = os.path.relpath(full, root)
    if relative == os.curdir or relative.split(os.sep)[0] == os.pardir:
        raise InvalidArgumentError(
            f"dockerfile {dockerfile!r} is not inside the build context {root}"
        )
    return PurePosixPath(*relative.split(os.sep)).as_posix()


def context_entries(
    context_dir: str | os.PathLike[str], *, dockerfile: str = DEFAULT_DOCKERFILE
) -> list[str]:
    """The names :func:`pack_context` would put in the tar, in their order.

    Raises:
        InvalidArgumentError: as :func:`pack_context`.
    """
    return [entry.name for entry in _entries(context_dir, dockerfile)]


def pack_context(
    context_dir: str | os.PathLike[str],
    *,
    dockerfile: str = DEFAULT_DOCKERFILE,
    mtime: int | None = 0,
) -> bytes:
    """The build-context tar (uncompressed) of ``context_dir``, honouring its ``.dockerignore``.

    Blocking file I/O: from async code, run it in a worker thread
    (``await anyio.to_thread.run_sync(...)``); :meth:`DockerClient.build` does so when
    given a directory. The whole tar is held in memory.

    Args:
        context_dir: the directory to send.
        dockerfile: the Dockerfile's path inside it (sent even if ``.dockerignore`` excludes it).
        mtime: the modification time, in seconds since the epoch, of every entry; ``None``
            keeps each file's own.

    Raises:
        InvalidArgumentError: ``context_dir`` is not a directory; the Dockerfile path lies
            outside it; ``.dockerignore`` is unreadable or has a malformed pattern; a file
            cannot be read (the message names it).
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in _entries(context_dir, dockerfile):
            _add(tar, entry, mtime)
    return buffer.getvalue()


def _entries(context_dir: str | os.PathLike[str], dockerfile: str) -> list[_Entry]:
    root = os.fspath(context_dir)
    if not os.path.isdir(root):
        raise InvalidArgumentError(f"build context {root!r} is not a directory")
    keep = {DOCKERIGNORE, dockerfile_in_context(root, dockerfile)}
    matcher = DockerignoreMatcher(load_dockerignore(root))
    return list(_walk(root, "", matcher, keep))


def _walk(root: str, prefix: str, matcher: DockerignoreMatcher, keep: set[str]) -> Iterator[_Entry]:
    directory = os.path.join(root, *prefix.split("/")) if prefix else root
    try:
        with os.scandir(directory) as listing:
            found = sorted((item.name, item.path) for item in listing)
    except OSError as exc:
        raise _unreadable(directory, exc) from exc
    for name, path in found:
        relative = f"{prefix}/{name}" if prefix else name
        try:
            info = os.lstat(path)
        except OSError as exc:
            raise _unreadable(path, exc) from exc
        excluded = relative not in keep and matcher.matches(relative)
        if not excluded and _is_sendable(info.st_mode):
            yield _Entry(relative, path, info)
        if stat.S_ISDIR(info.st_mode) and (
            not excluded or _may_keep_below(relative, matcher, keep)
        ):
            yield from _walk(root, relative, matcher, keep)


def _may_keep_below(directory: str, matcher: DockerignoreMatcher, keep: set[str]) -> bool:
    below = directory + "/"
    return any(name.startswith(below) for name in keep) or matcher.may_include_below(directory)


def _is_sendable(mode: int) -> bool:
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)


def _add(tar: tarfile.TarFile, entry: _Entry, mtime: int | None) -> None:
    info = tarfile.TarInfo(entry.name)
    info.mode = stat.S_IMODE(entry.info.st_mode)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = int(entry.info.st_mtime) if mtime is None else mtime
    try:
        if stat.S_ISDIR(entry.info.st_mode):
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        elif stat.S_ISLNK(entry.info.st_mode):
            info.type = tarfile.SYMTYPE
            info.linkname = os.readlink(entry.path)
            tar.addfile(info)
        else:
            info.size = entry.info.st_size
            with open(entry.path, "rb") as file:
                tar.addfile(info, file)
    except OSError as exc:
        raise _unreadable(entry.path, exc) from exc


def _unreadable(path: str, exc: OSError) -> InvalidArgumentError:
    reason = exc.strerror or str(exc)
    return InvalidArgumentError(f"cannot read {path!r} for the build context: {reason}")


def syntax_directive(context_tar: bytes, dockerfile: str) -> str | None:
    """The frontend image a Dockerfile's ``# syntax=IMAGE`` parser directive names, else
    ``None``. Reads the Dockerfile from the context tar (any compression tarfile opens);
    a tar without it, or one that does not open, gives ``None`` (the builder will say).

    Parser directives are the ``# key=value`` comment lines at the very top of the file,
    before any blank line, other comment or instruction.
    """
    try:
        with tarfile.open(fileobj=io.BytesIO(context_tar)) as tar:
            member = tar.extractfile(str(PurePosixPath(dockerfile)))
            head = member.read(4096) if member is not None else b""
    except (tarfile.TarError, KeyError, OSError, EOFError):
        return None
    for line in head.decode("utf-8", "replace").splitlines():
        text = line.strip()
        if not text.startswith("#"):
            return None
        key, equals, value = text[1:].partition("=")
        if not equals:
            return None
        if key.strip().lower() == "syntax":
            return value.strip() or None
    return None

"""Container archive endpoints: copy files into a container and out of it as tar archives.

``HEAD``/``GET``/``PUT /containers/{id}/archive`` (API 1.20+). Building a tar from a local
path and extracting one safely are pure helpers in ``_tar.py``.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from typing import IO, Final

import anyio
import httpx
import msgspec

from .._errors import DecodeError, DockerError, InvalidArgumentError
from .._session import EngineSession
from .._stream import EngineStream
from .._streams._raw import ChunkDecoder
from .._tar import extract_tar, write_tar
from .._validate import check_identifier
from ..models import ContainerPathStat

__all__ = ["ArchiveStream", "ArchivesAPI"]

STAT_HEADER: Final = "X-Docker-Container-Path-Stat"
_TAR_TYPE: Final = "application/x-tar"
#: Archives up to this size stay in memory (and are sent with a Content-Length).
_SPOOL_MAX: Final = 8 << 20
_CHUNK: Final = 1 << 16


def decode_path_stat(header: str | None, *, method: str, path: str) -> ContainerPathStat:
    """Decode ``X-Docker-Container-Path-Stat`` (base64 of a JSON object).

    Raises:
        DecodeError: the header is missing, not base64 or not the expected JSON.
    """
    if header is None:
        raise DecodeError(
            f"the engine sent no {STAT_HEADER} header", endpoint=f"{method} {path}", path=path
        )
    try:
        return msgspec.json.decode(base64.b64decode(header), type=ContainerPathStat)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise DecodeError(
            f"the {STAT_HEADER} header is not base64 JSON of a path stat: {exc}",
            endpoint=f"{method} {path}",
            method=method,
            path=path,
        ) from exc


class ArchiveStream(EngineStream[bytes]):
    """The tar body of ``GET /containers/{id}/archive`` as byte chunks, plus the path's stat.

    Use as ``async with client.archives.get(c, "/etc") as archive:`` then ``archive.stat``
    and ``async for chunk in archive``.
    """

    def __init__(self, session: EngineSession, path: str, params: dict[str, str]) -> None:
        self._stat_header: str | None = None
        self._opened = False

        async def open_response() -> httpx.Response:
            return await session.send("GET", path, params=params, timeout=None, stream=True)

        super().__init__(session, "GET", path, open_response, self._decoder_for)
        self._request_path = path

    def _decoder_for(self, response: httpx.Response) -> ChunkDecoder:
        self._opened = True
        self._stat_header = response.headers.get(STAT_HEADER)
        return ChunkDecoder()

    @property
    def stat(self) -> ContainerPathStat:
        """The archived path's stat, from the response header (once the stream is open).

        Raises:
            DockerError: the stream has not been opened yet.
            DecodeError: the header is missing or malformed.
        """
        if not self._opened:
            raise DockerError("the archive stream is not open yet: use `async with` first")
        return decode_path_stat(self._stat_header, method="GET", path=self._request_path)


class ArchivesAPI:
    """``/containers/{id}/archive`` endpoints. Reached as ``client.archives``."""

    def __init__(self, session: EngineSession) -> None:
        self._session = session

    async def stat(self, container: str, path: str) -> ContainerPathStat:
        """``HEAD /containers/{id}/archive``: what is at ``path`` in the container.

        Raises:
            InvalidArgumentError: ``path`` is empty.
            NotFoundError: no such container, or nothing at ``path``.
            DecodeError: the stat header is missing or malformed.
        """
        url = _archive_url(container)
        response = await self._session.send("HEAD", url, params={"path": _check_path(path)})
        return decode_path_stat(response.headers.get(STAT_HEADER), method="HEAD", path=url)

    def get(self, container: str, path: str) -> ArchiveStream:
        """``GET /containers/{id}/archive``: a tar of ``path`` (a file or a whole directory).

        The archive's top entry is the base name of ``path`` (``/etc`` → ``etc/...``). No read
        timeout applies. To unpack it locally use :meth:`extract`.

        Raises (when the stream opens):
            InvalidArgumentError: ``path`` is empty.
            NotFoundError: no such container, or nothing at ``path``.
        """
        return ArchiveStream(self._session, _archive_url(container), {"path": _check_path(path)})

    async def put(
        self,
        container: str,
        path: str,
        data: bytes | AsyncIterable[bytes],
        *,
        no_overwrite_dir_non_dir: bool = False,
        copy_uid_gid: bool = False,
    ) -> None:
        """``PUT /containers/{id}/archive``: unpack a tar into the directory ``path``.

        Args:
            data: an uncompressed (or gzip/bzip2/xz) tar, whole or as chunks.
            no_overwrite_dir_non_dir: fail rather than replace a directory by a file or the
                reverse.
            copy_uid_gid: give the files the container user's uid/gid (API 1.40).

        Raises:
            InvalidArgumentError: ``path`` is empty or ``data`` is neither bytes nor chunks.
            NotFoundError: no such container; on Docker also a missing ``path`` (Podman
                creates it).
            EngineError: ``path`` is a file (Docker 500 "extraction point is not a
                directory", Podman 500), ``data`` is not a tar (500), or the target is
                read-only (403).
        """
        if isinstance(data, bytearray | memoryview):
            data = bytes(data)
        if not isinstance(data, bytes | AsyncIterable):
            raise InvalidArgumentError(
                f"data must be bytes or an async iterable of bytes, not {type(data).__name__}"
            )
        await self._session.send(
            "PUT",
            _archive_url(container),
            params={
                "path": _check_path(path),
                "noOverwriteDirNonDir": no_overwrite_dir_non_dir or None,
                "copyUIDGID": copy_uid_gid or None,
            },
            body=data,
            content_type=_TAR_TYPE,
        )

    async def put_path(
        self,
        container: str,
        path: str,
        source: str | os.PathLike[str],
        *,
        arcname: str | None = None,
        mtime: int | None = None,
    ) -> None:
        """Copy a local file or directory into the directory ``path`` of the container.

        ``source`` is archived (symlinks stored as links, never followed; owned by root)
        and sent with :meth:`put`. It lands as ``path/<arcname>``.

        Args:
            arcname: its name in the container; default: the base name of ``source``;
                ``"."`` copies a directory's contents straight into ``path``.
            mtime: stamp every file with this UNIX time in seconds (reproducible archives).

        Raises:
            InvalidArgumentError: ``source`` does not exist or ``arcname`` is not relative.
            NotFoundError, EngineError: as :meth:`put`.
        """
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX)  # noqa: SIM115
        try:
            await anyio.to_thread.run_sync(_write_spool, source, spool, arcname, mtime)
            size = spool.tell()
            spool.seek(0)
            body = spool.read() if size <= _SPOOL_MAX else _read_chunks(spool)
            await self.put(container, path, body)
        finally:
            spool.close()

    async def extract(
        self, container: str, path: str, dest: str | os.PathLike[str]
    ) -> ContainerPathStat:
        """Copy ``path`` out of the container into the local directory ``dest``.

        The archive is received whole (in memory up to 8 MiB, then in a temporary file),
        every entry is checked, and only then is anything written: ``dest/<basename>``.

        Returns:
            The stat of ``path`` in the container.

        Raises:
            NotFoundError: no such container, or nothing at ``path``.
            UnsafeArchiveError: an entry would land outside ``dest`` (absolute path, ``..``,
                a symlink pointing out, a device file); nothing was written.
            DecodeError: the body is not a tar archive.
        """
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MAX)  # noqa: SIM115
        try:
            async with self.get(container, path) as archive:
                async for chunk in archive:
                    spool.write(chunk)
                stat = archive.stat
            spool.seek(0)
            await anyio.to_thread.run_sync(extract_tar, spool, dest)
        finally:
            spool.close()
        return stat


def _write_spool(
    source: str | os.PathLike[str], spool: IO[bytes], arcname: str | None, mtime: int | None
) -> None:
    write_tar(source, spool, arcname=arcname, mtime=mtime)


async def _read_chunks(spool: IO[bytes]) -> AsyncIterator[bytes]:
    while chunk := await anyio.to_thread.run_sync(spool.read, _CHUNK):
        yield chunk


def _archive_url(container: str) -> str:
    return f"/containers/{check_identifier(container)}/archive"


def _check_path(path: str) -> str:
    if not isinstance(path, str) or not path or "\x00" in path:
        raise InvalidArgumentError(f"path {path!r} must be a non-empty path in the container")
    return path

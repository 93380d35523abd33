"""Container archives: stat, get, put, put_path and extract, on Docker and Podman."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat as posix_stat
import tarfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest

from lightshuttle_runtime import (
    DecodeError,
    DockerClient,
    DockerError,
    EngineError,
    InvalidArgumentError,
    NotFoundError,
    UnsafeArchiveError,
)
from lightshuttle_runtime._config import parse_version
from lightshuttle_runtime.api._archive import decode_path_stat
from lightshuttle_runtime.models import ContainerPathStat
from tests.conftest import Engine

pytestmark = pytest.mark.anyio

NAME = "ls-br-archive"
MTIME = 1_700_000_000


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, MTIME
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


async def _cat(docker: DockerClient, container: str, path: str) -> bytes:
    result = await docker.exec.run(container, ["cat", path])
    assert result.exit_code == 0, result.stderr
    return result.stdout


async def test_put_bytes_then_stat_and_get(docker: DockerClient, running: str) -> None:
    with anyio.fail_after(60):
        await docker.archives.put(running, "/tmp", _tar({"hello.txt": b"hello archive\n"}))
        assert await _cat(docker, running, "/tmp/hello.txt") == b"hello archive\n"

        stat = await docker.archives.stat(running, "/tmp/hello.txt")
        assert (stat.name, stat.size, stat.permissions) == ("hello.txt", 14, 0o644)
        assert not stat.is_dir and not stat.is_symlink

        async with docker.archives.get(running, "/tmp/hello.txt") as archive:
            assert archive.stat.name == "hello.txt"
            body = b"".join([chunk async for chunk in archive])
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        assert tar.getnames() == ["hello.txt"]
        member = tar.extractfile("hello.txt")
        assert member is not None and member.read() == b"hello archive\n"


async def test_put_streamed_chunks(docker: DockerClient, running: str) -> None:
    payload = bytes(range(256)) * 1024  # 256 KiB, to cross several chunks
    data = _tar({"blob.bin": payload})

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 50_000):
            yield data[start : start + 50_000]

    with anyio.fail_after(60):
        await docker.archives.put(running, "/tmp", chunks())
        result = await docker.exec.run(running, ["md5sum", "/tmp/blob.bin"])
    assert result.stdout.split()[0].decode() == hashlib.md5(payload).hexdigest()


async def test_directory_stat_reports_a_directory(
    docker: DockerClient, running: str, engine: Engine
) -> None:
    stat = await docker.archives.stat(running, "/etc")
    assert stat.name == "etc"
    assert stat.is_dir and not stat.is_symlink  # from mode, which every engine sends


async def test_put_path_and_extract_round_trip(
    docker: DockerClient, running: str, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    (site / "static").mkdir(parents=True)
    (site / "index.html").write_bytes(b"<h1>hi</h1>\n")
    (site / "static" / "app.js").write_bytes(b"console.log(1)\n")
    (site / "static" / "current").symlink_to("app.js")
    with anyio.fail_after(60):
        await docker.archives.put_path(running, "/tmp", site, mtime=MTIME)
        assert await _cat(docker, running, "/tmp/site/static/current") == b"console.log(1)\n"
        stat = await docker.archives.extract(running, "/tmp/site", tmp_path / "back")
    assert stat.name == "site" and stat.is_dir
    back = tmp_path / "back" / "site"
    assert (back / "index.html").read_bytes() == b"<h1>hi</h1>\n"
    assert os.readlink(back / "static" / "current") == "app.js"
    assert (back / "static" / "current").read_bytes() == b"console.log(1)\n"
    assert os.path.getmtime(back / "index.html") == MTIME


async def test_put_path_of_one_file_with_arcname(
    docker: DockerClient, running: str, tmp_path: Path
) -> None:
    local = tmp_path / "local.conf"
    local.write_bytes(b"key=value\n")
    with anyio.fail_after(60):
        await docker.archives.put_path(running, "/etc", local, arcname="app.conf", mtime=MTIME)
        assert await _cat(docker, running, "/etc/app.conf") == b"key=value\n"


async def test_extract_refuses_an_absolute_symlink_from_the_container(
    docker: DockerClient, running: str, tmp_path: Path
) -> None:
    with anyio.fail_after(60):
        made = await docker.exec.run(running, ["sh", "-c", "mkdir /trap && ln -s /etc /trap/x"])
        assert made.exit_code == 0
        with pytest.raises(UnsafeArchiveError) as caught:
            await docker.archives.extract(running, "/trap", tmp_path / "out")
    assert caught.value.member == "trap/x"
    assert "absolute path '/etc'" in caught.value.reason
    assert not (tmp_path / "out").exists()


async def test_missing_path(docker: DockerClient, running: str) -> None:
    with pytest.raises(NotFoundError):
        await docker.archives.stat(running, "/no/such/path")
    with pytest.raises(NotFoundError):
        async with docker.archives.get(running, "/no/such/path") as archive:
            async for _chunk in archive:
                pass


async def test_put_into_a_missing_directory(
    docker: DockerClient, running: str, engine: Engine
) -> None:
    data = _tar({"f.txt": b"x"})
    if engine.is_podman:
        # Podman creates the missing directory and succeeds.
        await docker.archives.put(running, "/created/by/podman", data)
        assert await _cat(docker, running, "/created/by/podman/f.txt") == b"x"
    else:
        with pytest.raises(NotFoundError):
            await docker.archives.put(running, "/created/by/podman", data)


async def test_put_onto_a_file_and_garbage_are_engine_errors(
    docker: DockerClient, engine: Engine, running: str
) -> None:
    # The spec documents 400 for "not a directory": Docker 28.5 (API 1.51) answers that
    # (BadRequestError); Docker 20.10 (1.41), Docker 26.1 (1.45, engines-up's fallback for
    # docker28) and Podman 4.3 answer 500. Engines between 1.45 and 1.51 are untested.
    with pytest.raises(EngineError) as onto_file:
        await docker.archives.put(running, "/etc/hostname", _tar({"f.txt": b"x"}))
    assert "not a directory" in str(onto_file.value)
    documented = not engine.is_podman and parse_version(await docker.api_version()) >= (1, 51)
    assert onto_file.value.status == (400 if documented else 500)
    with pytest.raises(EngineError) as garbage:
        await docker.archives.put(running, "/tmp", b"this is not a tar archive")
    assert garbage.value.status == 500


async def test_missing_container(docker: DockerClient) -> None:
    with pytest.raises(NotFoundError):
        await docker.archives.put("ls-br-archive-missing", "/tmp", _tar({"f": b""}))


async def test_bad_arguments_are_refused_before_sending(offline: DockerClient) -> None:
    with pytest.raises(InvalidArgumentError, match="path"):
        await offline.archives.stat("c", "")
    with pytest.raises(InvalidArgumentError, match="data must be"):
        await offline.archives.put("c", "/tmp", "not bytes")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="cannot archive"):
        await offline.archives.put_path("c", "/tmp", "/no/such/local/path")


async def test_stat_before_open_is_an_error(offline: DockerClient) -> None:
    stream = offline.archives.get("c", "/etc")
    with pytest.raises(DockerError, match="not open yet"):
        _ = stream.stat
    await stream.aclose()


def test_decode_path_stat_both_engines() -> None:
    docker_header = base64.b64encode(
        b'{"name":"etc","size":4096,"mode":2147484141,'
        b'"mtime":"2026-11-30T09:53:09.485107258Z","linkTarget":""}'
    ).decode()
    podman_header = base64.b64encode(
        b'{"name":"hostname","size":12,"mode":420,"mtime":"2026-11-30T09:53:10.271893881Z",'
        b'"isDir":false,"linkTarget":"/etc/hostname"}'
    ).decode()
    etc = decode_path_stat(docker_header, method="HEAD", path="/x")
    mtime = datetime(2026, 11, 30, 9, 53, 9, 485107, tzinfo=UTC)
    assert etc == ContainerPathStat(name="etc", size=4096, mode=2147484141, mtime=mtime)
    assert etc.is_dir and etc.permissions == 0o755
    assert etc.file_mode.st_mode == posix_stat.S_IFDIR | 0o755
    hostname = decode_path_stat(podman_header, method="HEAD", path="/x")
    assert hostname.link_target == "/etc/hostname"
    assert not hostname.is_dir and not hostname.is_symlink and hostname.file_mode.is_regular


@pytest.mark.parametrize("header", [None, "%%%not base64", base64.b64encode(b"[1]").decode()])
def test_decode_path_stat_refuses_bad_headers(header: str | None) -> None:
    with pytest.raises(DecodeError):
        decode_path_stat(header, method="HEAD", path="/containers/c/archive")

#!/usr/bin/env python3
"""Make the test image ``busybox:local`` in one engine, through lightshuttle_runtime's own client.

The image is a root filesystem built in memory: a static ``/bin/busybox``, a symlink per
applet, ``/etc/passwd`` and ``/etc/group`` for root, and an empty ``/tmp``. It is imported
with ``POST /images/create?fromSrc=-`` and ``CMD ["/bin/sh"]``. Podman ignores the ``tag``
of an import (the image becomes ``repo:latest``), so the imported image is then tagged
``repo:tag`` explicitly. Nothing is done when ``repo:tag`` already exists.

Usage: make_test_image.py --host unix:///run/podman/podman.sock [--repo busybox] [--tag local]
Needs no registry and no network. Runs from a checkout without installing the package.
"""

from __future__ import annotations

import argparse
import io
import shutil
import struct
import subprocess
import sys
import tarfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import anyio

from lightshuttle_runtime import DockerClient, DockerError, NotFoundError

#: A fixed modification time (2024-01-01T00:00:00Z) so the same busybox gives the same tar.
MTIME = 1704067200
PT_INTERP = 3


def is_static_elf(data: bytes) -> bool:
    """Whether ``data`` is a 64-bit little-endian ELF executable without a program interpreter."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return False
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for index in range(phnum):
        (p_type,) = struct.unpack_from("<I", data, phoff + index * phentsize)
        if p_type == PT_INTERP:
            return False
    return True


def find_busybox(explicit: str | None) -> Path:
    """The static busybox binary to put in the image (``--busybox``, else ``/bin/busybox``)."""
    found = explicit or shutil.which("busybox", path="/bin:/usr/bin:/usr/local/bin")
    if not found:
        raise SystemExit("make_test_image: no busybox found; apt-get install busybox-static")
    path = Path(found).resolve()
    if not is_static_elf(path.read_bytes()):
        raise SystemExit(
            f"make_test_image: {path} is not a static x86-64/aarch64 ELF binary; "
            "apt-get install busybox-static"
        )
    return path


def _add(
    tar: tarfile.TarFile, name: str, kind: bytes, *, mode: int, data: bytes = b"", target: str = ""
) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.linkname = kind, mode, MTIME, target
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if data else None)


def build_rootfs(busybox: Path) -> bytes:
    """A tar of the image's root filesystem, in memory; the same busybox gives the same bytes."""
    applets = subprocess.run(
        [str(busybox), "--list"], check=True, capture_output=True, text=True
    ).stdout.split()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for directory, mode in (("bin", 0o755), ("etc", 0o755), ("root", 0o700), ("tmp", 0o1777)):
            _add(tar, directory, tarfile.DIRTYPE, mode=mode)
        _add(tar, "bin/busybox", tarfile.REGTYPE, mode=0o755, data=busybox.read_bytes())
        for applet in sorted(set(applets) - {"busybox"}):
            _add(tar, f"bin/{applet}", tarfile.SYMTYPE, mode=0o777, target="busybox")
        _add(
            tar, "etc/passwd", tarfile.REGTYPE, mode=0o644, data=b"root:x:0:0:root:/root:/bin/sh\n"
        )
        _add(tar, "etc/group", tarfile.REGTYPE, mode=0o644, data=b"root:x:0:\n")
    return out.getvalue()


async def make_image(host: str | None, repo: str, tag: str, busybox: str | None) -> str:
    """Import the image unless ``repo:tag`` exists; return a one-line report."""
    name = f"{repo}:{tag}"
    async with DockerClient(host) as client:
        try:
            found = await client.images.inspect(name)
        except NotFoundError:
            pass
        else:
            return f"{name} already present ({found.id[:19]})"
        rootfs = build_rootfs(find_busybox(busybox))
        image_id = None
        async with client.images.import_image(
            rootfs, repo=repo, tag=tag, changes=['CMD ["/bin/sh"]']
        ) as progress:
            async for message in progress:
                if message.status and message.status.startswith("sha256:"):
                    image_id = message.status
        try:
            await client.images.inspect(name)
        except NotFoundError:
            # Podman named it repo:latest; give it the name the tests use.
            if image_id is None:
                raise SystemExit("make_test_image: the import did not report an image id") from None
            await client.images.tag(image_id, repo=repo, tag=tag)
        found = await client.images.inspect(name)
        return f"{name} imported ({found.id[:19]}, {len(rootfs)} bytes of rootfs)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", help="engine address (default: DOCKER_HOST, then docker.sock)")
    parser.add_argument("--repo", default="busybox")
    parser.add_argument("--tag", default="local")
    parser.add_argument("--busybox", help="the static busybox binary (default: /bin/busybox)")
    args = parser.parse_args(argv)
    try:
        print(anyio.run(make_image, args.host, args.repo, args.tag, args.busybox))
    except DockerError as exc:
        print(f"make_test_image: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The pure tar helpers: building archives from local paths, and refusing hostile ones."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from lightshuttle_runtime import DecodeError, InvalidArgumentError, UnsafeArchiveError
from lightshuttle_runtime._tar import check_members, extract_tar, write_tar


def _tar(*entries: tuple[str, str, bytes | str]) -> io.BytesIO:
    """An in-memory tar of (kind, name, data-or-linkname) entries; kind is file, dir,
    symlink, hardlink, chr, blk or fifo."""
    buffer = io.BytesIO()
    kinds = {
        "dir": tarfile.DIRTYPE,
        "symlink": tarfile.SYMTYPE,
        "hardlink": tarfile.LNKTYPE,
        "chr": tarfile.CHRTYPE,
        "blk": tarfile.BLKTYPE,
        "fifo": tarfile.FIFOTYPE,
    }
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for kind, name, payload in entries:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            if kind == "file":
                assert isinstance(payload, bytes)
                info.size = len(payload)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(payload))
                continue
            info.type = kinds[kind]
            info.mode = 0o755
            if isinstance(payload, str):
                info.linkname = payload
            tar.addfile(info)
    buffer.seek(0)
    return buffer


def _listing(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


# -- extracting benign archives ---------------------------------------------------------------


def test_extracts_files_dirs_and_inside_links(tmp_path: Path) -> None:
    archive = _tar(
        ("dir", "app", b""),
        ("file", "app/main.py", b"print('hi')\n"),
        ("dir", "app/lib", b""),
        ("symlink", "app/lib/main", "../main.py"),
        ("hardlink", "app/copy.py", "app/main.py"),
        ("symlink", "app/here", "."),
    )
    names = extract_tar(archive, tmp_path / "out")
    out = tmp_path / "out"
    assert names == ["app", "app/main.py", "app/lib", "app/lib/main", "app/copy.py", "app/here"]
    assert (out / "app/main.py").read_bytes() == b"print('hi')\n"
    assert os.readlink(out / "app/lib/main") == "../main.py"
    assert (out / "app/lib/main").read_bytes() == b"print('hi')\n"
    assert os.stat(out / "app/copy.py").st_ino == os.stat(out / "app/main.py").st_ino
    assert os.path.getmtime(out / "app/main.py") == 1_700_000_000


def test_drops_setuid_and_group_other_write_bits(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("tool")
        info.mode = 0o4777
        info.size = 2
        tar.addfile(info, io.BytesIO(b"#!"))
    buffer.seek(0)
    extract_tar(buffer, tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / "tool").st_mode) == 0o755


def test_replaces_an_existing_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "config").symlink_to(outside)
    extract_tar(_tar(("file", "config", b"new")), dest)
    assert outside.read_bytes() == b"keep"
    assert not (dest / "config").is_symlink()
    assert (dest / "config").read_bytes() == b"new"


def test_top_level_dot_entry_is_the_target_itself(tmp_path: Path) -> None:
    names = extract_tar(_tar(("dir", ".", b""), ("file", "./a", b"1")), tmp_path)
    assert names == [".", "a"]
    assert (tmp_path / "a").read_bytes() == b"1"


# -- refusing hostile archives ----------------------------------------------------------------

HOSTILE = {
    "absolute path": ("absolute path", [("file", "/etc/evil", b"x")]),
    "dot-dot path": ("'..' component", [("file", "../evil", b"x")]),
    "dot-dot inside path": ("'..' component", [("dir", "a", b""), ("file", "a/../../evil", b"x")]),
    "absolute symlink": ("symlink to the absolute path", [("symlink", "link", "/etc/passwd")]),
    "symlink escaping with dot-dot": (
        "pointing outside",
        [("dir", "a", b""), ("symlink", "a/up", "../../etc")],
    ),
    "write through a symlink": (
        "through the symlink 'd'",
        [("symlink", "d", "sub"), ("file", "d/x", b"x")],
    ),
    "symlink then file under it pointing out": (
        "through the symlink 'escape'",
        [
            ("symlink", "escape", "."),
            ("symlink", "escape/x", "../.."),
        ],
    ),
    "symlink chain escape": (
        "through another symlink",
        [
            ("dir", "d", b""),
            ("symlink", "d/s", ".."),
            ("symlink", "e", "d/s/.."),
        ],
    ),
    "hard link to absolute path": ("absolute hard link target", [("hardlink", "h", "/etc/shadow")]),
    "hard link with dot-dot": (
        "'..' component in its hard link target",
        [("hardlink", "h", "../outside")],
    ),
    "hard link to a symlink": (
        "not a file stored before",
        [("symlink", "s", "x"), ("hardlink", "h", "s")],
    ),
    "hard link to nothing stored": ("not a file stored before", [("hardlink", "h", "missing")]),
    "character device": ("device file", [("chr", "null", b"")]),
    "block device": ("device file", [("blk", "sda", b"")]),
    "fifo": ("device file or FIFO", [("fifo", "pipe", b"")]),
    "file replacing a directory": ("replace a directory", [("dir", "a", b""), ("file", "a", b"x")]),
    "symlink replacing a directory": (
        "replace a directory",
        [("file", "a/b", b"x"), ("symlink", "a", "b")],
    ),
    "file as the target itself": ("replace a directory", [("file", ".", b"x")]),
    "empty symlink target": ("empty target", [("symlink", "s", "")]),
}


@pytest.mark.parametrize(("reason", "entries"), list(HOSTILE.values()), ids=list(HOSTILE))
def test_refuses_hostile_archives_and_writes_nothing(
    tmp_path: Path, reason: str, entries: list[tuple[str, str, bytes | str]]
) -> None:
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError) as caught:
        extract_tar(_tar(("file", "first-ok", b"ok"), *entries), dest)
    assert caught.value.member != "first-ok"
    assert reason in caught.value.reason
    assert caught.value.reason in str(caught.value)
    assert not dest.exists()
    assert _listing(tmp_path) == []


def test_refuses_a_destination_that_already_leads_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "sub").symlink_to(outside)
    with pytest.raises(UnsafeArchiveError, match="outside"):
        extract_tar(_tar(("file", "sub/x", b"x")), dest)
    assert list(outside.iterdir()) == []


def test_check_members_returns_normalized_parts() -> None:
    with tarfile.open(fileobj=_tar(("dir", "./a/", b""), ("file", "a//b", b"1"))) as tar:
        steps = check_members(tar.getmembers())
    assert [parts for _member, parts in steps] == [("a",), ("a", "b")]


def test_garbage_is_a_decode_error(tmp_path: Path) -> None:
    with pytest.raises(DecodeError, match="not a readable tar"):
        extract_tar(io.BytesIO(b"this is not a tar archive" * 40), tmp_path)


def test_truncated_archive_is_a_decode_error(tmp_path: Path) -> None:
    whole = _tar(("file", "big", b"x" * 5000)).getvalue()
    with pytest.raises(DecodeError):
        extract_tar(io.BytesIO(whole[:1500]), tmp_path / "out")


# -- writing archives -------------------------------------------------------------------------


def test_write_tar_of_a_directory_keeps_symlinks_as_links(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"do not copy")
    source = tmp_path / "site"
    (source / "static").mkdir(parents=True)
    (source / "index.html").write_bytes(b"<p>hi</p>")
    (source / "static" / "leak").symlink_to(secret)
    (source / "static" / "outdir").symlink_to(tmp_path)
    buffer = io.BytesIO()
    write_tar(source, buffer, mtime=1_600_000_000)
    buffer.seek(0)
    with tarfile.open(fileobj=buffer) as tar:
        members = {member.name: member for member in tar.getmembers()}
        assert sorted(members) == [
            "site",
            "site/index.html",
            "site/static",
            "site/static/leak",
            "site/static/outdir",
        ]
        assert members["site/static/leak"].issym()
        assert members["site/static/leak"].linkname == str(secret)
        assert members["site/static/outdir"].issym()
        assert all(m.uid == 0 and m.gid == 0 and m.uname == "root" for m in members.values())
        assert all(m.mtime == 1_600_000_000 for m in members.values())
        body = tar.extractfile(members["site/index.html"])
        assert body is not None and body.read() == b"<p>hi</p>"
        assert b"do not copy" not in buffer.getvalue()


def test_write_tar_of_one_file_with_arcname(tmp_path: Path) -> None:
    source = tmp_path / "local.conf"
    source.write_bytes(b"k=v\n")
    buffer = io.BytesIO()
    write_tar(source, buffer, arcname="app.conf")
    buffer.seek(0)
    with tarfile.open(fileobj=buffer) as tar:
        assert tar.getnames() == ["app.conf"]


@pytest.mark.parametrize("arcname", ["", "/abs", "..", "a/../../b"])
def test_write_tar_refuses_bad_arcnames(tmp_path: Path, arcname: str) -> None:
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(InvalidArgumentError, match="arcname"):
        write_tar(tmp_path / "f", io.BytesIO(), arcname=arcname)


def test_write_tar_of_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="cannot archive"):
        write_tar(tmp_path / "missing", io.BytesIO())


def test_round_trip_through_write_and_extract(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "a" / "b").mkdir(parents=True)
    (source / "a" / "b" / "c.txt").write_bytes(b"deep")
    (source / "a" / "link").symlink_to("b/c.txt")
    buffer = io.BytesIO()
    write_tar(source, buffer, arcname=".")
    buffer.seek(0)
    extract_tar(buffer, tmp_path / "dst")
    assert _listing(tmp_path / "dst") == ["a", "a/b", "a/b/c.txt", "a/link"]
    assert (tmp_path / "dst" / "a" / "link").read_bytes() == b"deep"

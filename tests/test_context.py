"""Packing a build context: what the tar holds, in which order, with which headers."""

from __future__ import annotations

import io
import os
import socket
import tarfile
from pathlib import Path

import pytest

from lightshuttle_runtime import InvalidArgumentError
from lightshuttle_runtime._context import context_entries, dockerfile_in_context, pack_context


def members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {info.name: info for info in tar.getmembers()}


def names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getnames()


def file_text(data: bytes, name: str) -> str:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        extracted = tar.extractfile(name)
        assert extracted is not None
        return extracted.read().decode()


def make_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_everything_is_sent_in_sorted_depth_first_order(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {"Dockerfile": "FROM x\n", "b.txt": "b", "a/z.txt": "z", "a/b/c.txt": "c", "a.txt": "a"},
    )
    data = pack_context(tmp_path)
    assert names(data) == [
        "Dockerfile",
        "a",
        "a/b",
        "a/b/c.txt",
        "a/z.txt",
        "a.txt",
        "b.txt",
    ]
    assert context_entries(tmp_path) == names(data)
    assert file_text(data, "a/b/c.txt") == "c"


def test_headers_are_normalized_and_deterministic(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "FROM x\n", "run.sh": "#!/bin/sh\n", "d/f": "f"})
    (tmp_path / "run.sh").chmod(0o755)
    (tmp_path / "d/f").chmod(0o640)
    first = pack_context(tmp_path)
    os.utime(tmp_path / "run.sh", (1_700_000_000, 1_700_000_000))
    assert pack_context(tmp_path) == first  # the bytes do not depend on mtimes
    infos = members(first)
    assert {info.mtime for info in infos.values()} == {0}
    assert {(info.uid, info.gid, info.uname, info.gname) for info in infos.values()} == {
        (0, 0, "", "")
    }
    assert infos["run.sh"].mode == 0o755
    assert infos["d/f"].mode == 0o640
    assert infos["d"].isdir()
    assert infos["Dockerfile"].size == len("FROM x\n")


def test_mtime_none_keeps_the_files_own(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "FROM x\n"})
    os.utime(tmp_path / "Dockerfile", (1_700_000_000.75, 1_700_000_000.75))
    assert members(pack_context(tmp_path, mtime=None))["Dockerfile"].mtime == 1_700_000_000
    assert members(pack_context(tmp_path, mtime=42))["Dockerfile"].mtime == 42


def test_dockerignore_is_applied(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            "Dockerfile": "FROM x\n",
            ".dockerignore": "# build outputs\n*.log\nnode_modules\n**/__pycache__\n!keep.log\n",
            "app.py": "",
            "debug.log": "",
            "keep.log": "",
            "sub/trace.log": "",  # *.log is root-level only
            "node_modules/x/index.js": "",
            "pkg/__pycache__/m.pyc": "",
            "pkg/m.py": "",
        },
    )
    assert context_entries(tmp_path) == [
        ".dockerignore",
        "Dockerfile",
        "app.py",
        "keep.log",
        "pkg",
        "pkg/m.py",
        "sub",
        "sub/trace.log",
    ]


def test_dockerfile_and_dockerignore_are_sent_even_when_excluded(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {".dockerignore": "*\n", "Dockerfile": "FROM x\n", "other": ""},
    )
    assert context_entries(tmp_path) == [".dockerignore", "Dockerfile"]


def test_a_dockerfile_in_an_excluded_directory_is_sent_alone(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            ".dockerignore": "build\n",
            "build/Dockerfile.app": "FROM x\n",
            "build/secret": "",
            "main.c": "",
        },
    )
    entries = context_entries(tmp_path, dockerfile="build/Dockerfile.app")
    # Like the Docker CLI: the file is sent, the excluded directory's own entry is not.
    assert entries == [".dockerignore", "build/Dockerfile.app", "main.c"]
    absolute = str(tmp_path / "build" / "Dockerfile.app")
    assert context_entries(tmp_path, dockerfile=absolute) == entries


def test_an_exception_re_includes_below_an_excluded_directory(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            ".dockerignore": "*\n!*/keep\n!Dockerfile\n",
            "Dockerfile": "FROM x\n",
            "a/keep": "",
            "a/drop": "",
            "b/drop": "",
        },
    )
    assert context_entries(tmp_path) == [".dockerignore", "Dockerfile", "a/keep"]


def test_symlinks_are_stored_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    make_tree(outside, {"secret.txt": "SECRET-CONTENT", "dir/inner.txt": "INNER-CONTENT"})
    context = tmp_path / "ctx"
    make_tree(context, {"Dockerfile": "FROM x\n", "real.txt": "real"})
    (context / "to-secret").symlink_to(outside / "secret.txt")
    (context / "to-dir").symlink_to(outside / "dir", target_is_directory=True)
    (context / "relative").symlink_to("real.txt")
    (context / "dangling").symlink_to("missing")
    data = pack_context(context)
    infos = members(data)
    assert sorted(infos) == [
        "Dockerfile",
        "dangling",
        "real.txt",
        "relative",
        "to-dir",
        "to-secret",
    ]
    assert infos["to-secret"].issym()
    assert infos["to-secret"].linkname == str(outside / "secret.txt")
    assert infos["to-secret"].size == 0
    assert infos["to-dir"].issym()
    assert infos["relative"].linkname == "real.txt"
    assert infos["dangling"].linkname == "missing"
    assert b"SECRET-CONTENT" not in data and b"INNER-CONTENT" not in data


def test_sockets_and_fifos_are_skipped(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "FROM x\n"})
    os.mkfifo(tmp_path / "pipe")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "sock"))
        assert context_entries(tmp_path) == ["Dockerfile"]


def test_long_and_non_ascii_names_round_trip(tmp_path: Path) -> None:
    long_name = "d" * 60 + "/" + "f" * 120 + ".txt"
    make_tree(tmp_path, {"Dockerfile": "FROM x\n", long_name: "long", "café/ünï.txt": "u"})
    found = names(pack_context(tmp_path))
    assert long_name in found
    assert "café/ünï.txt" in found


def test_a_missing_dockerfile_is_left_to_the_builder(tmp_path: Path) -> None:
    make_tree(tmp_path, {"app.py": ""})
    assert context_entries(tmp_path) == ["app.py"]


def test_the_context_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="is not a directory"):
        pack_context(tmp_path / "missing")
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidArgumentError, match="is not a directory"):
        pack_context(tmp_path / "file")


@pytest.mark.parametrize("dockerfile", ["../Dockerfile", "/etc/Dockerfile", ".", "", "a/../../x"])
def test_the_dockerfile_must_be_inside_the_context(tmp_path: Path, dockerfile: str) -> None:
    with pytest.raises(InvalidArgumentError, match="dockerfile"):
        pack_context(tmp_path, dockerfile=dockerfile)


def test_dockerfile_paths_are_made_relative(tmp_path: Path) -> None:
    assert dockerfile_in_context(tmp_path, "Dockerfile") == "Dockerfile"
    assert dockerfile_in_context(tmp_path, "./docker//Dockerfile") == "docker/Dockerfile"
    assert dockerfile_in_context(tmp_path, str(tmp_path / "x" / "D")) == "x/D"


def test_a_malformed_dockerignore_is_refused(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "FROM x\n", ".dockerignore": "ok\n[bad\n"})
    with pytest.raises(InvalidArgumentError, match=r"malformed .dockerignore pattern '\[bad'"):
        pack_context(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    make_tree(tmp_path, {"Dockerfile": "FROM x\n", "locked": "x"})
    (tmp_path / "locked").chmod(0)
    try:
        with pytest.raises(InvalidArgumentError, match="locked"):
            pack_context(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o644)

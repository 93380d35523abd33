"""Secrets stay secret, ports stay on loopback, archives stay inside their directory.

- Registry credentials travel as URL-safe base64 JSON in ``X-Registry-Auth`` (and
  ``X-Registry-Config`` for builds) and appear in no error message (at any depth of its
  chain) or recorded cassette. (The lint over ``tests/cassettes/`` is tests/testing/test_lint.py.)
- Published ports bind ``127.0.0.1`` unless the spec names another address, checked in the
  create request and live in ``HostConfig.PortBindings`` on Docker and Podman.
- Extraction refuses hostile tars (absolute names, ``..``, a symlink then a file through it,
  device files, PAX and GNU long names hiding ``..``) and, for any archive hypothesis makes up,
  either writes only inside its directory or writes nothing.
"""

from __future__ import annotations

import base64
import binascii
import errno
import io
import json
import os
import tarfile
import tempfile
from pathlib import Path

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightshuttle_runtime import (
    DecodeError,
    DockerClient,
    DockerError,
    NotFoundError,
    RegistryAuthError,
    ServerError,
    StreamError,
    TransportKind,
    UnsafeArchiveError,
)
from lightshuttle_runtime._tar import extract_tar
from lightshuttle_runtime._transports import UnixSocketTransport
from lightshuttle_runtime.runtime import ContainerSpec, DockerRuntime, PortSpec
from lightshuttle_runtime.runtime._create import create_request
from lightshuttle_runtime.testing import (
    Behaviour,
    CassetteTransport,
    FakeEngine,
    respond,
    respond_json,
    stream_chunks,
)
from lightshuttle_runtime.testing._lint import lint_cassette
from tests.conftest import Engine

from .conftest import CONTAINER, client_for, examples

# Chosen so that standard base64 of the JSON holds "+" and "/" (URL-safe must not).
PASSWORD = "s3cr3t?>>>~~~pa$$"
AUTH = {"username": "robot", "password": PASSWORD, "serveraddress": "registry.example:5000"}


def header_forms() -> list[str]:
    """The credential in every form it could leak: raw, and both base64 alphabets of the JSON."""
    raw = json.dumps(AUTH, separators=(",", ":")).encode()
    return [
        PASSWORD,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
    ]


def assert_no_secret(text: str) -> None:
    for form in header_forms():
        assert form not in text
    assert "s3cr3t" not in text


@pytest.mark.parametrize("form", range(4))
def test_the_secret_check_sees_every_form_of_the_credential(form: int) -> None:
    """The checks below can fail: each form the credential could leak in is caught, inside
    any text (the raw password, a fragment of it, both base64 alphabets of the header)."""
    leaked = [*header_forms(), "s3cr3t"][form]
    with pytest.raises(AssertionError):
        assert_no_secret(f"GET /images/create failed (X-Registry-Auth: {leaked}) ...")


# -- X-Registry-Auth ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_registry_auth_is_url_safe_base64_json(sock_path: str) -> None:
    async with FakeEngine(sock_path) as fake:
        fake.enqueue(stream_chunks([b'{"status":"Pulling"}\n', b'{"status":"Done"}\n']))
        async with (
            client_for(sock_path) as docker,
            docker.images.pull("registry.example:5000/app:1", auth=AUTH) as pull,
        ):
            statuses = [message.status async for message in pull]
    assert statuses == ["Pulling", "Done"]
    value = fake.requests[0].header("X-Registry-Auth")
    assert value is not None
    assert "+" not in value and "/" not in value
    assert json.loads(base64.urlsafe_b64decode(value)) == AUTH
    with pytest.raises((binascii.Error, ValueError)):
        json.loads(base64.b64decode(value, validate=True))  # not plain base64


@pytest.mark.anyio
async def test_build_registry_config_is_url_safe_base64_json(sock_path: str) -> None:
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        dockerfile = b"FROM busybox:local\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    async with FakeEngine(sock_path) as fake:
        fake.enqueue(stream_chunks([b'{"aux":{"ID":"sha256:abc"}}\n']))
        async with client_for(sock_path) as docker:
            build = docker.build(
                context.getvalue(), registry_config={"registry.example": AUTH}, builder="classic"
            )
            async with build as messages:
                assert [m async for m in messages]
    value = fake.requests[0].header("X-Registry-Config")
    assert value is not None and "+" not in value and "/" not in value
    assert json.loads(base64.urlsafe_b64decode(value)) == {"registry.example": AUTH}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            respond_json({"message": "unauthorized: incorrect username or password"}, status=500),
            RegistryAuthError,
        ),
        (respond_json({"message": "pull access denied for app"}, status=404), NotFoundError),
        (respond_json({"message": "registry unreachable"}, status=500), ServerError),
        (
            stream_chunks(
                [b'{"errorDetail":{"message":"denied: requested access"},"error":"x"}\n']
            ),
            RegistryAuthError,
        ),
        (stream_chunks([b'{"errorDetail":{"message":"dial tcp"},"error":"x"}\n']), StreamError),
        (respond(200, b"not json at all\n", chunked=True), DecodeError),
    ],
    ids=["500-auth", "404", "500", "in-band-auth", "in-band", "garbage"],
)
async def test_no_credential_in_errors(
    sock_path: str, answer: Behaviour, error: type[DockerError]
) -> None:
    # Errors name the request (method, path, status); the credential header is never part of
    # what they say, at any depth of the chain. (The package logs nothing, and its reprs show
    # no request headers, so only errors can carry a header's value.)
    async with FakeEngine(sock_path) as fake:
        fake.enqueue(answer)
        async with client_for(sock_path) as docker:
            pull = docker.images.pull("registry.example:5000/app:1", auth=AUTH)
            with pytest.raises(error) as caught:
                async with pull as messages:
                    async for _message in messages:
                        pass
    assert isinstance(caught.value, error)
    if error is RegistryAuthError:  # also the kind the engine's error was
        assert isinstance(caught.value, StreamError | ServerError)
    assert caught.value.path is not None and "/images/create" in caught.value.path
    texts: list[str] = []
    chain: BaseException | None = caught.value
    while chain is not None:
        texts += [str(chain), repr(chain), repr(chain.args)]
        chain = chain.__cause__ or chain.__context__
    for text in texts:
        assert_no_secret(text)
    assert fake.requests[0].header("X-Registry-Auth")  # it was sent, only never shown


@pytest.mark.anyio
async def test_a_recorded_cassette_holds_no_credential(sock_path: str, tmp_path: Path) -> None:
    path = tmp_path / "pull.json"
    async with FakeEngine(sock_path) as fake:
        fake.enqueue(
            stream_chunks([b'{"status":"Pulling"}\n']),
            respond_json({"message": "unauthorized"}, status=500),
        )
        cassette = CassetteTransport(
            path, record_mode="all", transport=UnixSocketTransport(sock_path)
        )
        async with DockerClient(f"unix://{sock_path}", api_version="1.41", transport=cassette) as d:
            async with d.images.pull("registry.example:5000/app:1", auth=AUTH) as pull:
                assert [m.status async for m in pull] == ["Pulling"]
            with pytest.raises(RegistryAuthError):
                async with d.images.pull("registry.example:5000/app:2", auth=AUTH) as pull:
                    pass
    text = path.read_text()
    assert "X-Registry-Auth" in text  # the header is kept, its value redacted
    assert_no_secret(text)
    assert lint_cassette(path, secrets=[PASSWORD]) == []


# -- ports bind to loopback --------------------------------------------------------------------


def test_ports_bind_loopback_unless_an_address_is_named() -> None:
    spec = ContainerSpec(
        "web",
        "busybox:local",
        ports=[
            PortSpec(80),
            PortSpec(81, 8081),
            PortSpec(53, protocol="udp"),
            PortSpec(82, None, "0.0.0.0"),
        ],
    )
    bindings = create_request(spec).host_config
    assert bindings is not None and bindings.port_bindings is not None
    addresses = {
        port: [b.host_ip for b in found or []] for port, found in bindings.port_bindings.items()
    }
    assert addresses == {
        "80/tcp": ["127.0.0.1"],
        "81/tcp": ["127.0.0.1"],
        "53/udp": ["127.0.0.1"],
        "82/tcp": ["0.0.0.0"],
    }


@pytest.mark.anyio
@pytest.mark.live
@pytest.mark.both_transports
async def test_live_published_ports_bind_loopback(
    engine: Engine, transport_kind: TransportKind
) -> None:
    name = "ls-rel-ports"
    async with DockerClient(engine.host, transport_kind=transport_kind) as docker:
        runtime = DockerRuntime(docker)
        await runtime.remove(name)
        spec = ContainerSpec(
            name,
            "busybox:local",
            command=["sleep", "30"],
            ports=[PortSpec(8080), PortSpec(9090, protocol="udp"), PortSpec(7070, None, "0.0.0.0")],
        )
        try:
            container = await runtime.start(spec)
            info = await docker.containers.inspect(container)
        finally:
            with anyio.CancelScope(shield=True):
                await runtime.remove(name)
    assert info.host_config is not None and info.host_config.port_bindings is not None
    bound = {
        port: {b.host_ip for b in found or []}
        for port, found in info.host_config.port_bindings.items()
    }
    assert bound == {"8080/tcp": {"127.0.0.1"}, "9090/udp": {"127.0.0.1"}, "7070/tcp": {"0.0.0.0"}}


# -- hostile archives --------------------------------------------------------------------------


def tar_of(
    *entries: tarfile.TarInfo | tuple[tarfile.TarInfo, bytes], fmt: int = tarfile.PAX_FORMAT
) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:
        for entry in entries:
            if isinstance(entry, tuple):
                info, data = entry
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(entry)
    return buffer.getvalue()


def info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = link
    member.mode = 0o755 if kind in (tarfile.DIRTYPE, tarfile.SYMTYPE) else 0o644
    return member


LONG = "d/" * 60  # over 100 bytes: stored in a PAX or GNU long-name record
HOSTILE = {
    "absolute": tar_of((info("/tmp/evil"), b"x")),
    "dot-dot": tar_of((info("../evil"), b"x")),
    "symlink then file through it": tar_of(
        info("link", tarfile.SYMTYPE, "/tmp"), (info("link/evil"), b"x")
    ),
    "inside symlink then file through it": tar_of(
        info("sub", tarfile.DIRTYPE), info("link", tarfile.SYMTYPE, "sub"), (info("link/x"), b"x")
    ),
    "character device": tar_of(info("null", tarfile.CHRTYPE)),
    "block device": tar_of(info("disk", tarfile.BLKTYPE)),
    "fifo": tar_of(info("pipe", tarfile.FIFOTYPE)),
    "pax long name with dot-dot": tar_of((info(LONG + "../" * 70 + "evil"), b"x")),
    "gnu long name with dot-dot": tar_of(
        (info(LONG + "../" * 70 + "evil"), b"x"), fmt=tarfile.GNU_FORMAT
    ),
    "pax long symlink target out": tar_of(info("l", tarfile.SYMTYPE, "../" * 60 + "etc")),
    "hard link to outside file": tar_of(info("h", tarfile.LNKTYPE, "/etc/passwd")),
}


@pytest.mark.parametrize("archive", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_archives_are_refused_and_nothing_is_written(
    tmp_path: Path, archive: bytes
) -> None:
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError):
        extract_tar(io.BytesIO(archive), dest)
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.anyio
@pytest.mark.parametrize("archive", list(HOSTILE.values())[:4], ids=list(HOSTILE)[:4])
async def test_hostile_archive_from_the_engine_is_refused(
    sock_path: str, tmp_path: Path, archive: bytes
) -> None:
    stat = base64.b64encode(json.dumps({"name": "x", "size": 1, "mode": 0}).encode()).decode()
    async with FakeEngine(sock_path) as fake:
        fake.enqueue(
            respond(
                200,
                archive,
                headers=[
                    ("Content-Type", "application/x-tar"),
                    ("X-Docker-Container-Path-Stat", stat),
                ],
            )
        )
        async with client_for(sock_path) as docker:
            with pytest.raises(UnsafeArchiveError):
                await docker.archives.extract(CONTAINER, "/x", tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def assert_lands_inside(path: Path, inside: str) -> None:
    """``path``, followed through every symlink, stays in ``inside`` (a dangling symlink: its
    target would); a symlink loop, which leads nowhere, must at least point inside."""
    resolved = os.path.realpath(path)
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            resolved = os.path.normpath(os.path.join(path.parent, os.readlink(path)))
    assert resolved == inside or resolved.startswith(inside + os.sep), (path, resolved)


COMPONENTS = st.sampled_from(["a", "b", "..", ".", ""])
NAMES = st.lists(COMPONENTS, min_size=1, max_size=4).map("/".join) | st.just("/abs")
KINDS = st.sampled_from(["file", "dir", "symlink", "hardlink", "fifo"])


@given(st.lists(st.tuples(KINDS, NAMES, NAMES), min_size=1, max_size=6))
@settings(max_examples=examples(300), deadline=None)
def test_any_archive_writes_only_inside_or_nothing(
    entries: list[tuple[str, str, str]],
) -> None:
    kinds = {
        "file": tarfile.REGTYPE,
        "dir": tarfile.DIRTYPE,
        "symlink": tarfile.SYMTYPE,
        "hardlink": tarfile.LNKTYPE,
        "fifo": tarfile.FIFOTYPE,
    }
    members: list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]] = []
    for kind, name, link in entries:
        member = info(name or ".", kinds[kind], link)
        members.append((member, b"data") if kind == "file" else member)
    with tempfile.TemporaryDirectory() as top:
        root = Path(top)
        (root / "outside").mkdir()
        (root / "outside" / "keep").write_bytes(b"keep")
        dest = root / "box" / "dest"
        try:
            extract_tar(io.BytesIO(tar_of(*members)), dest)
        except UnsafeArchiveError:
            assert not (root / "box").exists()
        except DecodeError:
            pass
        else:
            for folder, dirs, files in os.walk(dest):
                for entry in dirs + files:
                    assert_lands_inside(Path(folder, entry), str(dest.resolve()))
        assert sorted(p.name for p in root.iterdir()) == ["box", "outside"] or sorted(
            p.name for p in root.iterdir()
        ) == ["outside"]
        assert [p.name for p in (root / "outside").iterdir()] == ["keep"]
        assert (root / "outside" / "keep").read_bytes() == b"keep"

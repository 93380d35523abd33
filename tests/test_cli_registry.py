"""The registry commands: pull/push progress views offline; login → push → pull → logout on the
live engines against the TLS test registry (with cassettes)."""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path

import httpx
import pytest

from lightshuttle_runtime import DockerClient
from lightshuttle_runtime._cli import ClientFactory, amain, build_parser
from lightshuttle_runtime._cli_registry import PlainProgressView, TtyProgressView, human_size
from lightshuttle_runtime.models import ProgressDetail, ProgressMessage
from tests import credential_helper
from tests.api.test_registry import TLS, registry_user, remove_images, run_id
from tests.conftest import Engine
from tests.test_cli import on

__all__ = ["run_id"]  # the fixture, imported for this module's tests

LAYER = "69e97d303cfe"


def pushing(current: int) -> ProgressMessage:
    return ProgressMessage(
        status="Pushing", id=LAYER, progress_detail=ProgressDetail(current=current, total=2_000_000)
    )


MESSAGES = [
    ProgressMessage(status="The push refers to repository [127.0.0.1:5443/app]"),
    ProgressMessage(status="Preparing", id=LAYER),
    pushing(500_000),
    pushing(1_500_000),
    ProgressMessage(status="Pushed", id=LAYER),
    ProgressMessage(status="v1: digest: sha256:" + "a" * 64 + " size: 527"),
]


def test_plain_progress_is_one_line_per_layer_event() -> None:
    out = io.StringIO()
    view = PlainProgressView(out)
    for message in MESSAGES:
        view.show(message)
    assert out.getvalue().splitlines() == [
        "The push refers to repository [127.0.0.1:5443/app]",
        f"{LAYER}: Preparing",
        f"{LAYER}: Pushing 500.0 kB / 2.0 MB",  # once, not at every byte count
        f"{LAYER}: Pushed",
        "v1: digest: sha256:" + "a" * 64 + " size: 527",
    ]
    assert view.digest == "sha256:" + "a" * 64


def test_tty_progress_redraws_each_layer_in_place() -> None:
    out = io.StringIO()
    view = TtyProgressView(out)
    for message in MESSAGES[:4]:
        view.show(message)
    text = out.getvalue()
    assert text.count("\x1b[1A") == 2  # two redraws of the one layer line
    last = text.rsplit("\x1b[K", 1)[-1]
    assert last.startswith(f"{LAYER}: Pushing [") and last.endswith("1.5 MB / 2.0 MB\n")
    assert "=" * 22 + ">" in last


def test_tty_progress_puts_the_digest_below_the_layers() -> None:
    out = io.StringIO()
    view = TtyProgressView(out)
    for message in MESSAGES:
        view.show(message)
    shown = out.getvalue().split("\x1b[K")
    assert shown[-1].startswith("v1: digest: sha256:")
    assert shown[-2] == f"{LAYER}: Pushed\n\r"  # then the next line clears itself


def test_sizes_are_decimal_like_dockers() -> None:
    assert [human_size(n) for n in (999, 1000, 1_500_000, 3_200_000_000)] == [
        "999 B",
        "1.0 kB",
        "1.5 MB",
        "3.2 GB",
    ]


def test_registry_commands_parse() -> None:
    parser = build_parser()
    args = parser.parse_args(["pull", "--platform", "linux/amd64", "--progress", "plain", "a:1"])
    assert (args.command, args.platform, args.progress, args.image) == (
        "pull",
        "linux/amd64",
        "plain",
        "a:1",
    )
    args = parser.parse_args(["login", "-u", "me", "--password-stdin", "r.example"])
    assert (args.username, args.password_stdin, args.registry) == ("me", True, "r.example")
    assert parser.parse_args(["logout"]).registry is None
    assert parser.parse_args(["save", "-o", "x.tar", "a", "b"]).images == ["a", "b"]
    assert parser.parse_args(["load", "-i", "x.tar"]).input == "x.tar"
    assert parser.parse_args(["images", "--filter", "reference=a*"]).filter == [("reference", "a*")]


@pytest.mark.anyio
async def test_login_push_pull_logout(
    docker: DockerClient,
    engine: Engine,
    run_id: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "docker-config"
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    user = registry_user(engine)
    factory = on(docker)
    monkeypatch.setattr("sys.stdin", io.StringIO(user.password + "\n"))
    login = ["login", "-u", user.username, "--password-stdin", TLS]
    assert await amain(login, client_factory=factory) == 0
    out, err = capsys.readouterr()
    assert out == "Login Succeeded\n" and f"kept in {config / 'config.json'}" in err
    stored = json.loads((config / "config.json").read_text())["auths"][TLS]["auth"]
    assert base64.b64decode(stored).decode() == f"{user.username}:{user.password}"

    repository = f"{TLS}/ls-reg/cli-{engine.name}-{run_id}"
    await docker.images.tag("busybox:local", repo=repository, tag="v1")
    try:
        push = ["push", "--progress", "plain", f"{repository}:v1"]
        assert await amain(push, client_factory=factory) == 0
        out, err = capsys.readouterr()
        digest = out.strip()
        assert digest.startswith("sha256:") and len(digest) == 71
        assert err.startswith(f"The push refers to repository [{repository}")
        await remove_images(docker, f"{repository}:v1")

        pull = ["pull", "--progress", "plain", f"{repository}:v1"]
        assert await amain(pull, client_factory=factory) == 0
        out, err = capsys.readouterr()
        assert out.startswith(f"{repository}:v1")
        assert err  # one line per event
        assert (await docker.images.inspect(f"{repository}:v1")).repo_digests

        assert await amain(["logout", TLS], client_factory=factory) == 0
        out, _ = capsys.readouterr()
        assert out == f"Removed login credentials for {TLS}\n"
        assert json.loads((config / "config.json").read_text())["auths"] == {}
        # Without the credentials the registry refuses, and the error says to log in.
        await remove_images(docker, f"{repository}:v1")
        assert await amain(pull, client_factory=factory) == 1
        _, err = capsys.readouterr()
        assert err.count("lightshuttle-runtime: error: ") == 1
        assert f"lightshuttle-runtime login {TLS}" in err
        assert user.password not in err
    finally:
        await remove_images(docker, f"{repository}:v1")


@pytest.mark.anyio
async def test_tag_then_rmi(
    docker: DockerClient, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    factory = on(docker)
    name = f"ls-cli-tag-{engine.name}"
    await docker.images.remove(f"{name}:v1", missing_ok=True)
    try:
        assert await amain(["tag", "busybox:local", f"{name}:v1"], client_factory=factory) == 0
        busybox = await docker.images.inspect("busybox:local")
        assert (await docker.images.inspect(f"{name}:v1")).id == busybox.id
        assert await amain(["rmi", f"{name}:v1"], client_factory=factory) == 0
        out, _ = capsys.readouterr()
        assert out == f"{name}:v1\n"
        assert (await docker.images.inspect("busybox:local")).id == busybox.id  # still tagged
        # the name is gone: removing it again is an error naming it, exit 1
        assert await amain(["rmi", f"{name}:v1"], client_factory=factory) == 1
        _, err = capsys.readouterr()
        assert err.startswith("lightshuttle-runtime: error: ") and f"{name}:v1" in err
    finally:
        await docker.images.remove(f"{name}:v1", missing_ok=True)


@pytest.mark.anyio
async def test_tag_refuses_a_digest_before_any_request(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[httpx.Request] = []
    target = "app@sha256:" + "a" * 64
    code = await amain(["tag", "busybox:local", target], client_factory=_auth_engine([], seen))
    _, err = capsys.readouterr()
    assert (code, seen) == (1, [])
    assert "cannot carry a digest" in err and err.count("\n") == 1


def _auth_engine(answers: list[httpx.Response], seen: list[httpx.Request]) -> ClientFactory:
    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    client = DockerClient(
        "unix:///nonexistent.sock", api_version="1.41", transport=httpx.MockTransport(handler)
    )
    return on(client)


@pytest.mark.anyio
async def test_login_keeps_the_credential_in_the_configured_creds_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "docker-config"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"credsStore": "lstest"}))
    program = credential_helper.install(tmp_path / "bin", "lstest")
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pw\n"))
    seen: list[httpx.Request] = []
    ok = httpx.Response(200, json={"Status": "Login Succeeded", "IdentityToken": ""})
    factory = _auth_engine([ok], seen)
    argv = ["login", "-u", "robot", "--password-stdin", "r.example:5000"]
    assert await amain(argv, client_factory=factory) == 0
    out, err = capsys.readouterr()
    assert out == "Login Succeeded\n" and "kept in docker-credential-lstest" in err
    assert json.loads(seen[0].content) == {
        "username": "robot",
        "password": "s3cret-pw",
        "serveraddress": "r.example:5000",
    }
    assert credential_helper.stored(program) == {
        "r.example:5000": {"Username": "robot", "Secret": "s3cret-pw"}
    }
    written = json.loads((config / "config.json").read_text())
    assert written == {"credsStore": "lstest", "auths": {"r.example:5000": {}}}
    assert await amain(["logout", "r.example:5000"], client_factory=factory) == 0
    assert credential_helper.stored(program) == {}
    assert json.loads((config / "config.json").read_text())["auths"] == {}


@pytest.mark.anyio
async def test_a_refused_login_keeps_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong-pw-123\n"))
    refused = httpx.Response(
        500, json={"message": "login attempt to r.example failed with status: 401 Unauthorized"}
    )
    factory = _auth_engine([refused], [])
    argv = ["login", "-u", "robot", "--password-stdin", "r.example"]
    assert await amain(argv, client_factory=factory) == 1
    _, err = capsys.readouterr()
    assert err.startswith("lightshuttle-runtime: error: ") and err.count("\n") == 1
    assert "r.example" in err and "wrong-pw-123" not in err
    assert "Check the username and password" in err
    assert not (tmp_path / "config.json").exists()

"""Pull, push, save/load and login against the live test registries, on every engine.

The registries are ``scripts/engines-up registry``'s: ``127.0.0.1:5000`` (plain HTTP, no auth)
and ``127.0.0.1:5443`` (TLS with the script's CA, htpasswd basic auth; the user and password
in ``/var/lib/lightshuttle-test/registry``). Each run pushes an image of its own: a one-layer
image imported from bytes derived from the run's id (kept next to the cassette, so a replay
sends the very same requests), so its layer is nowhere but in the registry once removed
locally and the pull really downloads it.

What the API promises and every engine does: a push ends with the manifest digest, a pull by
tag and by digest brings the image back with per-layer events, wrong or missing credentials
are a :class:`RegistryAuthError` naming the registry (never the password), ``POST /auth``
checks credentials, save/load move images (also between engines).

Engine differences met here (README, features by engine):
- push progress: Docker sends per-layer ``Preparing``/``Pushing`` (bytes)/``Pushed`` lines and
  an ``aux`` with the digest; Podman 4.3 only the first line and ``TAG: digest: ... size: N``;
- pull progress: Docker ``Pulling fs layer``/``Downloading`` (bytes)/``Download complete``/
  ``Extracting`` (bytes)/``Pull complete`` and a ``Digest:`` line; Podman 4.3 ``Pulling fs
  layer``/``Download complete`` per layer, no byte counts, no digest line;
- a refused login: 500 on all three, naming the registry (Docker 28.5 reports the plain-HTTP
  fallback's 400 instead of the 401);
- a pull with a wrong password: Docker 20.10 500 and Docker 28.5 401 before the stream, Podman
  in-band; a push: in-band on all three;
- a pull with no credentials: Docker 20.10 reports its plain-HTTP fallback's failure (500
  "Client sent an HTTP request to an HTTPS server"), Docker 28.5 500 "no basic auth
  credentials", Podman in-band;
- Podman reads ``registries.conf.d`` (the plain registry's ``insecure``) when its service
  starts: a service started before the entry was written cannot use ``127.0.0.1:5000``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import secrets
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

from lightshuttle_runtime import (
    DockerClient,
    NotFoundError,
    RegistryAuth,
    RegistryAuthError,
    StreamError,
)
from lightshuttle_runtime.api import loaded_images
from lightshuttle_runtime.models import ContainerCreateRequest, ProgressMessage
from lightshuttle_runtime.testing.pytest_plugin import record_mode
from tests import credential_helper
from tests.api.test_images import tiny_rootfs
from tests.conftest import ENGINE_SOCKETS, Engine, engine_answers, engine_cassette_path

pytestmark = pytest.mark.anyio

REGISTRY_DIR = Path(os.environ.get("LS_REGISTRY_DIR", "/var/lib/lightshuttle-test/registry"))
PLAIN = "127.0.0.1:5000"
TLS = "127.0.0.1:5443"
#: What a replay sends as the password (the recorded one is redacted): the real one's length.
REPLAY_PASSWORD = "0" * 32
#: Podman's service predates its registries.conf.d entry (see the module docstring).
STALE_INSECURE = "server gave HTTP response to HTTPS client"


def registry_user(engine: Engine) -> RegistryAuth:
    """The test user of the TLS registry (a stand-in password on replay)."""
    if engine.replay:
        return RegistryAuth("lightshuttle", REPLAY_PASSWORD, TLS)
    try:
        username = (REGISTRY_DIR / "username").read_text().strip()
        password = (REGISTRY_DIR / "password").read_text().strip()
    except OSError as exc:
        pytest.skip(f"no test registry credentials in {REGISTRY_DIR} ({exc.strerror})")
    return RegistryAuth(username, password, TLS)


@pytest.fixture
def run_id(engine: Engine, request: pytest.FixtureRequest, anyio_backend: str) -> str:
    """This run's id: random live, the recorded one on replay (a ``.run-id`` file beside the
    cassette, written when recording)."""
    side = engine_cassette_path(request.node, engine).with_suffix(".run-id")
    if engine.replay:
        if not side.exists():
            pytest.skip(f"no {side.name} yet: record with scripts/record-cassettes")
        return side.read_text().strip()
    found = secrets.token_hex(4)
    if record_mode(request.config) != "none" and anyio_backend == "asyncio":
        side.parent.mkdir(parents=True, exist_ok=True)
        side.write_text(found + "\n")
    return found


def layer_tar(seed: str, size: int = 600_000) -> bytes:
    """A root filesystem tar with one file of ``size`` bytes derived from ``seed``."""
    return tiny_rootfs(hashlib.shake_256(seed.encode()).digest(size), "payload.bin")


@dataclass
class Pushed:
    local: str  # the imported image
    remote: str  # REGISTRY/ls-reg/ENGINE-RUN:v1
    digest: str
    messages: list[ProgressMessage]

    @property
    def repository(self) -> str:
        return self.remote.rsplit(":", 1)[0]


async def drain(stream: object) -> list[ProgressMessage]:
    async with stream as messages:  # type: ignore[attr-defined]
        return [message async for message in messages]


async def remove_images(docker: DockerClient, *names: str) -> None:
    for name in names:
        with contextlib.suppress(NotFoundError):
            await docker.images.remove(name, force=True)


async def make_and_push(
    docker: DockerClient, engine: Engine, run_id: str, registry: str, *, suffix: str = ""
) -> Pushed:
    """Import this run's image, tag it into ``registry`` and push it (with the test user's
    credentials on the TLS registry)."""
    seed = f"{run_id}{suffix}"
    local = f"ls-reg-src-{seed}:latest"  # Podman names an import repo:latest whatever the tag
    await drain(docker.images.import_image(layer_tar(seed), repo=f"ls-reg-src-{seed}"))
    repository = f"{registry}/ls-reg/{engine.name}-{seed}"
    await docker.images.tag(local, repo=repository, tag="v1")
    auth = registry_user(engine) if registry == TLS else None
    try:
        messages = await drain(docker.images.push(f"{repository}:v1", auth=auth))
    except StreamError as exc:
        if engine.is_podman and STALE_INSECURE in exc.message:
            await remove_images(docker, local, f"{repository}:v1")
            pytest.skip(f"Podman's service started before {registry} was marked insecure")
        raise
    digests = [m.digest for m in messages if m.digest]
    assert digests, messages
    return Pushed(local, f"{repository}:v1", digests[-1], messages)


@pytest.fixture(params=[PLAIN, TLS], ids=["plain", "tls"])
def registry(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# -- push, pull by tag and by digest -----------------------------------------------------------


async def test_push_then_pull_back_by_tag_and_by_digest(
    docker: DockerClient, engine: Engine, run_id: str, registry: str
) -> None:
    with anyio.fail_after(240):
        pushed = await make_and_push(docker, engine, run_id, registry)
        try:
            assert pushed.digest.startswith("sha256:") and len(pushed.digest) == 71
            first = pushed.messages[0].status or ""
            assert first.startswith("The push refers to repository")
            pushing = [m for m in pushed.messages if m.status == "Pushing"]
            if engine.is_podman:
                assert pushing == []  # Podman 4.3 reports no per-layer progress
            else:
                assert pushing and all(m.id for m in pushing)
                detail = pushing[-1].progress_detail
                assert detail is not None and detail.current and detail.total
            # Only the registry has the layer now.
            await remove_images(docker, pushed.remote, pushed.local)
            auth = registry_user(engine) if registry == TLS else None
            progress = await drain(docker.images.pull(pushed.remote, auth=auth))
            layer_events = [m for m in progress if m.id and m.status]
            statuses = {m.status for m in layer_events}
            assert "Pulling fs layer" in statuses
            assert statuses & {"Download complete", "Pull complete"}
            if not engine.is_podman:
                sized = [
                    m
                    for m in layer_events
                    if m.status in ("Downloading", "Extracting") and m.progress_detail
                ]
                assert sized, progress
                assert all(
                    m.progress_detail and m.progress_detail.total and m.progress_detail.current
                    for m in sized
                )
                assert pushed.digest in {m.digest for m in progress}
            image = await docker.images.inspect(pushed.remote)
            assert f"{pushed.repository}@{pushed.digest}" in image.repo_digests
            # By digest: the same image.
            await remove_images(docker, pushed.remote)
            by_digest = f"{pushed.repository}@{pushed.digest}"
            await drain(docker.images.pull(by_digest, auth=auth))
            assert (await docker.images.inspect(by_digest)).id == image.id
        finally:
            await remove_images(
                docker, pushed.remote, f"{pushed.repository}@{pushed.digest}", pushed.local
            )


async def test_pull_with_platform(docker: DockerClient, engine: Engine, run_id: str) -> None:
    with anyio.fail_after(240):
        pushed = await make_and_push(docker, engine, run_id, TLS)
        try:
            await remove_images(docker, pushed.remote, pushed.local)
            platform = "linux/amd64"
            auth = registry_user(engine)
            await drain(docker.images.pull(pushed.remote, platform=platform, auth=auth))
            image = await docker.images.inspect(pushed.remote)
            assert (image.os, image.architecture) == ("linux", "amd64")
        finally:
            await remove_images(docker, pushed.remote, pushed.local)


# -- credentials refused -----------------------------------------------------------------------


async def test_a_push_without_credentials_is_refused(
    docker: DockerClient, engine: Engine, run_id: str
) -> None:
    repository = f"{TLS}/ls-reg/{engine.name}-noauth-{run_id}"
    await docker.images.tag("busybox:local", repo=repository, tag="v1")
    try:
        with anyio.fail_after(120), pytest.raises(RegistryAuthError) as caught:
            await drain(docker.images.push(f"{repository}:v1"))
        assert caught.value.registry == TLS
        assert TLS in str(caught.value) and "none were sent" in str(caught.value)
        assert caught.value.status is None  # in-band, inside the 200 stream, on every engine
    finally:
        await remove_images(docker, f"{repository}:v1")


async def test_a_pull_without_credentials_is_refused(
    docker: DockerClient, engine: Engine, run_id: str
) -> None:
    with anyio.fail_after(120), pytest.raises(RegistryAuthError) as caught:
        await drain(docker.images.pull(f"{TLS}/ls-reg/{engine.name}-none-{run_id}:v1"))
    assert caught.value.registry == TLS and "none were sent" in str(caught.value)
    # Docker 20.10 reports its plain-HTTP fallback (500), Docker 28.5 "no basic auth
    # credentials" (500), both before the stream; Podman in-band.
    assert caught.value.status == {"docker": 500, "docker28": 500, "podman": None}[engine.name]
    if engine.name == "docker":
        assert "HTTP request to an HTTPS server" in caught.value.engine_message


async def test_a_pull_with_a_wrong_password_is_refused(
    docker: DockerClient, engine: Engine, run_id: str
) -> None:
    wrong = RegistryAuth("lightshuttle", "wrong-password-" + run_id, TLS)
    with anyio.fail_after(120), pytest.raises(RegistryAuthError) as caught:
        await drain(docker.images.pull(f"{TLS}/ls-reg/{engine.name}-none-{run_id}:v1", auth=wrong))
    assert caught.value.registry == TLS
    assert "refused the credentials sent" in str(caught.value)
    # Docker 20.10 answers 500 before the stream, Docker 28.5 401, Podman in-band.
    assert caught.value.status == {"docker": 500, "docker28": 401, "podman": None}[engine.name]
    assert wrong.password not in str(caught.value) and wrong.password not in repr(caught.value)


async def test_login(docker: DockerClient, engine: Engine) -> None:
    user = registry_user(engine)
    answer = await docker.system.login(user)
    assert answer.status == "Login Succeeded"
    assert answer.identity_token == ""  # basic auth: the registry gives no token


async def test_login_with_a_wrong_password(docker: DockerClient, engine: Engine) -> None:
    password = "not-the-password-0000"
    with pytest.raises(RegistryAuthError) as caught:
        await docker.system.login(username="lightshuttle", password=password, registry=TLS)
    error = caught.value
    assert error.registry == TLS and error.status == 500  # every engine answers 500
    assert "login attempt to" in error.engine_message and TLS in error.engine_message
    assert password not in str(error)
    assert error.path is not None and error.path.endswith("/auth")


# -- credentials from where the Docker CLI keeps them ------------------------------------------


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty DOCKER_CONFIG of this test's and a bin directory first on PATH."""
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    yield config


@pytest.mark.parametrize("source", ["auths", "helper", "env"])
async def test_pull_with_stored_credentials(
    docker: DockerClient,
    engine: Engine,
    run_id: str,
    source: str,
    docker_config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = registry_user(engine)
    with anyio.fail_after(240):
        pushed = await make_and_push(docker, engine, run_id, TLS, suffix=f"-{source}")
        try:
            await remove_images(docker, pushed.remote, pushed.local)
            entry = {"auth": _b64(f"{user.username}:{user.password}")}
            if source == "auths":
                config = {"auths": {f"https://{TLS}": entry}}
                (docker_config / "config.json").write_text(json.dumps(config))
            elif source == "helper":
                credential_helper.install(
                    docker_config.parent / "bin", "lstest", {TLS: (user.username, user.password)}
                )
                (docker_config / "config.json").write_text(
                    json.dumps({"credHelpers": {TLS: "lstest"}})
                )
            else:
                monkeypatch.setenv("DOCKER_AUTH_CONFIG", json.dumps({"auths": {TLS: entry}}))
            await drain(docker.images.pull(pushed.remote))  # no auth=: the store's
            assert (await docker.images.inspect(pushed.remote)).repo_digests
            if source == "helper":
                helper_calls = credential_helper.calls(docker_config.parent / "bin")
                assert helper_calls == [f"docker-credential-lstest get {TLS}"]
        finally:
            await remove_images(docker, pushed.remote, pushed.local)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# -- save and load -----------------------------------------------------------------------------


async def test_save_then_load(docker: DockerClient, engine: Engine, run_id: str) -> None:
    seed = f"{run_id}-save"
    local = f"ls-reg-src-{seed}:latest"
    await drain(docker.images.import_image(layer_tar(seed, 4096), repo=f"ls-reg-src-{seed}"))
    try:
        image_id = (await docker.images.inspect(local)).id
        tar = bytearray()
        async with docker.images.save(local) as chunks:
            async for chunk in chunks:
                tar += chunk
        with tarfile.open(fileobj=io.BytesIO(bytes(tar))) as archive:
            assert "manifest.json" in archive.getnames()
        await remove_images(docker, local)
        answer = await drain(docker.images.load(bytes(tar)))
        names = loaded_images(answer)
        assert len(names) == 1 and names[0].endswith(local), answer
        assert (await docker.images.inspect(local)).id == image_id
    finally:
        await remove_images(docker, local)


def live_engine(name: str) -> str:
    socket_path = ENGINE_SOCKETS[name]
    if not engine_answers(socket_path):
        pytest.skip(f"{name} engine not answering on {socket_path}")
    return f"unix://{socket_path}"


@pytest.mark.live
@pytest.mark.parametrize(
    ("source", "target"), [("docker", "podman"), ("docker", "docker28"), ("podman", "docker")]
)
async def test_save_on_one_engine_load_and_run_on_another(
    source: str, target: str, anyio_backend: str
) -> None:
    """The offline way between engines: ``save`` there, ``load`` here, run it (live only)."""
    name = f"ls-reg-xfer-{secrets.token_hex(4)}:v1"
    async with (
        DockerClient(live_engine(source)) as there,
        DockerClient(live_engine(target)) as here,
    ):
        await there.images.tag("busybox:local", repo=name.split(":")[0], tag="v1")
        try:
            with anyio.fail_after(180):
                tar = bytearray()
                async with there.images.save(name) as chunks:
                    async for chunk in chunks:
                        tar += chunk
                names = loaded_images(await drain(here.images.load(bytes(tar), quiet=True)))
                assert any(n.endswith(name) for n in names), names
                output = await _run(here, name, ["echo", "moved"])
            assert output == b"moved\n"
        finally:
            await remove_images(there, name)
            await remove_images(here, name)


async def _run(docker: DockerClient, image: str, cmd: list[str]) -> bytes:
    created = await docker.containers.create(ContainerCreateRequest(image=image, cmd=cmd))
    try:
        async with docker.containers.waiter(created.id, condition="next-exit") as exited:
            await docker.containers.start(created.id)
            assert (await exited.result()).status_code == 0
        out = b""
        async with docker.containers.logs(created.id, tty=False) as frames:
            async for frame in frames:
                out += frame.data
        return out
    finally:
        await docker.containers.remove(created.id, force=True)

"""DockerRuntime.start with an image that is only in a registry (the TLS test registry, with
credentials found as the Docker CLI finds them), on every engine; cassettes replay offline."""

from __future__ import annotations

import base64
import json

import anyio
import pytest

from lightshuttle_runtime import DockerClient, RegistryAuthError
from lightshuttle_runtime.models import ProgressMessage
from lightshuttle_runtime.runtime import ContainerSpec, DockerRuntime, ImagePullError, Running
from tests.api.test_registry import TLS, drain, registry_user, remove_images, run_id
from tests.conftest import Engine

pytestmark = pytest.mark.anyio
__all__ = ["run_id"]  # the fixture, imported for this module's tests


def auth_config(username: str, password: str) -> str:
    entry = base64.b64encode(f"{username}:{password}".encode()).decode()
    return json.dumps({"auths": {TLS: {"auth": entry}}})


async def push_busybox(docker: DockerClient, engine: Engine, name: str) -> str:
    """``busybox:local`` as ``TLS/ls-reg/NAME:v1`` in the registry and not on the engine."""
    remote = f"{TLS}/ls-reg/{name}:v1"
    await docker.images.tag("busybox:local", repo=remote.rsplit(":", 1)[0], tag="v1")
    await drain(docker.images.push(remote, auth=registry_user(engine)))
    await remove_images(docker, remote)
    return remote


async def test_start_pulls_an_image_only_in_the_registry(
    docker: DockerClient, engine: Engine, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = registry_user(engine)
    monkeypatch.setenv("DOCKER_AUTH_CONFIG", auth_config(user.username, user.password))
    seen: list[ProgressMessage] = []
    runtime = DockerRuntime(docker, on_pull_progress=seen.append)
    name = f"ls-rt-reg-{engine.name}-{run_id}"
    with anyio.fail_after(180):
        remote = await push_busybox(docker, engine, name)
        try:
            container = await runtime.start(
                ContainerSpec(name=name, image=remote, command=["sleep", "30"])
            )
            assert await runtime.inspect(container) == Running()
            assert seen and any(m.status for m in seen)
        finally:
            await runtime.remove(name)
            await remove_images(docker, remote)


async def test_a_refused_credential_is_an_image_pull_error(
    docker: DockerClient, engine: Engine, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = f"wrong-{run_id}-password"
    monkeypatch.setenv("DOCKER_AUTH_CONFIG", auth_config("lightshuttle", password))
    runtime = DockerRuntime(docker)
    name = f"ls-rt-reg-denied-{engine.name}-{run_id}"
    spec = ContainerSpec(name=name, image=f"{TLS}/ls-reg/{name}:v1", command=["true"])
    with anyio.fail_after(120), pytest.raises(ImagePullError) as caught:
        await runtime.start(spec)
    error = caught.value
    assert error.registry == TLS and error.auth_refused
    assert isinstance(error.__cause__, RegistryAuthError)
    assert TLS in str(error) and "Log in" in str(error)
    assert password not in str(error)

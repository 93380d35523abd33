"""System endpoints (``/_ping``, ``/version``) against Docker and Podman.

Engine differences met here: Podman's ``/_ping`` has no ``Ostype`` header and says
``Server: Libpod/...``; its ``/version`` names the component "Podman Engine" and reports
MinAPIVersion 1.24 (Docker 20.10: 1.12).
"""

from __future__ import annotations

import pytest

from lightshuttle_runtime import (
    DockerClient,
    EndpointNotFoundError,
    InvalidArgumentError,
    NotFoundError,
)
from tests.conftest import Engine

pytestmark = pytest.mark.anyio


async def test_ping(docker: DockerClient, engine: Engine) -> None:
    ping = await docker.system.ping()
    assert ping.api_version == "1.41"
    assert ping.server is not None
    if engine.is_podman:
        assert ping.server.startswith("Libpod/")
        assert ping.os_type is None
    else:
        assert ping.server.startswith("Docker/")
        assert ping.os_type == "linux"


async def test_ping_before_negotiation(engine: Engine) -> None:
    async with DockerClient(engine.host) as client:
        await client.system.ping()
        # /_ping is unversioned: the first versioned call still negotiates on its own
        assert await client.api_version() == "1.41"


async def test_version(docker: DockerClient, engine: Engine) -> None:
    version = await docker.system.version()
    assert version.api_version == "1.41"
    assert version.os == "linux"
    assert version.version  # "20.10.24+dfsg1", "4.3.1"
    names = [component.name for component in version.components or []]
    if engine.is_podman:
        assert version.min_api_version == "1.24"
        assert "Podman Engine" in names
    else:
        assert version.min_api_version == "1.12"
        assert "Engine" in names


async def test_info(docker: DockerClient, engine: Engine) -> None:
    info = await docker.system.info()
    assert info.os_type == "linux" and info.architecture
    assert info.ncpu >= 1 and info.mem_total > 0
    assert (
        info.containers
        == info.containers_running + info.containers_paused + info.containers_stopped
    )
    assert info.images >= 1  # busybox:local at least
    assert info.driver and info.server_version
    assert info.cgroup_version in ("1", "2")


async def test_df(docker: DockerClient, engine: Engine) -> None:
    usage = await docker.system.df()
    images = usage.images or []
    busybox = await docker.images.inspect("busybox:local")
    # Docker writes image ids as sha256:<hex>, Podman 4.3's df the bare hex
    assert busybox.id.removeprefix("sha256:") in {
        image.id.removeprefix("sha256:") for image in images
    }
    # Docker sums its layers; Podman 4.3 leaves LayersSize at 0
    assert usage.layers_size == 0 if engine.is_podman else usage.layers_size > 0
    assert isinstance(usage.containers, list) and isinstance(usage.volumes, list)
    # Podman sends no BuildKit cache
    if engine.is_podman:
        assert not usage.build_cache


async def test_request_is_the_escape_hatch(docker: DockerClient) -> None:
    response = await docker.request("GET", "/info")
    raw = response.json()
    assert isinstance(raw, dict) and raw["NCPU"] == (await docker.system.info()).ncpu
    version = await docker.request("get", "/version", versioned=False)
    assert version.json()["ApiVersion"]
    with pytest.raises(NotFoundError):
        await docker.request("GET", "/containers/lsapi-missing/json")


async def test_request_refuses_bad_input(offline: DockerClient) -> None:
    with pytest.raises(InvalidArgumentError, match="must start with '/'"):
        await offline.request("GET", "info")
    with pytest.raises(InvalidArgumentError, match="not both"):
        await offline.request("POST", "/x", json={"a": 1}, body=b"{}")


async def test_an_endpoint_the_engine_lacks(docker: DockerClient, engine: Engine) -> None:
    # A route no engine has: the router's 404, not a missing object
    with pytest.raises(EndpointNotFoundError, match="does not implement"):
        await docker.request("GET", "/lsapi/no-such-endpoint")

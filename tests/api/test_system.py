"""System endpoints (``/_ping``, ``/version``) against Docker and Podman.

The API promises: ``/_ping``'s ``Api-Version`` is the highest version the engine speaks, the
one ``/version`` reports as ``ApiVersion``, and the client negotiates the lower of it and its
own highest (Docker 20.10 and Podman 4.3 announce 1.41, Docker 28.5 1.51); ``MinAPIVersion``
is at most ``ApiVersion``.

Engine differences met here: Podman's ``/_ping`` has no ``Ostype`` header and says
``Server: Libpod/...``; its ``/version`` names the component "Podman Engine". MinAPIVersion:
Docker 20.10 1.12, Docker 28.5 and Podman 4.3 1.24.
"""

from __future__ import annotations

import msgspec
import pytest

from lightshuttle_runtime import (
    DockerClient,
    EndpointNotFoundError,
    InvalidArgumentError,
    NotFoundError,
)
from lightshuttle_runtime._config import API_VERSION_MIN, parse_version
from tests.conftest import Engine, negotiated
from tests.testing._scripted import Answer, ScriptedTransport

pytestmark = pytest.mark.anyio


async def test_ping(docker: DockerClient, engine: Engine) -> None:
    ping = await docker.system.ping()
    assert ping.api_version is not None
    assert parse_version(ping.api_version) >= parse_version(API_VERSION_MIN)
    if engine.name == "docker28":
        assert parse_version(ping.api_version) > parse_version("1.41")  # a modern engine
    assert ping.server is not None
    if engine.is_podman:
        assert ping.server.startswith("Libpod/")
        assert ping.os_type is None
    else:
        assert ping.server.startswith("Docker/")
        assert ping.os_type == "linux"


async def test_ping_before_negotiation(engine: Engine) -> None:
    async with DockerClient(engine.host) as client:
        ping = await client.system.ping()
        # /_ping is unversioned: the first versioned call still negotiates on its own
        assert ping.api_version is not None
        assert await client.api_version() == negotiated(ping.api_version)


async def test_version(docker: DockerClient, engine: Engine) -> None:
    version = await docker.system.version()
    assert version.api_version == (await docker.system.ping()).api_version
    assert version.api_version is not None and version.min_api_version is not None
    assert parse_version(version.min_api_version) <= parse_version(version.api_version)
    assert version.os == "linux"
    assert version.version  # "20.10.24+dfsg1", "28.5.2+dfsg4", "4.3.1"
    names = [component.name for component in version.components or []]
    if engine.is_podman:
        assert "Podman Engine" in names
    else:
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


async def test_df_takes_podmans_null_lists_as_left_out() -> None:
    """Podman 4.3's ``/system/df`` sends ``"Ports": null`` and ``"Mounts": null`` for some
    running containers (whose ``/containers/json`` entry has ``[]``); seen live."""
    entry = {"Id": "c1", "Names": ["/web"], "Image": "busybox", "State": "running"}
    body = msgspec.json.encode(
        {"LayersSize": 0, "Containers": [{**entry, "Ports": None, "Mounts": None}]}
    )
    engine = ScriptedTransport({("GET", "/v1.41/system/df"): Answer(chunks=[body])})
    async with DockerClient(transport=engine, api_version="1.41") as docker:
        (container,) = (await docker.system.df()).containers or []
        raw = await docker.system.df(raw=True)
    assert (container.id, container.ports, container.mounts) == ("c1", [], [])
    assert raw["Containers"][0]["Ports"] is None  # raw=True gives what the engine sent


# -- prune across the areas ---------------------------------------------------------------

PRUNE_LABEL = "lsapi.sysprune=1"


async def test_system_prune_removes_what_nothing_uses(docker: DockerClient, engine: Engine) -> None:
    from lightshuttle_runtime.models import ContainerCreateRequest, NetworkCreateRequest

    names = ("lsapi-sysprune-c", "lsapi-sysprune-n", "lsapi-sysprune-v")
    labels = {"lsapi.sysprune": "1"}
    await docker.containers.remove(names[0], force=True, missing_ok=True)
    await docker.networks.remove(names[1], missing_ok=True)
    await docker.volumes.remove(names[2], missing_ok=True)
    created = await docker.containers.create(
        ContainerCreateRequest(image="busybox:local", cmd=["true"], labels=labels), name=names[0]
    )
    await docker.networks.create(NetworkCreateRequest(name=names[1], labels=labels))
    await docker.volumes.create(name=names[2], labels=labels)
    try:
        report = await docker.system.prune(filters={"label": PRUNE_LABEL}, volumes=True)
        assert report.containers.containers_deleted == [created.id]
        assert report.networks.networks_deleted == [names[1]]
        assert not report.images.images_deleted  # busybox:local has no such label
        assert report.volumes is not None
        if engine.name == "docker28":
            # API 1.42+: a prune removes only anonymous volumes (all_ asks for named ones)
            assert not report.volumes.volumes_deleted
        else:
            assert report.volumes.volumes_deleted == [names[2]]
        assert report.space_reclaimed >= 0
        with pytest.raises(NotFoundError):
            await docker.containers.inspect(names[0])
    finally:
        await docker.containers.remove(names[0], force=True, missing_ok=True)
        await docker.networks.remove(names[1], missing_ok=True)
        await docker.volumes.remove(names[2], missing_ok=True)


async def test_system_prune_refuses_until_with_volumes(offline: DockerClient) -> None:
    with pytest.raises(InvalidArgumentError, match="until"):
        await offline.system.prune(filters={"until": "24h"}, volumes=True)

"""``raw=True`` on every inspect and list: the engine's JSON as plain dicts, the same object
the model decodes (checked field by field against the model from the same engine)."""

from __future__ import annotations

import contextlib

import pytest

from lightshuttle_runtime import DockerClient, NotFoundError

pytestmark = pytest.mark.anyio

NAME = "ls-raw"
VOLUME = "ls-raw-volume"
NETWORK = "ls-raw-network"


async def test_containers(docker: DockerClient, running: str) -> None:
    raw = await docker.containers.inspect(running, raw=True)
    model = await docker.containers.inspect(running)
    assert raw["Id"] == model.id == running
    assert raw["Name"].lstrip("/") == NAME
    assert raw["State"]["Running"] is True and model.state.running
    assert raw["Config"]["Cmd"] == ["sleep", "600"]

    listed = await docker.containers.list(filters={"id": [running]}, raw=True)
    assert [entry["Id"] for entry in listed] == [running]
    assert listed[0]["Names"] == (await docker.containers.list(filters={"id": [running]}))[0].names


async def test_exec(docker: DockerClient, running: str) -> None:
    exec_id = await docker.exec.create(running, ["true"])
    raw = await docker.exec.inspect(exec_id, raw=True)
    assert raw["ID"] == exec_id
    assert raw["ContainerID"] == running
    assert raw["Running"] is False


async def test_images(docker: DockerClient) -> None:
    raw = await docker.images.inspect("busybox:local", raw=True)
    model = await docker.images.inspect("busybox:local")
    assert raw["Id"] == model.id
    assert any(tag.endswith("busybox:local") for tag in raw["RepoTags"])

    listed = await docker.images.list(filters={"reference": ["busybox:local"]}, raw=True)
    assert model.id in [entry["Id"] for entry in listed]


async def test_volumes(docker: DockerClient) -> None:
    with contextlib.suppress(NotFoundError):
        await docker.volumes.remove(VOLUME, force=True)
    await docker.volumes.create(VOLUME, labels={"lightshuttle.test": "raw"})
    try:
        raw = await docker.volumes.inspect(VOLUME, raw=True)
        assert raw["Name"] == VOLUME
        assert raw["Labels"] == {"lightshuttle.test": "raw"}
        listed = await docker.volumes.list(filters={"name": [VOLUME]}, raw=True)
        assert VOLUME in [volume["Name"] for volume in listed["Volumes"]]
    finally:
        await docker.volumes.remove(VOLUME, missing_ok=True)


async def test_networks(docker: DockerClient) -> None:
    await docker.networks.remove(NETWORK, missing_ok=True)
    created = await docker.networks.create(NETWORK, labels={"lightshuttle.test": "raw"})
    try:
        raw = await docker.networks.inspect(NETWORK, raw=True)
        assert raw["Id"] == created.id
        assert raw["Name"] == NETWORK
        listed = await docker.networks.list(filters={"name": [NETWORK]}, raw=True)
        assert created.id in [network["Id"] for network in listed]
    finally:
        await docker.networks.remove(NETWORK, missing_ok=True)


async def test_system(docker: DockerClient) -> None:
    version = await docker.system.version(raw=True)
    assert version["ApiVersion"] == (await docker.system.version()).api_version
    info = await docker.system.info(raw=True)
    assert info["NCPU"] == (await docker.system.info()).ncpu
    df = await docker.system.df(raw=True)
    assert isinstance(df["Images"], list)
    # Podman 4.3's df gives image ids without their "sha256:": the raw answer is what it sent.
    model_ids = [image.id for image in (await docker.system.df()).images or []]
    assert [image["Id"] for image in df["Images"]] == model_ids != []


async def test_raw_errors_are_the_same_typed_errors(docker: DockerClient) -> None:
    with pytest.raises(NotFoundError):
        await docker.containers.inspect("ls-raw-missing", raw=True)
    with pytest.raises(NotFoundError):
        await docker.volumes.inspect("ls-raw-missing", raw=True)

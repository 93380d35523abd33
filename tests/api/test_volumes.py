"""Volumes: create, inspect, list, remove, on Docker and Podman.

A volume created without a name is anonymous: from API 1.42 (Docker 23+, here Docker 28.5) the
engine marks it with the label ``com.docker.volume.anonymous`` (what ``volumes.prune`` removes
by default there); Docker 20.10 and Podman 4.3 give it no label.
"""

from __future__ import annotations

import contextlib
from datetime import date

import msgspec
import pytest

from lightshuttle_runtime import ConflictError, DockerClient, InvalidArgumentError, NotFoundError
from lightshuttle_runtime._config import parse_version
from lightshuttle_runtime.models import (
    ContainerCreateRequest,
    HostConfig,
    Mount,
    VolumeListResponse,
)
from tests.conftest import Engine

pytestmark = pytest.mark.anyio

VOLUME = "ls-br-vol"
USER = "ls-br-vol-user"


async def _clean(docker: DockerClient) -> None:
    with contextlib.suppress(NotFoundError):
        await docker.containers.remove(USER, force=True)
    with contextlib.suppress(NotFoundError):
        await docker.volumes.remove(VOLUME)


async def test_create_inspect_list_remove(docker: DockerClient, engine: Engine) -> None:
    await _clean(docker)
    created = await docker.volumes.create(VOLUME, labels={"lightshuttle.test": "volumes"})
    try:
        assert (created.name, created.driver, created.scope) == (VOLUME, "local", "local")
        assert created.labels == {"lightshuttle.test": "volumes"}
        assert created.mountpoint.endswith(f"/{VOLUME}/_data")
        info = await docker.volumes.inspect(VOLUME)
        assert (info.name, info.labels) == (VOLUME, created.labels)
        listed = await docker.volumes.list(filters={"label": "lightshuttle.test=volumes"})
        assert [volume.name for volume in listed.volumes or []] == [VOLUME]
        # Docker answers "Warnings": null, Podman "Warnings": [].
        assert not listed.warnings
        empty = await docker.volumes.list(filters={"label": "lightshuttle.test=none"})
        assert not empty.volumes
    finally:
        await docker.volumes.remove(VOLUME)
    with pytest.raises(NotFoundError):
        await docker.volumes.inspect(VOLUME)
    with pytest.raises(NotFoundError):
        await docker.volumes.remove(VOLUME)
    await docker.volumes.remove(VOLUME, missing_ok=True)


async def test_creating_an_existing_name_returns_it_unchanged(docker: DockerClient) -> None:
    await _clean(docker)
    first = await docker.volumes.create(VOLUME, labels={"generation": "1"})
    try:
        # Both engines answer 201 with the existing volume; the new labels are ignored.
        again = await docker.volumes.create(VOLUME, labels={"generation": "2"})
        assert again.name == first.name
        assert again.labels == {"generation": "1"}
    finally:
        await docker.volumes.remove(VOLUME)


async def test_a_volume_in_use_is_a_conflict(docker: DockerClient, engine: Engine) -> None:
    await _clean(docker)
    await docker.volumes.create(VOLUME)
    created = await docker.containers.create(
        ContainerCreateRequest(
            image="busybox:local",
            cmd=["true"],
            host_config=HostConfig(mounts=[Mount(target="/data", source=VOLUME, type="volume")]),
        ),
        name=USER,
    )
    try:
        with pytest.raises(ConflictError) as caught:
            await docker.volumes.remove(VOLUME)
        assert caught.value.status == 409
    finally:
        await docker.containers.remove(created.id, force=True)
        await docker.volumes.remove(VOLUME)


async def test_engine_named_volume(docker: DockerClient, engine: Engine) -> None:
    created = await docker.volumes.create()
    try:
        assert len(created.name) == 64
        if not engine.is_podman and parse_version(await docker.api_version()) >= (1, 42):
            assert created.labels == {"com.docker.volume.anonymous": ""}
        else:
            assert not created.labels
    finally:
        await docker.volumes.remove(created.name)


async def test_bad_name_is_refused_before_sending(offline: DockerClient) -> None:
    with pytest.raises(InvalidArgumentError, match="volume name"):
        await offline.volumes.create("bad/name")
    with pytest.raises(InvalidArgumentError):
        await offline.volumes.remove("")


def test_volume_list_decodes_both_engines() -> None:
    docker_answer = (
        b'{"Volumes":[{"CreatedAt":"2026-11-30T09:53:05Z","Driver":"local","Labels":{"a":"b"},'
        b'"Mountpoint":"/var/lib/docker/volumes/v/_data","Name":"v","Options":null,'
        b'"Scope":"local"}],"Warnings":null}'
    )
    podman_answer = (
        b'{"Volumes":[{"CreatedAt":"2026-11-30T09:53:06Z","Driver":"local","Labels":{"a":"b"},'
        b'"Mountpoint":"/var/lib/containers/storage/volumes/v/_data","Name":"v","Options":{},'
        b'"Scope":"local"}],"Warnings":[]}'
    )
    for raw in (docker_answer, podman_answer):
        answer = msgspec.json.decode(raw, type=VolumeListResponse)
        (volume,) = answer.volumes
        assert (volume.name, volume.labels) == ("v", {"a": "b"})
        assert volume.created_at is not None
        assert volume.created_at.date() == date(2026, 11, 30) and volume.created_at.tzinfo
        assert volume.mountpoint.endswith("/v/_data")


async def test_prune_removes_unused_matching_volumes(docker: DockerClient, engine: Engine) -> None:
    names = ("lsapi-prune-vol", "lsapi-keep-vol")
    for name in names:
        await docker.volumes.remove(name, missing_ok=True)
    await docker.volumes.create(name=names[0], labels={"lsapi.test": "prune"})
    await docker.volumes.create(name=names[1])
    try:
        # Docker 1.42+ prunes named volumes only with all_; Docker 20.10 and Podman always do.
        pruned = await docker.volumes.prune(filters={"label": "lsapi.test=prune"}, all_=True)
        assert pruned.volumes_deleted == [names[0]]
        assert pruned.space_reclaimed >= 0
        assert (await docker.volumes.inspect(names[1])).name == names[1]
    finally:
        for name in names:
            await docker.volumes.remove(name, missing_ok=True)

"""Networks: create, inspect, list, connect, disconnect, remove, on Docker and Podman."""

from __future__ import annotations

import contextlib

import anyio
import msgspec
import pytest

from lightshuttle_runtime import (
    ConflictError,
    DockerClient,
    EngineError,
    InvalidArgumentError,
    NotFoundError,
)
from lightshuttle_runtime.models import (
    ContainerCreateRequest,
    EndpointSettings,
    Network,
    NetworkCreateRequest,
)
from tests.conftest import Engine

pytestmark = pytest.mark.anyio

NET = "ls-br-net"
CONTAINER = "ls-br-net-member"


async def _clean(docker: DockerClient) -> None:
    with contextlib.suppress(NotFoundError):
        await docker.containers.remove(CONTAINER, force=True)
    # By id: after racing creates Docker 20.10 may hold several networks of one name.
    for network in await docker.networks.list(filters={"name": NET}):
        if network.name == NET:
            await docker.networks.remove(network.id, missing_ok=True)


async def test_create_inspect_list_remove(docker: DockerClient, engine: Engine) -> None:
    await _clean(docker)
    created = await docker.networks.create(NET, labels={"lightshuttle.test": "networks"})
    try:
        assert created.id
        info = await docker.networks.inspect(NET)
        assert isinstance(info, Network)
        assert (info.name, info.id, info.driver) == (NET, created.id, "bridge")
        assert info.labels == {"lightshuttle.test": "networks"}
        assert info.scope == "local"
        assert info.internal is False
        assert info.containers == {}
        assert info.ipam is not None and info.ipam.config
        assert info.ipam.config[0].subnet and info.ipam.config[0].gateway
        by_id = await docker.networks.inspect(created.id)
        assert by_id.name == NET

        listed = await docker.networks.list(filters={"label": "lightshuttle.test=networks"})
        assert [network.name for network in listed] == [NET]
        everything = await docker.networks.list()
        assert NET in {network.name for network in everything}
        assert await docker.networks.list(filters={"label": "lightshuttle.test=none"}) == []
    finally:
        await docker.networks.remove(NET)
    with pytest.raises(NotFoundError):
        await docker.networks.inspect(NET)
    with pytest.raises(NotFoundError):
        await docker.networks.remove(NET)
    await docker.networks.remove(NET, missing_ok=True)


async def test_duplicate_name_is_a_conflict(docker: DockerClient, engine: Engine) -> None:
    await _clean(docker)
    await docker.networks.create(NET)
    try:
        with pytest.raises(ConflictError) as caught:
            await docker.networks.create(NET)
    finally:
        await docker.networks.remove(NET)
    # Docker: 409 "network with name … already exists"; Podman: 500 "network name … already
    # used: network already exists", mapped to ConflictError too.
    assert caught.value.status == (500 if engine.is_podman else 409)


async def test_connect_with_alias_then_disconnect(docker: DockerClient, engine: Engine) -> None:
    await _clean(docker)
    await docker.networks.create(NET)
    created = await docker.containers.create(
        ContainerCreateRequest(image="busybox:local", cmd=["sleep", "600"]), name=CONTAINER
    )
    try:
        await docker.containers.start(created.id)
        await docker.networks.connect(NET, CONTAINER, aliases=["member-alias"])
        network = await docker.networks.inspect(NET)
        assert network.containers is not None
        assert [endpoint.name for endpoint in network.containers.values()] == [CONTAINER]
        assert list(network.containers) == [created.id]
        container = await docker.containers.inspect(created.id)
        assert container.network_settings is not None
        assert container.network_settings.networks is not None
        endpoint = container.network_settings.networks[NET]
        assert endpoint.aliases is not None and "member-alias" in endpoint.aliases

        with pytest.raises(EngineError) as busy:
            await docker.networks.remove(NET)
        # Docker: 403 "error while removing network: … has active endpoints";
        # Podman: 500 "… has associated containers with it … network is being used".
        assert busy.value.status == (500 if engine.is_podman else 403)

        await docker.networks.disconnect(NET, CONTAINER)
        after = await docker.networks.inspect(NET)
        assert not after.containers
    finally:
        with anyio.CancelScope(shield=True):
            await docker.containers.remove(created.id, force=True)
            await docker.networks.remove(NET)


async def test_connect_missing_container(docker: DockerClient) -> None:
    await _clean(docker)
    await docker.networks.create(NET)
    try:
        with pytest.raises(NotFoundError):
            await docker.networks.connect(NET, "ls-br-net-missing")
    finally:
        await docker.networks.remove(NET)


async def test_bad_name_is_refused_before_sending(offline: DockerClient) -> None:
    with pytest.raises(InvalidArgumentError, match="network name"):
        await offline.networks.create("bad name!")
    with pytest.raises(InvalidArgumentError):
        await offline.networks.inspect("")


def test_create_request_encodes_api_names() -> None:
    body = msgspec.json.decode(
        msgspec.json.encode(
            NetworkCreateRequest(
                name="n", check_duplicate=True, driver="bridge", enable_ipv6=True, labels={}
            )
        )
    )
    assert body == {
        "Name": "n",
        "CheckDuplicate": True,
        "Driver": "bridge",
        "EnableIPv6": True,
        "Labels": {},
    }


def test_network_decodes_both_engines() -> None:
    docker_answer = (
        b'{"Name":"n","Id":"51ba","Created":"2026-11-30T09:53:02.567295868Z","Scope":"local",'
        b'"Driver":"bridge","EnableIPv6":false,"IPAM":{"Driver":"default","Options":null,'
        b'"Config":[{"Subnet":"172.18.0.0/16","Gateway":"172.18.0.1"}]},"Internal":false,'
        b'"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},"ConfigOnly":false,'
        b'"Containers":{"0993":{"Name":"c","EndpointID":"0b75","MacAddress":"02:42:ac:13:00:02",'
        b'"IPv4Address":"172.19.0.2/16","IPv6Address":""}},"Options":{},"Labels":{"a":"b"}}'
    )
    podman_answer = (
        b'{"Name":"n","Id":"e91f","Created":"2026-11-30T09:53:02.914684352Z","Scope":"local",'
        b'"Driver":"bridge","EnableIPv6":false,"IPAM":{"Driver":"default","Options":'
        b'{"driver":"host-local"},"Config":[{"Subnet":"10.89.0.0/24","Gateway":"10.89.0.1"}]},'
        b'"Internal":false,"Attachable":false,"Ingress":false,"ConfigFrom":{"Network":""},'
        b'"ConfigOnly":false,"Containers":{"af44":{"Name":"c","EndpointID":"","MacAddress":'
        b'"de:30:98:1b:9e:5f","IPv4Address":"10.89.0.2/24","IPv6Address":""}},"Options":{},'
        b'"Labels":{"a":"b"}}'
    )
    for raw in (docker_answer, podman_answer):
        network = msgspec.json.decode(raw, type=Network)
        assert network.name == "n" and network.labels == {"a": "b"}
        assert network.ipam is not None and network.ipam.config is not None
        assert network.ipam.config[0].gateway is not None
        assert network.containers is not None
        (endpoint,) = network.containers.values()
        assert endpoint.name == "c" and endpoint.ipv4_address is not None


def test_connect_merges_aliases_into_endpoint_config() -> None:
    base = EndpointSettings(aliases=["a"], ip_address="10.0.0.2")
    merged = msgspec.structs.replace(base, aliases=[*(base.aliases or ()), "b"])
    assert merged.aliases == ["a", "b"] and merged.ip_address == "10.0.0.2"


async def test_removing_by_id_while_in_use(docker: DockerClient, engine: Engine) -> None:
    await _clean(docker)
    created = await docker.networks.create(NET)
    container = await docker.containers.create(
        ContainerCreateRequest(image="busybox:local", cmd=["sleep", "600"]), name=CONTAINER
    )
    try:
        await docker.networks.connect(created.id, container.id)
        await docker.containers.start(container.id)
        if engine.is_podman:
            # Podman 4.3 refuses a removal by name while containers use the network, but
            # removes it when named by id, attached containers or not.
            await docker.networks.remove(created.id)
            with pytest.raises(NotFoundError):
                await docker.networks.inspect(NET)
        else:
            with pytest.raises(EngineError) as busy:
                await docker.networks.remove(created.id)
            assert busy.value.status == 403
    finally:
        with anyio.CancelScope(shield=True):
            await docker.containers.remove(container.id, force=True)
            await docker.networks.remove(NET, missing_ok=True)


async def test_prune_removes_unused_matching_networks(docker: DockerClient) -> None:
    label = {"lsapi.test": "prune"}
    names = ("lsapi-prune-net", "lsapi-keep-net")
    for name in names:
        for network in await docker.networks.list(filters={"name": name}):
            await docker.networks.remove(network.id, missing_ok=True)
    await docker.networks.create(names[0], labels=label)
    await docker.networks.create(names[1])
    try:
        pruned = await docker.networks.prune(filters={"label": "lsapi.test=prune"})
        assert pruned.networks_deleted == [names[0]]
        assert [n.name for n in await docker.networks.list(filters={"name": names[1]})] == [
            names[1]
        ]
    finally:
        for name in names:
            await docker.networks.remove(name, missing_ok=True)

"""Project networks (ensure/teardown, DNS aliases) and list_managed, on Docker and Podman."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import anyio
import pytest

from lightshuttle_runtime import DockerClient, NotFoundError
from lightshuttle_runtime.runtime import (
    LABEL_PROJECT,
    ContainerSpec,
    DockerRuntime,
    InvalidSpecError,
    ManagedContainer,
    NetworkOwnershipError,
    ProjectNetworkError,
    Running,
    Stopped,
    project_network_name,
)
from lightshuttle_runtime.runtime._create import create_request
from tests.conftest import Engine

pytestmark = pytest.mark.anyio

IMAGE = "busybox:local"
LIMIT = 60


@pytest.fixture
def runtime(docker: DockerClient) -> DockerRuntime:
    return DockerRuntime(docker)


async def _network_ids(docker: DockerClient, project: str) -> list[str]:
    """The ids of every network named exactly after ``project`` (Docker may hold several)."""
    name = project_network_name(project)
    named = await docker.networks.list(filters={"name": name})
    return [network.id for network in named if network.name == name]


async def _clean(docker: DockerClient, project: str, names: Sequence[str] = ()) -> None:
    """Remove the named containers and the project's network, whoever made them."""
    for name in names:
        with contextlib.suppress(NotFoundError):
            await docker.containers.remove(name, force=True)
    for network_id in await _network_ids(docker, project):
        with contextlib.suppress(NotFoundError):
            await docker.networks.remove(network_id)


@contextlib.asynccontextmanager
async def _project(
    docker: DockerClient, project: str, names: Sequence[str] = ()
) -> AsyncIterator[None]:
    await _clean(docker, project, names)
    try:
        with anyio.fail_after(LIMIT):
            yield
    finally:
        with anyio.CancelScope(shield=True):
            await _clean(docker, project, names)


def _sleeper(
    project: str, resource: str, *, command: Sequence[str] = ("sleep", "600")
) -> ContainerSpec:
    return ContainerSpec(
        name=f"{project}-{resource}",
        image=IMAGE,
        project=project,
        resource=resource,
        command=list(command),
    )


# -- ensure / teardown ----------------------------------------------------------------------


async def test_ensure_creates_a_labelled_bridge_once(
    docker: DockerClient, runtime: DockerRuntime
) -> None:
    project = "ls-br-ensure"
    async with _project(docker, project):
        first = await runtime.ensure_project_network(project)
        again = await runtime.ensure_project_network(project)
        assert again == first
        network = await docker.networks.inspect(project_network_name(project))
        assert network.name == "lightshuttle-ls-br-ensure"
        assert network.id == first
        assert network.driver == "bridge"
        assert network.labels == {LABEL_PROJECT: project}

        await runtime.teardown_project_network(project)
        with pytest.raises(NotFoundError):
            await docker.networks.inspect(project_network_name(project))
        await runtime.teardown_project_network(project)  # idempotent: already gone


async def test_concurrent_ensures_through_one_runtime_agree(
    docker: DockerClient, runtime: DockerRuntime
) -> None:
    project = "ls-br-race"
    ids: list[str] = []

    async def ensure() -> None:
        ids.append(await runtime.ensure_project_network(project))

    async with _project(docker, project):
        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(ensure)
        remaining = await _network_ids(docker, project)
    assert len(remaining) == 1
    assert ids == remaining * 4


async def test_concurrent_ensures_from_separate_clients_converge(engine: Engine) -> None:
    # Separate clients share no lock, as separate processes would not: Podman refuses the
    # second create (500 "network already exists", a ConflictError); Docker 20.10 accepts
    # them all, and the extra copies are removed again. Live only (no ``docker`` fixture, so
    # no replay case): which client's request the engine serves first decides the answers,
    # and a cassette cannot replay a race whose order changes from run to run.
    project = "ls-br-race2"
    ids: list[str] = []

    async def ensure(runtime: DockerRuntime) -> None:
        ids.append(await runtime.ensure_project_network(project))

    async with (
        DockerClient(engine.host) as docker,
        _project(docker, project),
        DockerClient(engine.host) as second,
    ):
        runtimes = [DockerRuntime(docker), DockerRuntime(second)] * 2
        async with anyio.create_task_group() as group:
            for runtime in runtimes:
                group.start_soon(ensure, runtime)
        remaining = await _network_ids(docker, project)
        assert len(remaining) == 1
        assert remaining[0] in ids
        assert await DockerRuntime(docker).ensure_project_network(project) == remaining[0]


@pytest.mark.parametrize("owner", [None, "other"])
async def test_a_network_of_another_owner_is_refused_and_kept(
    docker: DockerClient, runtime: DockerRuntime, owner: str | None
) -> None:
    labels = None if owner is None else {LABEL_PROJECT: owner}
    project = "ls-br-foreign"
    name = project_network_name(project)
    async with _project(docker, project):
        foreign = await docker.networks.create(name, labels=labels)
        with pytest.raises(NetworkOwnershipError) as on_ensure:
            await runtime.ensure_project_network(project)
        assert (on_ensure.value.network, on_ensure.value.owner) == (name, owner)
        assert name in str(on_ensure.value)
        assert (repr(owner) if owner else "no lightshuttle project") in str(on_ensure.value)

        with pytest.raises(NetworkOwnershipError):
            await runtime.teardown_project_network(project)
        assert (await docker.networks.inspect(name)).id == foreign.id

        with pytest.raises(NetworkOwnershipError):
            await runtime.start(_sleeper(project, "web"))
        with pytest.raises(NotFoundError):
            await docker.containers.inspect(f"{project}-web")


async def test_teardown_refuses_while_containers_use_the_network(
    docker: DockerClient, runtime: DockerRuntime, engine: Engine
) -> None:
    project = "ls-br-busy"
    names = [f"{project}-web"]
    async with _project(docker, project, names):
        container = await runtime.start(_sleeper(project, "web"))
        with pytest.raises(ProjectNetworkError) as running:
            await runtime.teardown_project_network(project)
        assert running.value.network == project_network_name(project)

        await runtime.stop(container, timedelta(seconds=0))
        if engine.is_podman:
            # Podman also refuses while a stopped container is still configured on it:
            # 500 "… has associated containers with it … network is being used".
            with pytest.raises(ProjectNetworkError, match="associated containers"):
                await runtime.teardown_project_network(project)
        else:
            # Docker drops it: a stopped container holds no endpoint.
            await runtime.teardown_project_network(project)
            return
        await runtime.remove(names[0])
        await runtime.teardown_project_network(project)
        with pytest.raises(NotFoundError):
            await docker.networks.inspect(project_network_name(project))


@pytest.mark.parametrize(
    "project",
    ["", "-lead", "has space", "a/b", "ünï"],
    ids=["empty", "dash", "space", "slash", "non-ascii"],
)
async def test_invalid_project_names_are_refused_before_sending(project: str) -> None:
    # No engine behind this socket: the check must happen before any request.
    async with DockerClient("unix:///nonexistent/ls-br.sock") as client:
        runtime = DockerRuntime(client)
        with pytest.raises(InvalidSpecError, match="project"):
            await runtime.ensure_project_network(project)
        with pytest.raises(InvalidSpecError, match="project"):
            await runtime.teardown_project_network(project)
        with pytest.raises(InvalidSpecError, match="project"):
            await runtime.list_managed(project)
        with pytest.raises(InvalidSpecError, match="container name"):
            await runtime.list_managed("ok", name="bad name")


# -- joining the network --------------------------------------------------------------------


async def test_resource_name_resolves_from_another_container(
    docker: DockerClient, runtime: DockerRuntime
) -> None:
    project = "ls-br-dns"
    names = [f"{project}-db", f"{project}-app"]
    network = project_network_name(project)
    async with _project(docker, project, names):
        db = await runtime.start(_sleeper(project, "db"))
        app = await runtime.start(_sleeper(project, "app"))
        info = await docker.containers.inspect(db)
        assert info.network_settings is not None and info.network_settings.networks is not None
        endpoint = info.network_settings.networks[network]
        assert endpoint.aliases is not None and "db" in endpoint.aliases
        assert endpoint.ip_address

        # busybox ping is not permitted in Podman containers here, so resolve with nslookup.
        looked_up = await docker.exec.run(app, ["nslookup", "db"])
        assert looked_up.exit_code == 0, looked_up
        assert endpoint.ip_address.encode() in looked_up.stdout
        unknown = await docker.exec.run(app, ["nslookup", "no-such-resource"])
        assert unknown.exit_code != 0


def test_create_body_joins_the_project_network_with_the_resource_alias() -> None:
    body = create_request(_sleeper("shop", "db"))
    assert body.host_config is not None
    assert body.host_config.network_mode == "lightshuttle-shop"
    assert body.networking_config is not None
    assert body.networking_config.endpoints_config is not None
    (endpoint,) = body.networking_config.endpoints_config.items()
    assert endpoint[0] == "lightshuttle-shop"
    assert endpoint[1].aliases == ["db"]


def test_create_body_without_a_project_joins_no_network() -> None:
    body = create_request(ContainerSpec(name="solo", image=IMAGE))
    assert body.networking_config is None
    assert body.host_config is not None and body.host_config.network_mode is None


# -- list_managed ---------------------------------------------------------------------------


async def test_list_managed_finds_every_container_sorted_by_resource(
    docker: DockerClient, runtime: DockerRuntime
) -> None:
    project = "ls-br-list"
    other = "ls-br-list-other"
    names = [f"{project}-web", f"{project}-db", f"{project}-db-extra", f"{project}-job"]
    async with _project(docker, project, names), _project(docker, other, [f"{other}-web"]):
        web = await runtime.start(_sleeper(project, "web"))
        db = await runtime.start(_sleeper(project, "db"))
        extra = await runtime.start(_sleeper(project, "db-extra"))
        job = await runtime.start(_sleeper(project, "job", command=("sh", "-c", "exit 3")))
        await runtime.start(_sleeper(other, "web"))
        await docker.containers.wait(job)

        managed = await runtime.list_managed(project)
        assert managed == [
            ManagedContainer(name=f"{project}-db", resource="db", id=db, status=Running()),
            ManagedContainer(
                name=f"{project}-db-extra", resource="db-extra", id=extra, status=Running()
            ),
            ManagedContainer(name=f"{project}-job", resource="job", id=job, status=Stopped(3)),
            ManagedContainer(name=f"{project}-web", resource="web", id=web, status=Running()),
        ]

        # The engine's name filter matches substrings ("…-db" also matches "…-db-extra");
        # list_managed keeps the exact name only.
        exact = await runtime.list_managed(project, name=f"{project}-db")
        assert [container.id for container in exact] == [db]
        assert await runtime.list_managed(project, name=f"/{project}-db") == exact
        assert await runtime.list_managed(project, name=f"{project}-d") == []
        # A container of another project is never listed, even by its name.
        assert await runtime.list_managed(project, name=f"{other}-web") == []
        assert await runtime.list_managed("ls-br-list-nothing") == []

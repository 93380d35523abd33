"""Project networks and the listing of a project's containers.

Each project gets one user-defined bridge network, ``lightshuttle-<project>``, labelled
``lightshuttle.project=<project>``; its containers join it with their resource name as a
DNS alias, so they reach each other by resource name. ``list_managed`` finds a project's
containers by label, running or not.
"""

from __future__ import annotations

import contextlib
import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import anyio

from .._client import DockerClient
from .._errors import (
    APIVersionError,
    ConflictError,
    DockerConnectionError,
    DockerError,
    NotFoundError,
)
from ..models import GO_ZERO_TIME, ContainerSummary, Network
from ._errors import ContainerRuntimeError, EngineConnectError, InspectError, InvalidSpecError
from ._labels import LABEL_PROJECT, LABEL_RESOURCE, project_network_name
from ._status import container_status
from ._types import ContainerId, ContainerStatus

__all__ = [
    "ManagedContainer",
    "NetworkOwnershipError",
    "ProjectNetworkError",
    "check_project",
    "ensure_project_network",
    "list_managed",
    "teardown_project_network",
]

_PROJECT = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_CONTAINER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")
_LOCKS: weakref.WeakKeyDictionary[DockerClient, dict[str, anyio.Lock]] = weakref.WeakKeyDictionary()


class ProjectNetworkError(ContainerRuntimeError):
    """A project's network could not be created, inspected or removed.

    Attributes:
        network: the network's name (``lightshuttle-<project>``).
    """

    def __init__(self, message: str, *, network: str) -> None:
        super().__init__(message)
        self.network = network


class NetworkOwnershipError(ProjectNetworkError):
    """A network with the project's network name exists but belongs to someone else.

    Attributes:
        owner: the project named by its ``lightshuttle.project`` label, or ``None`` when it
            has none (not made by lightshuttle).
    """

    def __init__(self, message: str, *, network: str, owner: str | None) -> None:
        super().__init__(message, network=network)
        self.owner = owner


@dataclass(frozen=True, slots=True)
class ManagedContainer:
    """A container of a project, as :func:`list_managed` finds it.

    Attributes:
        name: the container name, without the engine's leading ``/``.
        resource: its ``lightshuttle.resource`` label (``None`` if it has none).
        id: the engine's container id.
        status: its current status (from inspect, health included).
    """

    name: str
    resource: str | None
    id: ContainerId
    status: ContainerStatus


def check_project(project: str) -> str:
    """Return ``project`` if it can name a project network (``[a-zA-Z0-9][a-zA-Z0-9_.-]*``).

    Raises:
        InvalidSpecError: it cannot.
    """
    if not isinstance(project, str) or not _PROJECT.fullmatch(project):
        raise InvalidSpecError(
            f"project {project!r} is not valid: use characters from [a-zA-Z0-9_.-], "
            "starting with a letter or digit"
        )
    return project


@contextmanager
def _translated(network: str, operation: str) -> Iterator[None]:
    try:
        yield
    except (DockerConnectionError, APIVersionError) as exc:
        raise EngineConnectError(f"{operation}: cannot use the engine: {exc}") from exc
    except DockerError as exc:
        raise ProjectNetworkError(f"{operation} failed: {exc}", network=network) from exc


def _lock(client: DockerClient, name: str) -> anyio.Lock:
    """One lock per client and network name: ensure/teardown through one client never race."""
    locks = _LOCKS.get(client)
    if locks is None:
        locks = _LOCKS[client] = {}
    return locks.setdefault(name, anyio.Lock())


def _created_key(network: Network) -> tuple[datetime, str]:
    """Sort key: creation time (unknown first), then id."""
    return network.created or GO_ZERO_TIME, network.id


async def _named(client: DockerClient, name: str) -> list[Network]:
    """Every network named exactly ``name``, oldest first.

    The engine's ``name`` filter matches a part of the name; Docker 20.10 can even hold
    several networks of one name after concurrent creates, so list rather than inspect.
    """
    found = await client.networks.list(filters={"name": [name]})
    return sorted((network for network in found if network.name == name), key=_created_key)


def _check_owner(network: Network, project: str) -> None:
    owner = (network.labels or {}).get(LABEL_PROJECT)
    if owner == project:
        return
    who = (
        f"project {owner!r}"
        if owner is not None
        else f"no lightshuttle project (it has no {LABEL_PROJECT} label)"
    )
    raise NetworkOwnershipError(
        f"network {network.name!r} exists but belongs to {who}, not to project {project!r}: "
        "remove or rename it",
        network=network.name,
        owner=owner,
    )


async def _create_or_join(client: DockerClient, name: str, project: str) -> list[Network]:
    """Create the network; losing a race to a concurrent create is fine."""
    with contextlib.suppress(ConflictError):
        await client.networks.create(
            name, driver="bridge", labels={LABEL_PROJECT: project}, check_duplicate=True
        )
    networks = await _named(client, name)
    if not networks:
        raise ProjectNetworkError(
            f"network {name!r} was removed while it was being created", network=name
        )
    return networks


async def _drop_duplicates(client: DockerClient, duplicates: list[Network]) -> None:
    """Remove the extra copies a racing create left behind (Docker does not refuse them)."""
    for network in duplicates:
        with contextlib.suppress(NotFoundError):
            await client.networks.remove(network.id)


async def ensure_project_network(client: DockerClient, project: str) -> str:
    """Make sure ``project``'s bridge network exists; idempotent.

    Uses ``GET /networks?filters={"name":…}`` and, if missing, ``POST /networks/create``. A
    create that loses a race with a concurrent one (Docker 409, Podman 500) counts as
    success. Docker 20.10 may let racing creates from several processes all succeed; the
    oldest network is then kept and the others removed, so every caller converges on one.

    Returns:
        The network's id.

    Raises:
        InvalidSpecError: ``project`` cannot name a network.
        NetworkOwnershipError: a network of that name exists with another (or no) owner.
        ProjectNetworkError: the engine refused to create or list it.
        EngineConnectError: the engine could not be reached.
    """
    name = project_network_name(check_project(project))
    async with _lock(client, name):
        with _translated(name, f"creating network {name!r}"):
            networks = await _named(client, name)
            if not networks:
                networks = await _create_or_join(client, name, project)
            for network in networks:
                _check_owner(network, project)
            await _drop_duplicates(client, networks[1:])
    return networks[0].id


async def teardown_project_network(client: DockerClient, project: str) -> None:
    """Remove ``project``'s network; a missing network counts as removed.

    Remove the project's containers first: a network still in use is not removed.

    Raises:
        InvalidSpecError: ``project`` cannot name a network.
        NetworkOwnershipError: the network of that name is not this project's (it is kept).
        ProjectNetworkError: containers still use it (Docker 403; Podman 500, also for
            stopped containers), or the engine failed.
        EngineConnectError: the engine could not be reached.
    """
    name = project_network_name(check_project(project))
    async with _lock(client, name):
        with _translated(name, f"removing network {name!r}"):
            networks = await _named(client, name)
            for network in networks:
                _check_owner(network, project)
            if len(networks) == 1:
                # By name: Podman 4.3 removes a network *by id* even while containers use it.
                with contextlib.suppress(NotFoundError):
                    await client.networks.remove(name)
            else:
                await _drop_duplicates(client, networks)


async def list_managed(
    client: DockerClient, project: str, *, name: str | None = None
) -> list[ManagedContainer]:
    """Every container of ``project`` (running or not), sorted by resource then name.

    Uses ``GET /containers/json?all=1`` filtered on the ``lightshuttle.project`` label, then
    ``GET /containers/{id}/json`` for each status. The engine's ``name`` filter matches a
    part of the name; here ``name`` is matched exactly (with or without a leading ``/``).

    Raises:
        InvalidSpecError: ``project`` or ``name`` is not valid.
        InspectError: the engine failed to answer.
        EngineConnectError: the engine could not be reached.
    """
    check_project(project)
    wanted = None if name is None else _check_container_name(name)
    filters = {"label": [f"{LABEL_PROJECT}={project}"]}
    if wanted is not None:
        filters["name"] = [wanted]
    found: list[ManagedContainer] = []
    try:
        for summary in await client.containers.list(all_=True, filters=filters):
            managed = await _managed(client, summary, project, wanted)
            if managed is not None:
                found.append(managed)
    except (DockerConnectionError, APIVersionError) as exc:
        raise EngineConnectError(
            f"listing project {project!r}: cannot use the engine: {exc}"
        ) from exc
    except DockerError as exc:
        raise InspectError(f"listing the containers of project {project!r} failed: {exc}") from exc
    return sorted(found, key=lambda container: (container.resource or "", container.name))


async def _managed(
    client: DockerClient, summary: ContainerSummary, project: str, wanted: str | None
) -> ManagedContainer | None:
    """The list entry as a ManagedContainer, or None if it is not exactly what was asked."""
    labels = summary.labels or {}
    if labels.get(LABEL_PROJECT) != project:
        return None
    try:
        info = await client.containers.inspect(summary.id)
    except NotFoundError:
        return None  # removed since the list was made
    name = info.name.lstrip("/")
    if wanted is not None and name != wanted:
        return None
    return ManagedContainer(
        name=name,
        resource=labels.get(LABEL_RESOURCE),
        id=ContainerId(info.id),
        status=container_status(info),
    )


def _check_container_name(name: str) -> str:
    bare = name[1:] if isinstance(name, str) and name.startswith("/") else name
    if not isinstance(bare, str) or not _CONTAINER_NAME.fullmatch(bare):
        raise InvalidSpecError(f"container name {name!r} is not valid")
    return bare

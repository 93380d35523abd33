"""The Docker Engine API, one module per area; reached through :class:`DockerClient`."""

from ._containers import ContainersAPI, ContainerWaiter, WaitCondition
from ._events import EventsAPI
from ._images import ImagesAPI, encode_registry_auth
from ._system import SystemAPI

__all__ = [
    "ContainerWaiter",
    "ContainersAPI",
    "EventsAPI",
    "ImagesAPI",
    "SystemAPI",
    "WaitCondition",
    "encode_registry_auth",
]

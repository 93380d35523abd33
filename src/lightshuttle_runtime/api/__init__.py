"""The Docker Engine API, one module per area; reached through :class:`DockerClient`."""

from ._archive import ArchivesAPI, ArchiveStream
from ._build import BuildAPI, BuildContextSource, Builder, BuildOptions, encode_registry_config
from ._containers import ContainersAPI, ContainerWaiter, WaitCondition
from ._events import EventsAPI
from ._exec import ExecAPI, ExecResult
from ._images import ImagesAPI, encode_registry_auth
from ._networks import NetworksAPI
from ._system import SystemAPI
from ._volumes import VolumesAPI

__all__ = [
    "ArchiveStream",
    "ArchivesAPI",
    "BuildAPI",
    "BuildContextSource",
    "BuildOptions",
    "Builder",
    "ContainerWaiter",
    "ContainersAPI",
    "EventsAPI",
    "ExecAPI",
    "ExecResult",
    "ImagesAPI",
    "NetworksAPI",
    "SystemAPI",
    "VolumesAPI",
    "WaitCondition",
    "encode_registry_auth",
    "encode_registry_config",
]

"""The Docker Engine API, one module per area; reached through :class:`DockerClient`."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._archive import ArchivesAPI, ArchiveStream
    from ._build import BuildAPI, BuildContextSource, Builder, BuildOptions, encode_registry_config
    from ._containers import ContainersAPI, ContainerWaiter, WaitCondition
    from ._events import EventsAPI
    from ._exec import ExecAPI, ExecResult
    from ._images import ImagesAPI, encode_registry_auth, loaded_images
    from ._networks import NetworksAPI
    from ._system import SystemAPI, SystemPruneReport
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
    "SystemPruneReport",
    "VolumesAPI",
    "WaitCondition",
    "encode_registry_auth",
    "encode_registry_config",
    "loaded_images",
]

_EXPORTS = {
    "Builder": "._build",
    "BuildOptions": "._build",
    "ArchiveStream": "._archive",
    "ArchivesAPI": "._archive",
    "BuildAPI": "._build",
    "BuildContextSource": "._build",
    "ContainerWaiter": "._containers",
    "ContainersAPI": "._containers",
    "EventsAPI": "._events",
    "ExecAPI": "._exec",
    "ExecResult": "._exec",
    "ImagesAPI": "._images",
    "NetworksAPI": "._networks",
    "SystemAPI": "._system",
    "SystemPruneReport": "._system",
    "VolumesAPI": "._volumes",
    "WaitCondition": "._containers",
    "encode_registry_auth": "._images",
    "loaded_images": "._images",
    "encode_registry_config": "._build",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

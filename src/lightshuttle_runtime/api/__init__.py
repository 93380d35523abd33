"""The Docker Engine API, one module per area; reached through :class:`DockerClient`."""

from ._containers import ContainersAPI, WaitCondition
from ._images import ImagesAPI, encode_registry_auth
from ._system import SystemAPI

__all__ = ["ContainersAPI", "ImagesAPI", "SystemAPI", "WaitCondition", "encode_registry_auth"]

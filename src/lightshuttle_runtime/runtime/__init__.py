"""The container-runtime layer: the ContainerRuntime protocol and DockerRuntime."""

from ._build import BuildProgressCallback
from ._create import LABEL_PROJECT, LABEL_RESOURCE
from ._docker import ContainerLogs, DockerRuntime, ProgressCallback
from ._errors import (
    BuildError,
    ContainerExitedError,
    ContainerNotFoundError,
    ContainerRuntimeError,
    ContainerUnhealthyError,
    EngineConnectError,
    ImagePullError,
    InspectError,
    InvalidSpecError,
    LogStreamError,
    OperationTimedOut,
    RemoveError,
    StartError,
    StopError,
)
from ._protocol import ContainerRuntime
from ._spec import BuildSpec, ContainerSpec, HealthcheckSpec, PortSpec, VolumeSpec
from ._types import (
    ContainerId,
    ContainerStatus,
    Healthy,
    LogChunk,
    LogChunkStream,
    LogStream,
    Running,
    Starting,
    Stopped,
    Unhealthy,
)

__all__ = [
    "LABEL_PROJECT",
    "LABEL_RESOURCE",
    "BuildError",
    "BuildProgressCallback",
    "BuildSpec",
    "ContainerExitedError",
    "ContainerId",
    "ContainerLogs",
    "ContainerNotFoundError",
    "ContainerRuntime",
    "ContainerRuntimeError",
    "ContainerSpec",
    "ContainerStatus",
    "ContainerUnhealthyError",
    "DockerRuntime",
    "EngineConnectError",
    "HealthcheckSpec",
    "Healthy",
    "ImagePullError",
    "InspectError",
    "InvalidSpecError",
    "LogChunk",
    "LogChunkStream",
    "LogStream",
    "LogStreamError",
    "OperationTimedOut",
    "PortSpec",
    "ProgressCallback",
    "RemoveError",
    "Running",
    "StartError",
    "Starting",
    "StopError",
    "Stopped",
    "Unhealthy",
    "VolumeSpec",
]

"""lightshuttle_runtime: an async Docker Engine API client and a small container runtime.

The client speaks HTTP/1.1 to the engine's Unix socket (Docker or Podman), decodes every
payload into msgspec models and every stream itself, and runs on asyncio and trio.
"""

from ._client import DockerClient, TransportKind
from ._config import API_VERSION_MAX, API_VERSION_MIN, EngineAddress, resolve_host
from ._context import context_entries, pack_context
from ._dockerignore import DockerignoreMatcher, parse_dockerignore
from ._errors import (
    APIVersionError,
    BadRequestError,
    ConflictError,
    DecodeError,
    DockerConnectionError,
    DockerError,
    DockerTimeout,
    EndpointNotFoundError,
    EngineError,
    InvalidArgumentError,
    NotFoundError,
    ServerError,
    SocketNotFoundError,
    SocketPermissionError,
    StreamDesyncError,
    StreamError,
    StreamInterruptedError,
    StreamTruncatedError,
    UnsafeArchiveError,
    UnsupportedHostError,
)
from ._reference import ImageReference, parse_reference
from ._stream import EngineStream
from ._streams import Frame, LogStream, StampedFrame
from ._streams._build_progress import BuildFrontendError, BuildStepError
from .api import ArchiveStream, ExecResult, WaitCondition

__version__ = "0.1.0"

__all__ = [
    "API_VERSION_MAX",
    "API_VERSION_MIN",
    "APIVersionError",
    "ArchiveStream",
    "BadRequestError",
    "BuildFrontendError",
    "BuildStepError",
    "ConflictError",
    "DecodeError",
    "DockerClient",
    "DockerConnectionError",
    "DockerError",
    "DockerTimeout",
    "DockerignoreMatcher",
    "EndpointNotFoundError",
    "EngineAddress",
    "EngineError",
    "EngineStream",
    "ExecResult",
    "Frame",
    "ImageReference",
    "InvalidArgumentError",
    "LogStream",
    "NotFoundError",
    "ServerError",
    "SocketNotFoundError",
    "SocketPermissionError",
    "StampedFrame",
    "StreamDesyncError",
    "StreamError",
    "StreamInterruptedError",
    "StreamTruncatedError",
    "TransportKind",
    "UnsafeArchiveError",
    "UnsupportedHostError",
    "WaitCondition",
    "__version__",
    "context_entries",
    "pack_context",
    "parse_dockerignore",
    "parse_reference",
    "resolve_host",
]

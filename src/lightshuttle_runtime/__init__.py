"""lightshuttle_runtime: an async Docker Engine API client and a small container runtime.

The client speaks HTTP/1.1 to the engine's Unix socket (Docker or Podman), decodes every
payload into msgspec models and every stream itself, and runs on asyncio and trio.
"""

from typing import TYPE_CHECKING

from ._client import DockerClient, SSHMode, TransportKind
from ._errors import (
    APIVersionError,
    BadRequestError,
    ConflictError,
    ContextNotFoundError,
    DecodeError,
    DockerConnectionError,
    DockerError,
    DockerTimeout,
    EndpointNotFoundError,
    EngineConfigError,
    EngineError,
    EngineNotFoundError,
    EngineRefusedError,
    EngineSSHError,
    EngineTLSError,
    EngineUnreachableError,
    InvalidArgumentError,
    NotFoundError,
    PoolExhaustedError,
    RegistryAuthError,
    ServerError,
    SocketNotFoundError,
    SocketPermissionError,
    StreamDesyncError,
    StreamError,
    StreamInterruptedError,
    StreamTruncatedError,
    TLSConfigError,
    UnexpectedUpgradeError,
    UnsafeArchiveError,
    UnsupportedHostError,
)
from ._lazy import lazy_exports

__version__ = "0.1.0"

if TYPE_CHECKING:
    from ._config import API_VERSION_MAX, API_VERSION_MIN
    from ._context import context_entries, pack_context
    from ._credentials import (
        CredentialsError,
        CredentialStore,
        RegistryAuth,
        normalize_registry,
        registry_of,
    )
    from ._discovery import EngineAddress, TLSConfig, find_engine, resolve_host
    from ._dockerignore import DockerignoreMatcher, parse_dockerignore
    from ._interactive import InteractiveSession, PendingSession
    from ._reference import ImageReference, parse_reference
    from ._stream import EngineStream
    from ._streams import Frame, LogStream, StampedFrame
    from ._streams._build_progress import BuildFrontendError, BuildStepError
    from .api import ArchiveStream, ExecResult, SystemPruneReport, WaitCondition, loaded_images

__all__ = [
    "API_VERSION_MAX",
    "API_VERSION_MIN",
    "APIVersionError",
    "ArchiveStream",
    "BadRequestError",
    "BuildFrontendError",
    "BuildStepError",
    "ConflictError",
    "ContextNotFoundError",
    "CredentialStore",
    "CredentialsError",
    "DecodeError",
    "DockerClient",
    "DockerConnectionError",
    "DockerError",
    "DockerTimeout",
    "DockerignoreMatcher",
    "EndpointNotFoundError",
    "EngineAddress",
    "EngineConfigError",
    "EngineError",
    "EngineNotFoundError",
    "EngineRefusedError",
    "EngineSSHError",
    "EngineStream",
    "EngineTLSError",
    "EngineUnreachableError",
    "ExecResult",
    "Frame",
    "ImageReference",
    "InteractiveSession",
    "InvalidArgumentError",
    "LogStream",
    "NotFoundError",
    "PendingSession",
    "PoolExhaustedError",
    "RegistryAuth",
    "RegistryAuthError",
    "SSHMode",
    "ServerError",
    "SocketNotFoundError",
    "SocketPermissionError",
    "StampedFrame",
    "StreamDesyncError",
    "StreamError",
    "StreamInterruptedError",
    "StreamTruncatedError",
    "SystemPruneReport",
    "TLSConfig",
    "TLSConfigError",
    "TransportKind",
    "UnexpectedUpgradeError",
    "UnsafeArchiveError",
    "UnsupportedHostError",
    "WaitCondition",
    "__version__",
    "context_entries",
    "find_engine",
    "loaded_images",
    "normalize_registry",
    "pack_context",
    "parse_dockerignore",
    "parse_reference",
    "registry_of",
    "resolve_host",
]

_EXPORTS = {
    "BuildFrontendError": "._streams._build_progress",
    "BuildStepError": "._streams._build_progress",
    "API_VERSION_MAX": "._config",
    "API_VERSION_MIN": "._config",
    "ArchiveStream": ".api",
    "CredentialStore": "._credentials",
    "CredentialsError": "._credentials",
    "RegistryAuth": "._credentials",
    "normalize_registry": "._credentials",
    "registry_of": "._credentials",
    "DockerignoreMatcher": "._dockerignore",
    "EngineAddress": "._discovery",
    "TLSConfig": "._discovery",
    "find_engine": "._discovery",
    "EngineStream": "._stream",
    "ExecResult": ".api",
    "Frame": "._streams",
    "ImageReference": "._reference",
    "InteractiveSession": "._interactive",
    "PendingSession": "._interactive",
    "LogStream": "._streams",
    "StampedFrame": "._streams",
    "SystemPruneReport": ".api",
    "WaitCondition": ".api",
    "loaded_images": ".api",
    "context_entries": "._context",
    "pack_context": "._context",
    "parse_dockerignore": "._dockerignore",
    "parse_reference": "._reference",
    "resolve_host": "._discovery",
}
__getattr__, _ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    """The public names (``__all__``): not ``TYPE_CHECKING``, the loader or submodules."""
    return sorted(__all__)

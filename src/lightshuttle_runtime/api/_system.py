"""System endpoints: ``GET /_ping``, ``GET /version``."""

from __future__ import annotations

from .._session import EngineSession, decode_json
from ..models import PingInfo, SystemVersion

__all__ = ["SystemAPI"]


class SystemAPI:
    """Engine-wide calls. Reached as ``client.system``."""

    def __init__(self, session: EngineSession) -> None:
        self._session = session

    async def ping(self) -> PingInfo:
        """``GET /_ping`` (unversioned): is the engine up, and which API it speaks at most.

        Raises:
            DockerConnectionError: the socket is missing or not permitted.
            DockerTimeout: no answer within the request timeout.
        """
        response = await self._session.send("GET", "/_ping", versioned=False)
        headers = response.headers
        return PingInfo(
            api_version=headers.get("api-version"),
            os_type=headers.get("ostype"),
            server=headers.get("server"),
            experimental=headers.get("docker-experimental", "").lower() == "true",
            builder_version=headers.get("builder-version"),
            swarm=headers.get("swarm"),
        )

    async def version(self) -> SystemVersion:
        """``GET /version``: the engine's version, API range and platform.

        Raises:
            DecodeError: the answer is not a version object.
            EngineError, DockerConnectionError, DockerTimeout: as any request.
        """
        response = await self._session.send("GET", "/version")
        return decode_json(response.content, SystemVersion, method="GET", path="/version")

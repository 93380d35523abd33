"""System endpoints: ``GET /_ping``, ``GET /version``, ``GET /info``, ``GET /system/df``."""

from __future__ import annotations

from .._session import EngineSession, decode_json
from ..models import PingInfo, SystemDataUsage, SystemInfo, SystemVersion

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

    async def info(self) -> SystemInfo:
        """``GET /info``: the engine's host, storage driver and object counts; every API version.

        Raises:
            DecodeError: the answer does not match :class:`SystemInfo`.
        """
        return await self._session.request_json("GET", "/info", SystemInfo)

    async def df(self) -> SystemDataUsage:
        """``GET /system/df``: disk usage of images, containers, volumes and build cache.

        Since API 1.25 (``type`` to pick parts since 1.42: not used, every part is asked for).
        This can take seconds on an engine with many objects; the request timeout applies.

        Raises:
            DecodeError: the answer does not match :class:`SystemDataUsage`.
        """
        return await self._session.request_json("GET", "/system/df", SystemDataUsage)

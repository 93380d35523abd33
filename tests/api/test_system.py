"""System endpoints (``/_ping``, ``/version``) against Docker and Podman.

Engine differences met here: Podman's ``/_ping`` has no ``Ostype`` header and says
``Server: Libpod/...``; its ``/version`` names the component "Podman Engine" and reports
MinAPIVersion 1.24 (Docker 20.10: 1.12).
"""

from __future__ import annotations

import pytest

from lightshuttle_runtime import DockerClient
from tests.conftest import Engine

pytestmark = pytest.mark.anyio


async def test_ping(docker: DockerClient, engine: Engine) -> None:
    ping = await docker.system.ping()
    assert ping.api_version == "1.41"
    assert ping.server is not None
    if engine.is_podman:
        assert ping.server.startswith("Libpod/")
        assert ping.os_type is None
    else:
        assert ping.server.startswith("Docker/")
        assert ping.os_type == "linux"


async def test_ping_before_negotiation(engine: Engine) -> None:
    async with DockerClient(engine.host) as client:
        await client.system.ping()
        # /_ping is unversioned: the first versioned call still negotiates on its own
        assert await client.api_version() == "1.41"


async def test_version(docker: DockerClient, engine: Engine) -> None:
    version = await docker.system.version()
    assert version.api_version == "1.41"
    assert version.os == "linux"
    assert version.version  # "20.10.24+dfsg1", "4.3.1"
    names = [component.name for component in version.components or []]
    if engine.is_podman:
        assert version.min_api_version == "1.24"
        assert "Podman Engine" in names
    else:
        assert version.min_api_version == "1.12"
        assert "Engine" in names

"""Fixtures shared by the API area tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
import pytest

from lightshuttle_runtime import DockerClient, NotFoundError
from lightshuttle_runtime.models import ContainerCreateRequest


@pytest.fixture
async def offline() -> AsyncIterator[DockerClient]:
    """A client with no engine behind it: what it refuses, it refuses before sending."""
    async with DockerClient("unix:///nonexistent/ls-br.sock") as client:
        yield client


@pytest.fixture
async def running(docker: DockerClient, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A running busybox container named by the test module's ``NAME``; removed afterwards."""
    name: str = request.module.NAME
    with contextlib.suppress(NotFoundError):
        await docker.containers.remove(name, force=True)
    created = await docker.containers.create(
        ContainerCreateRequest(image="busybox:local", cmd=["sleep", "600"]), name=name
    )
    await docker.containers.start(created.id)
    try:
        yield created.id
    finally:
        with anyio.CancelScope(shield=True):
            await docker.containers.remove(created.id, force=True)

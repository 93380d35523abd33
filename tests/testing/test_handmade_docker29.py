"""The runtime round trip on hand-made cassettes of Docker Engine 29.0 and 29.6.

No local engine speaks API 1.52+, so these cassettes (tests/cassettes/handmade/docker-29.*.json)
are written by hand from ../shared/docker-api/v1.52.yaml, v1.55.yaml, NOTES.md and the version
history: what those engines answer, not a recording. ``docker-29.0-round-trip`` is Docker 29.0
(``Api-Version: 1.52``, containerd image store, ``busybox:local`` imported);
``docker-29.6-round-trip`` is Docker 29.6 (``Api-Version: 1.55``, ``busybox:1.37`` pulled, so its
image inspect carries the 1.53+ ``Identity``). Both negotiate to the engine's version (the
client's maximum is 1.55) and run start → wait_healthy → logs → stop → remove, then read the
container's past events and tear the project network down.

The 1.52+ event stream is content-negotiated: the 29.0 cassette answers
``application/json-seq`` (each record prefixed by RS, ``0x1E``), the 29.6 one
``application/x-ndjson``. A real engine given our ``Accept`` (x-ndjson first) would answer
x-ndjson; the json-seq cassette stands for an engine or proxy that prefers it, and proves the
decoder reads that form through the whole runtime. Legacy ``status``/``id``/``from`` event
fields are gone in both, as 1.52 dropped them.

``docker-29.0-version-too-old``: a client pinned to API 1.41 against 29.0, whose minimum is
1.44 (the default for 29.0-29.2).

Checked against Docker 28.5 (API 1.51) live: the same headers on every answer (``/_ping``'s
``Builder-Version``, ``Swarm``, ``Cache-Control``, ``Pragma``; ``Docker-Experimental`` and
``Ostype`` elsewhere), the same container-inspect, network, logs and 404 shapes, the same event
attributes; 28.5 logs a stopped container's ``stop`` before its ``die`` (the cassettes had them
the other way round, as Docker 20.10 does), and refuses a too-old client in plain text
(``text/plain``, no ``Docker-Experimental``), not JSON. Its events answer ``application/json``
whatever the ``Accept``: content negotiation of the event stream is 1.52's, and stays unchecked.
What differs by design: 28.5 runs the graph-driver image store (``GraphDriver``, no
``Descriptor``/``ImageManifestDescriptor``/``Storage``) and still sends the fields 1.52 dropped.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from lightshuttle_runtime import APIVersionError, DockerClient
from lightshuttle_runtime.models import EventMessage
from lightshuttle_runtime.runtime import (
    ContainerId,
    ContainerNotFoundError,
    ContainerSpec,
    DockerRuntime,
    EngineConnectError,
    HealthcheckSpec,
    Healthy,
    LogChunk,
    LogStream,
    Stopped,
    _health,
)
from lightshuttle_runtime.testing import CassetteTransport

pytestmark = pytest.mark.anyio

HANDMADE = Path(__file__).parent.parent / "cassettes" / "handmade"
#: Only names the socket in error messages: nothing may connect while replaying.
DUMMY_HOST = "unix:///nonexistent/docker-29.sock"
#: Seconds any step may take before the test fails instead of hanging.
LIMIT = 10

NAME = "shop-web"
PROJECT = "shop"
NETWORK = "lightshuttle-shop"
COMMAND = (
    'trap "exit 0" TERM; echo "$GREETING from $PWD"; echo warming up 1>&2; '
    "touch /tmp/ready; echo ready; while true; do sleep 1; done"
)
PROBE = "/bin/sh -c test -f /tmp/ready"


@dataclass(frozen=True)
class Engine:
    """What one hand-made round-trip cassette holds."""

    cassette: str
    api_version: str
    server: str
    events_type: str
    image: str
    container: str
    #: Seconds since the epoch of the engine's base time (the cassette's times are offsets).
    base: datetime

    def at(self, seconds: int, microseconds: int) -> datetime:
        return self.base + timedelta(seconds=seconds, microseconds=microseconds)


DOCKER_29_0 = Engine(
    cassette="docker-29.0-round-trip",
    api_version="1.52",
    server="Docker/29.0.0 (linux)",
    events_type="application/json-seq",
    image="busybox:local",
    container="e895a6349cf4910e09b4be26889289ac2e86236a70b42c3125d3babf11e14ecc",
    base=datetime(2025, 11, 20, 9, 14, 0, tzinfo=UTC),
)
DOCKER_29_6 = Engine(
    cassette="docker-29.6-round-trip",
    api_version="1.55",
    server="Docker/29.6.0 (linux)",
    events_type="application/x-ndjson",
    image="busybox:1.37",
    container="ea619bbd7bfb88863e32f1583ac183c5e0f7bf2828041b09a74013061aa46ee1",
    base=datetime(2026, 6, 15, 14, 2, 25, tzinfo=UTC),
)
ENGINES = [pytest.param(DOCKER_29_0, id="29.0"), pytest.param(DOCKER_29_6, id="29.6")]


@pytest.fixture(autouse=True)
def no_pinned_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """``DOCKER_API_VERSION`` in the environment would skip the negotiation under test."""
    monkeypatch.delenv("DOCKER_API_VERSION", raising=False)


@asynccontextmanager
async def replaying(
    name: str, *, api_version: str | None = None, rechunk: int | None = None
) -> AsyncIterator[DockerClient]:
    """A client on the hand-made cassette ``name``; every interaction must be played."""
    cassette = CassetteTransport(HANDMADE / f"{name}.json", rechunk=rechunk)
    async with DockerClient(DUMMY_HOST, api_version=api_version, transport=cassette) as docker:
        yield docker
    cassette.assert_all_played()


def shop_web(image: str) -> ContainerSpec:
    """The container both round trips start: healthy once ``/tmp/ready`` exists."""
    return ContainerSpec(
        name=NAME,
        image=image,
        project=PROJECT,
        resource="web",
        env={"GREETING": "hello"},
        working_dir="/srv",
        command=["sh", "-c", COMMAND],
        healthcheck=HealthcheckSpec(
            test="test -f /tmp/ready",
            interval=timedelta(seconds=1),
            timeout=timedelta(seconds=3),
            retries=3,
        ),
    )


async def read_logs(runtime: DockerRuntime, container: ContainerId) -> list[LogChunk]:
    async with runtime.logs(container, follow=False) as logs:
        return [chunk async for chunk in logs]


async def past_events(docker: DockerClient, engine: Engine) -> list[EventMessage]:
    """The container's events from its creation to after its removal (a closed window)."""
    since, until = engine.at(6, 0), engine.at(10, 0)
    filters = {"type": ["container"], "container": [engine.container]}
    async with docker.events.stream(since=since, until=until, filters=filters) as events:
        return [event async for event in events]


# -- the round trip ----------------------------------------------------------------------------


@pytest.mark.parametrize("rechunk", [None, 1], ids=["recorded-chunks", "1-byte-chunks"])
@pytest.mark.parametrize("engine", ENGINES)
async def test_round_trip(
    engine: Engine, rechunk: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the health_status event can end the wait: the safety poll would take an hour.
    monkeypatch.setattr(_health, "SAFETY_POLL", 3600.0)
    async with replaying(engine.cassette, rechunk=rechunk) as docker:
        runtime = DockerRuntime(docker)
        with anyio.fail_after(LIMIT):
            container = await runtime.start(shop_web(engine.image))
            assert container == engine.container
            assert await docker.api_version() == engine.api_version

            await runtime.wait_healthy(container, timedelta(seconds=LIMIT))
            assert await runtime.inspect(container) == Healthy()

            assert await read_logs(runtime, container) == [
                LogChunk(LogStream.STDOUT, engine.at(6, 934102), b"hello from /srv\n"),
                LogChunk(LogStream.STDERR, engine.at(6, 934398), b"warming up\n"),
                LogChunk(LogStream.STDOUT, engine.at(6, 935100), b"ready\n"),
            ]

            await runtime.stop(container, timedelta(seconds=10))
            assert await runtime.inspect(container) == Stopped(0)
            await runtime.remove(NAME)
            with pytest.raises(ContainerNotFoundError):
                await runtime.inspect(container)

            events = await past_events(docker, engine)
            await runtime.teardown_project_network(PROJECT)
    assert_lifecycle_events(events, engine)


def assert_lifecycle_events(events: list[EventMessage], engine: Engine) -> None:
    assert [event.action for event in events] == [
        "create",
        "start",
        f"exec_create: {PROBE}",
        f"exec_start: {PROBE}",
        "exec_die",
        "health_status: healthy",
        "kill",
        "stop",  # logged before "die", as Docker 28.5 does (Docker 20.10: die, then stop)
        "die",
        "destroy",
    ]
    assert all(isinstance(event, EventMessage) for event in events)
    assert {(event.type, event.scope, event.actor.id) for event in events} == {
        ("container", "local", engine.container)
    }
    for event in events:
        assert event.time_unix == event.time_nano // 1_000_000_000
        assert int(event.time.timestamp()) == event.time_unix
        assert event.actor.attributes["name"] == NAME
        assert event.actor.attributes["image"] == engine.image
        assert event.actor.attributes["lightshuttle.project"] == PROJECT
    by_action = {event.action: event for event in events}
    assert by_action["health_status: healthy"].time_nano == _nanos(engine, 7, 951281904)
    assert by_action["kill"].actor.attributes["signal"] == "15"
    assert by_action["die"].actor.attributes["exitCode"] == "0"
    assert by_action["exec_die"].actor.attributes["exitCode"] == "0"
    times = [event.time_nano for event in events]
    assert times == sorted(times)


def _nanos(engine: Engine, seconds: int, nanoseconds: int) -> int:
    return (int(engine.base.timestamp()) + seconds) * 1_000_000_000 + nanoseconds


# -- the client pinned below the engine's minimum -----------------------------------------------


async def test_a_client_pinned_to_1_41_is_refused_by_docker_29_0() -> None:
    """29.0's minimum is 1.44: the first request (the image lookup) is refused, nothing follows."""
    async with replaying("docker-29.0-version-too-old", api_version="1.41") as docker:
        runtime = DockerRuntime(docker)
        with anyio.fail_after(LIMIT), pytest.raises(EngineConnectError) as caught:
            await runtime.start(shop_web("busybox:local"))
    cause = caught.value.__cause__
    assert isinstance(cause, APIVersionError)
    assert (cause.status, cause.client_version, cause.server_version) == (400, "1.41", "1.44")
    assert (cause.method, cause.path) == ("GET", "/v1.41/images/busybox:local/json")
    # the engine's own words come first, then how to stop pinning the version
    assert cause.message.startswith(
        "client version 1.41 is too old. Minimum supported API version is 1.44, "
        "please upgrade your client to a newer version"
    )
    assert "leave api_version= out" in cause.message
    assert "1.41" in str(caught.value) and "1.44" in str(caught.value)


# -- the cassettes say what a 29.x engine says ------------------------------------------------


def _load(name: str) -> list[dict[str, Any]]:
    interactions: list[dict[str, Any]] = json.loads((HANDMADE / f"{name}.json").read_text())[
        "interactions"
    ]
    return interactions


def _headers(response: dict[str, Any]) -> dict[str, str]:
    return {name.lower(): value for name, value in response.get("headers", [])}


def _json_bodies(interactions: list[dict[str, Any]], path_end: str) -> list[Any]:
    return [
        chunk["json"]
        for interaction in interactions
        if interaction["request"]["path"].endswith(path_end)
        for chunk in interaction["response"].get("chunks", [])
        if "json" in chunk
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_cassette_speaks_the_engines_api_version(engine: Engine) -> None:
    interactions = _load(engine.cassette)
    ping, *rest = interactions
    assert ping["request"]["path"] == "/_ping"
    ping_headers = _headers(ping["response"])
    assert ping_headers["api-version"] == engine.api_version
    assert ping_headers["builder-version"] == "2"
    assert ping_headers["swarm"] == "inactive"
    for interaction in rest:
        assert interaction["request"]["path"].startswith(f"/v{engine.api_version}/")
    for interaction in interactions:
        headers = _headers(interaction["response"])
        assert headers["api-version"] == engine.api_version
        assert headers["server"] == engine.server
        assert headers["ostype"] == "linux"


@pytest.mark.parametrize("engine", ENGINES)
def test_the_cassette_has_the_shapes_of_api_1_52_and_later(engine: Engine) -> None:
    interactions = _load(engine.cassette)
    for interaction in interactions:
        path = interaction["request"]["path"]
        headers = _headers(interaction["response"])
        if path.endswith("/events"):
            assert headers["content-type"] == engine.events_type
            for chunk in interaction["response"]["chunks"]:
                text = chunk.get("text") or json.dumps(chunk["json"])
                for legacy in ('"status"', '"id"', '"from"'):
                    assert legacy not in text  # dropped in 1.52
        if path.endswith("/logs"):
            assert headers["content-type"] == "application/vnd.docker.multiplexed-stream"
    for info in _json_bodies(interactions, "/json"):
        if "Config" in info and "NetworkSettings" in info:  # a container inspect
            assert "MacAddress" not in info["Config"]  # removed in 1.52
            assert "OnBuild" not in info["Config"]  # omitted when empty since 1.52
            assert set(info["NetworkSettings"]) == {"SandboxID", "SandboxKey", "Ports", "Networks"}
            assert "KernelMemoryTCP" not in info["HostConfig"]
            for endpoint in info["NetworkSettings"]["Networks"].values():
                assert info["Id"][:12] not in endpoint["Aliases"]  # only DNSNames since 1.45
        elif "RepoTags" in info:  # an image inspect
            for gone in ("Container", "ContainerConfig", "VirtualSize", "Parent", "DockerVersion"):
                assert gone not in info
            assert ("Identity" in info) is (engine.api_version != "1.52")  # added in 1.53


def test_the_json_seq_records_are_rs_prefixed() -> None:
    (stream,) = (
        i
        for i in _load(DOCKER_29_0.cassette)
        if i["request"]["path"].endswith("/events") and i["response"].get("end") == "closed"
    )
    body = "".join(chunk["text"] for chunk in stream["response"]["chunks"])
    records = body.split("\x1e")
    assert records[0] == ""
    assert len(records) == 5 and all(record.endswith("}\n") for record in records[1:])

"""Decoding real engine answers into the models.

The JSON files in ``data/`` are answers of Docker 20.10 and Podman 4.3 (API 1.41), captured
with curl by ``tests/models/capture.sh`` from a container created with
``data/container-create-request.json`` (a health check, a published port, a tmpfs mount).

Engine differences seen in the data:
- Podman qualifies image names (``docker.io/library/busybox:local``) in inspect, list and
  RepoTags; Docker keeps ``busybox:local``;
- Podman adds PATH, TERM, HOME, HOSTNAME and ``container=podman`` to ``Config.Env``;
- Podman answers ``Config.StopSignal`` as a number ("15"), Docker as given ("SIGTERM");
- ``HostConfig.PortBindings`` keeps the requested ``HostPort: ""`` on Docker, while
  Podman writes the chosen port there too (both have it in ``NetworkSettings.Ports``);
- Podman reports a tmpfs mount under ``HostConfig.Tmpfs``, not in ``Mounts``;
- the default network is ``bridge`` on Docker, ``podman`` on Podman;
- after a stop, Docker's last health status is ``unhealthy``, Podman's stays ``healthy``;
- Podman's error bodies add ``cause`` and ``response``; a name in use is a 500 there;
- a pull that cannot reach its registry: Docker answers 500 with a message, Podman 200
  and an in-band ``error``/``errorDetail`` record without ``code``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import httpx
import msgspec
import pytest

from lightshuttle_runtime import ConflictError, NotFoundError, ServerError, StreamError
from lightshuttle_runtime._session import EngineSession, decode_json
from lightshuttle_runtime._streams import raise_for_progress_error
from lightshuttle_runtime.models import (
    ContainerCreateRequest,
    ContainerCreateResponse,
    ContainerInspect,
    ContainerSummary,
    ContainerWaitResponse,
    ImageInspect,
    ProgressMessage,
    SystemVersion,
)

DATA = Path(__file__).parent / "data"
ENGINES = ["docker", "podman"]
T = TypeVar("T")


def load(name: str, type_: type[T]) -> T:
    return decode_json((DATA / name).read_bytes(), type_, method="GET", path=f"/{name}")


def raw(name: str) -> Any:
    return json.loads((DATA / name).read_bytes())


def test_create_request_round_trips_through_the_model() -> None:
    request = load("container-create-request.json", ContainerCreateRequest)
    assert request.host_config is not None and request.healthcheck is not None
    assert request.healthcheck.interval == 1_000_000_000  # nanoseconds
    assert request.host_config.mounts is not None
    assert request.host_config.mounts[0].type == "tmpfs"
    # every field the capture sent is modelled, under its API name
    assert json.loads(msgspec.json.encode(request)) == raw("container-create-request.json")


@pytest.mark.parametrize("engine", ENGINES)
def test_create_response(engine: str) -> None:
    created = load(f"container-create-{engine}.json", ContainerCreateResponse)
    assert len(created.id) == 64 and int(created.id, 16) >= 0
    assert created.warnings == []


@pytest.mark.parametrize("engine", ENGINES)
def test_inspect_running(engine: str) -> None:
    found = load(f"container-inspect-running-{engine}.json", ContainerInspect)
    assert found.id == load(f"container-create-{engine}.json", ContainerCreateResponse).id
    assert found.name == "/ls-capture-web"
    state = found.state
    assert (state.status, state.running, state.paused, state.oom_killed) == (
        "running",
        True,
        False,
        False,
    )
    assert state.pid is not None and state.pid > 0
    assert state.finished_at == "0001-01-01T00:00:00Z"  # the zero time: not finished
    assert state.health is not None and state.health.status == "healthy"
    assert state.health.log and all(result.exit_code == 0 for result in state.health.log)

    config = found.config
    assert config.cmd == ["sh", "-c", "echo hi; sleep 60"]
    assert config.env is not None and {"GREETING=hello", "EMPTY="} <= set(config.env)
    assert config.labels == {"ls-test": "capture", "lightshuttle.role": "web"}
    assert (config.working_dir, config.stop_timeout) == ("/tmp", 3)
    assert config.stop_signal == ("15" if engine == "podman" else "SIGTERM")
    assert config.exposed_ports == {"8080/tcp": {}}
    assert config.healthcheck is not None
    assert config.healthcheck.test == ["CMD-SHELL", "true"]
    assert (config.healthcheck.interval, config.healthcheck.timeout) == (1_000_000_000, 2 * 10**9)
    assert config.healthcheck.retries == 3

    host = found.host_config
    assert host is not None and host.restart_policy is not None
    assert host.restart_policy.name == "no"
    assert host.port_bindings is not None
    (binding,) = host.port_bindings["8080/tcp"] or []
    assert binding.host_ip == "127.0.0.1"
    # Docker keeps the requested "" (any port) here, Podman writes the port it chose
    host_port = binding.host_port or ""
    assert host_port.isdigit() if engine == "podman" else host_port == ""

    network = found.network_settings
    assert network is not None and network.ports is not None and network.networks is not None
    (published,) = network.ports["8080/tcp"] or []
    assert published.host_port is not None and published.host_port.isdigit()
    assert list(network.networks) == ["podman" if engine == "podman" else "bridge"]
    (endpoint,) = network.networks.values()
    assert endpoint.ip_address  # an address on the engine's network


def test_inspect_mounts_differ_between_engines() -> None:
    docker = load("container-inspect-running-docker.json", ContainerInspect)
    podman = load("container-inspect-running-podman.json", ContainerInspect)
    assert docker.mounts is not None
    (tmpfs,) = docker.mounts
    assert (tmpfs.type, tmpfs.destination, tmpfs.rw) == ("tmpfs", "/scratch", True)
    assert podman.mounts == []  # Podman lists the tmpfs under HostConfig.Tmpfs only
    assert raw("container-inspect-running-podman.json")["HostConfig"]["Tmpfs"]["/scratch"]


@pytest.mark.parametrize("engine", ENGINES)
def test_inspect_exited(engine: str) -> None:
    state = load(f"container-inspect-exited-{engine}.json", ContainerInspect).state
    assert (state.status, state.running, state.exit_code, state.pid) == ("exited", False, 137, 0)
    assert state.finished_at is not None and state.finished_at > "2000"
    assert state.health is not None
    assert state.health.status == ("healthy" if engine == "podman" else "unhealthy")


@pytest.mark.parametrize("engine", ENGINES)
def test_list(engine: str) -> None:
    (summary,) = load(f"container-list-{engine}.json", list[ContainerSummary])
    assert summary.names == ["/ls-capture-web"]
    image = "docker.io/library/busybox:local" if engine == "podman" else "busybox:local"
    assert summary.image == image
    assert summary.image_id is not None and summary.image_id.startswith("sha256:")
    assert summary.state == "running"
    assert summary.labels == {"ls-test": "capture", "lightshuttle.role": "web"}
    assert summary.created is not None and summary.created > 1_700_000_000  # UNIX seconds
    (port,) = summary.ports or []
    assert (port.private_port, port.type, port.ip) == (8080, "tcp", "127.0.0.1")
    assert port.public_port is not None and port.public_port > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_wait(engine: str) -> None:
    assert load(f"container-wait-{engine}.json", ContainerWaitResponse) == ContainerWaitResponse(
        status_code=137, error=None
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_image_inspect(engine: str) -> None:
    image = load(f"image-inspect-{engine}.json", ImageInspect)
    assert image.id.startswith("sha256:")
    tag = "docker.io/library/busybox:local" if engine == "podman" else "busybox:local"
    assert image.repo_tags is not None and tag in image.repo_tags
    assert image.config is not None and image.config.cmd == ["/bin/sh"]
    assert (image.os, image.architecture) == ("linux", "amd64")
    assert image.size is not None and image.size > 1_000_000  # bytes
    assert image.created is not None and image.created.startswith("20")


@pytest.mark.parametrize(
    ("engine", "engine_component", "min_api"),
    [("docker", "Engine", "1.12"), ("podman", "Podman Engine", "1.24")],
)
def test_version(engine: str, engine_component: str, min_api: str) -> None:
    version = load(f"version-{engine}.json", SystemVersion)
    assert (version.api_version, version.min_api_version) == ("1.41", min_api)
    assert (version.os, version.arch) == ("linux", "amd64")
    assert version.components is not None
    assert version.components[0].name == engine_component
    assert version.components[0].version == version.version


def test_podman_pull_failure_is_an_in_band_error() -> None:
    record = load("image-pull-unreachable-podman.json", ProgressMessage)
    assert record.error_detail is not None and record.error_detail.code is None
    assert record.error == record.error_detail.message
    with pytest.raises(StreamError, match="connection refused") as caught:
        raise_for_progress_error(record, method="POST", path="/v1.41/images/create")
    assert caught.value.code is None


def error_for(name: str, status: int) -> Exception:
    session = EngineSession(httpx.MockTransport(lambda request: httpx.Response(500)))
    response = httpx.Response(status, content=(DATA / name).read_bytes())
    return session.error_for(response, "POST", "/v1.41/test")


@pytest.mark.parametrize(
    ("name", "status", "error_type", "text"),
    [
        ("error-name-in-use-docker.json", 409, ConflictError, "is already in use"),
        ("error-name-in-use-podman.json", 500, ConflictError, "is already in use"),
        ("error-no-such-container-docker.json", 404, NotFoundError, "No such container"),
        ("error-no-such-container-podman.json", 404, NotFoundError, "no such container"),
        ("error-no-such-image-docker.json", 404, NotFoundError, "no such image"),
        ("error-no-such-image-podman.json", 404, NotFoundError, "failed to find image"),
        ("image-pull-unreachable-docker.json", 500, ServerError, "connection refused"),
    ],
)
def test_real_error_bodies(name: str, status: int, error_type: type[Exception], text: str) -> None:
    error = error_for(name, status)
    assert type(error) is error_type
    assert text in str(error)
    assert raw(name)["message"] in str(error)  # the engine's message, not the whole JSON

"""Decoding real engine answers into the models.

The JSON files in ``data/`` are answers of Docker 20.10 and Podman 4.3 (API 1.41) and Docker
28.5 (API 1.51, ``*-docker28.json``), captured with curl by ``tests/models/capture.sh`` from a
container created with ``data/container-create-request.json`` (a health check, a published
port, a tmpfs mount) and one created with ``data/container-create-full-request.json`` (most of
HostConfig: resources, capabilities, restart policy, log config, mounts, extra hosts, devices,
security options), with the answers of the other areas around it (``*-full-*``, exec, archive
stat, volumes, network, events).

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
  and an in-band ``error``/``errorDetail`` record without ``code``;
- Podman leaves ``HostConfig.Mounts`` and ``Init`` out, sends ``LogConfig.Config`` as ``null``,
  adds the default dropped capabilities to ``CapDrop`` and writes no per-device permissions;
- a path stat of a symlink: Docker names the link (symlink bits in ``mode``, its target in
  ``linkTarget``); Podman names and types the target but keeps the symlink bits.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
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
    ContainerPathStat,
    ContainerSummary,
    ContainerWaitResponse,
    EventMessage,
    ExecInspect,
    ImageInspect,
    Network,
    ProgressMessage,
    SystemVersion,
    Volume,
    VolumeListResponse,
)

DATA = Path(__file__).parent / "data"
ENGINES = ["docker", "docker28", "podman"]
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
    assert state.pid > 0
    assert raw(f"container-inspect-running-{engine}.json")["State"]["FinishedAt"].startswith("0001")
    assert state.finished_at is None  # Go's zero time: not finished
    assert state.started_at is not None and state.started_at.tzinfo is not None
    assert found.created is not None and found.created <= state.started_at
    assert state.health is not None and state.health.status == "healthy"
    assert state.health.log and all(result.exit_code == 0 for result in state.health.log)
    for result in state.health.log:
        assert result.start is not None and result.end is not None and result.start <= result.end
    assert (found.path, found.args) == ("sh", ["-c", "echo hi; sleep 60"])
    assert found.log_path.startswith("/var/lib/") and found.restart_count == 0
    assert found.image.startswith("sha256:")

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
    assert host.restart_policy is not None
    assert host.restart_policy.name == "no"
    assert host.port_bindings is not None
    (binding,) = host.port_bindings["8080/tcp"] or []
    assert binding.host_ip == "127.0.0.1"
    # Docker keeps the requested "" (any port) here, Podman writes the port it chose
    host_port = binding.host_port or ""
    assert host_port.isdigit() if engine == "podman" else host_port == ""

    network = found.network_settings
    assert network.ports is not None
    (published,) = network.ports["8080/tcp"] or []
    assert published.host_port is not None and published.host_port.isdigit()
    assert list(network.networks) == ["podman" if engine == "podman" else "bridge"]
    (endpoint,) = network.networks.values()
    assert endpoint.ip_address  # an address on the engine's network
    assert endpoint.gateway and endpoint.ip_prefix_len == 16 and endpoint.mac_address
    assert endpoint.ipv6_gateway == endpoint.global_ipv6_address == ""


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
    assert state.finished_at is not None and state.finished_at > datetime(2026, 1, 1, tzinfo=UTC)
    assert state.started_at is not None and state.started_at < state.finished_at
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
    assert summary.created_unix > 1_700_000_000  # UNIX seconds
    assert summary.created == datetime.fromtimestamp(summary.created_unix, UTC)
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
    assert image.size > 1_000_000  # bytes
    assert image.created is not None and image.created.year > 2000
    assert image.root_fs is not None and image.root_fs.type == "layers" and image.root_fs.layers


@pytest.mark.parametrize(
    ("engine", "engine_component", "api", "min_api"),
    [
        ("docker", "Engine", "1.41", "1.12"),
        ("docker28", "Engine", "1.51", "1.24"),
        ("podman", "Podman Engine", "1.41", "1.24"),
    ],
)
def test_version(engine: str, engine_component: str, api: str, min_api: str) -> None:
    version = load(f"version-{engine}.json", SystemVersion)
    assert (version.api_version, version.min_api_version) == (api, min_api)
    assert version.build_time is not None and version.build_time.tzinfo is not None
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


# -- the full HostConfig, and the other areas (data/*-full-*, captured with capture.sh full) ----


@pytest.mark.parametrize("engine", ENGINES)
def test_full_host_config(engine: str) -> None:
    found = load(f"container-inspect-full-{engine}.json", ContainerInspect)
    host = found.host_config
    assert (host.memory, host.memory_reservation, host.shm_size) == (64 << 20, 32 << 20, 32 << 20)
    assert (host.nano_cpus, host.cpu_shares, host.pids_limit) == (500_000_000, 512, 64)
    assert host.cap_add == ["NET_ADMIN"]
    assert host.cap_drop is not None and "MKNOD" in host.cap_drop  # Podman adds its defaults
    assert host.restart_policy is not None
    assert (host.restart_policy.name, host.restart_policy.maximum_retry_count) == ("on-failure", 2)
    assert host.log_config is not None and host.log_config.type == "json-file"
    # Podman sends no log options back
    assert host.log_config.config == (None if engine == "podman" else {"max-size": "1m"})
    assert host.extra_hosts == ["ls-full.test:10.1.2.3"]
    assert host.security_opt == ["no-new-privileges"]
    assert (host.dns, host.dns_search) == (["10.9.9.9"], ["ls.test"])
    (device,) = host.devices or []
    assert (device.path_on_host, device.path_in_container) == ("/dev/null", "/dev/ls-null")
    assert device.cgroup_permissions == ("" if engine == "podman" else "rwm")
    if engine == "podman":
        assert host.mounts is None and host.init is None  # left out: see ContainerInspect.mounts
        assert host.tmpfs is not None and "size=1048576" in host.tmpfs["/scratch"]
    else:
        assert host.mounts is not None
        assert [(m.type, m.target, m.read_only) for m in host.mounts] == [
            ("volume", "/data", None),
            ("bind", "/host-tmp", True),
            ("tmpfs", "/scratch", None),
        ]
        assert host.mounts[2].tmpfs_options is not None
        assert host.mounts[2].tmpfs_options.size_bytes == 1 << 20
    assert found.config.hostname == "ls-full" and found.config.user == "0:0"


@pytest.mark.parametrize("engine", ENGINES)
def test_full_mount_points(engine: str) -> None:
    mounts = {
        m.destination: m
        for m in load(f"container-inspect-full-{engine}.json", ContainerInspect).mounts
    }
    volume, bind = mounts["/data"], mounts["/host-tmp"]
    assert (volume.type, volume.name, volume.driver, volume.rw) == (
        "volume",
        "ls-t-capture-vol",
        "local",
        True,
    )
    assert volume.source.endswith("/volumes/ls-t-capture-vol/_data")
    assert (bind.type, bind.source, bind.rw, bind.propagation) == (
        "bind",
        "/tmp",
        False,
        "rprivate",
    )
    assert bind.driver is None and bind.name is None
    # Docker: "z" (SELinux relabel) on a new volume; propagation only for binds
    assert volume.mode == ("" if engine == "podman" else "z")
    assert volume.propagation == ("rprivate" if engine == "podman" else "")
    assert ("/scratch" in mounts) is (engine != "podman")  # Podman: HostConfig.Tmpfs only


@pytest.mark.parametrize("engine", ENGINES)
def test_archive_stat_mode_is_a_go_file_mode(engine: str) -> None:
    directory, link, file = (
        load(f"archive-stat-{what}-{engine}.json", ContainerPathStat)
        for what in ("dir", "link", "file")
    )
    assert directory.is_dir and directory.permissions == 0o755 and not directory.is_symlink
    assert file.file_mode.is_regular and file.permissions == 0o644 and file.size == 3
    assert file.file_mode.st_mode == 0o100644
    assert link.is_symlink and link.link_target == "/tmp/dir"
    # Podman names the link's target; Docker the link itself
    assert link.name == ("dir" if engine == "podman" else "link")
    assert directory.mtime is not None and directory.mtime.tzinfo is not None
    assert repr(directory.file_mode) == "FileMode('drwxr-xr-x')"


@pytest.mark.parametrize("engine", ENGINES)
def test_exec_inspect(engine: str) -> None:
    created = load(f"exec-inspect-created-{engine}.json", ExecInspect)
    done = load(f"exec-inspect-done-{engine}.json", ExecInspect)
    assert created.id == done.id and not done.running
    assert done.exit_code == 0
    # Docker: no exit code before the process ran; Podman reports 0
    assert created.exit_code == (0 if engine == "podman" else None)
    assert done.process_config.entrypoint == "true"
    assert done.container_id == load(f"container-inspect-full-{engine}.json", ContainerInspect).id


@pytest.mark.parametrize("engine", ENGINES)
def test_volumes(engine: str) -> None:
    created = load(f"volume-create-{engine}.json", Volume)
    inspected = load(f"volume-inspect-{engine}.json", Volume)
    listed = load(f"volume-list-{engine}.json", VolumeListResponse)
    assert [volume.name for volume in listed.volumes] == ["ls-t-capture-vol"]
    assert created.name == inspected.name == "ls-t-capture-vol"
    assert inspected.created_at is not None and inspected.created_at.tzinfo is not None
    assert inspected.labels == {"ls-test": "capture-full"}
    assert listed.warnings == ([] if engine == "podman" else None)


@pytest.mark.parametrize("engine", ENGINES)
def test_default_network(engine: str) -> None:
    network = load(f"network-inspect-{engine}.json", Network)
    assert network.name == ("podman" if engine == "podman" else "bridge")
    assert network.created is not None and network.created.tzinfo is not None
    assert network.ipam is not None and network.ipam.config
    assert network.enable_ipv4 is (True if engine == "docker28" else None)  # API 1.48


@pytest.mark.parametrize("engine", ["docker", "docker28"])
def test_events_times(engine: str) -> None:
    events = load(f"events-{engine}.json", list[EventMessage])
    assert [event.action for event in events][:2] == ["create", "start"]
    for event in events:
        assert event.time.tzinfo is UTC
        assert event.time_unix <= event.time.timestamp() < event.time_unix + 1
    assert events[-1].time - events[0].time < timedelta(seconds=60)


def test_go_zero_time_is_none_everywhere() -> None:
    image = load("image-inspect-podman.json", ImageInspect)
    assert raw("image-inspect-podman.json")["Metadata"]["LastTagTime"].startswith("0001-01-01")
    assert image.metadata is not None and image.metadata.last_tag_time is None
    created = load("container-inspect-full-podman.json", ContainerInspect)
    assert created.state.started_at is not None  # the full one ran
    never = ContainerInspect(id="x", created=datetime(1, 1, 1, tzinfo=UTC))
    assert never.created is None  # constructed, not only decoded

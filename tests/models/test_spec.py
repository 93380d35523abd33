"""Every model against the swagger of every supported API version: what we drop is a decision.

For each model that ``lightshuttle_runtime.models`` exposes, the test finds its schema in the
spec of each version in ``/work/shared/docker-api`` (a definition, an inline request body or
answer, or an object inside one), and compares the schema's properties with the model's wire
names. A property in any version that the model lacks must be in :data:`DROPPED` with the
reason; a model field that no version knows must be in :data:`EXTRA`. A new gap, or a stale
entry, fails.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from lightshuttle_runtime import models
from lightshuttle_runtime.models import Model

yaml = pytest.importorskip("yaml")

#: The specs: $LS_DOCKER_API_SPECS, else the team's shared copy, else a ``shared/`` beside the
#: checkout (as CI lays it out).
SPEC_DIRS = [
    Path(os.environ.get("LS_DOCKER_API_SPECS") or "/work/shared/docker-api"),
    Path(__file__).resolve().parents[3] / "shared" / "docker-api",
]
VERSIONS = ("v1.41", "v1.44", "v1.52", "v1.55")

#: Where each model's schema is. A source is a definition (``"ContainerConfig"``), an
#: operation's body or answer (``"POST /containers/create body"``, ``"GET /version 200"``),
#: then optionally `` > Property`` steps (``[]`` steps into an array's items). The first
#: source that a version's spec has is used; a version with none of them has no such model.
SOURCES: dict[str, tuple[str, ...]] = {
    # containers
    "Address": ("Address",),
    "BindOptions": ("Mount > BindOptions",),
    "ContainerConfig": ("ContainerConfig",),
    "ContainerCreateRequest": ("POST /containers/create body",),
    "ContainerCreateResponse": ("ContainerCreateResponse", "POST /containers/create 201"),
    "ContainerInspect": ("ContainerInspectResponse", "GET /containers/{id}/json 200"),
    "ContainerState": ("ContainerState",),
    "ContainerSummary": ("ContainerSummary",),
    "ContainerSummaryHostConfig": ("ContainerSummary > HostConfig",),
    "ContainerSummaryNetworkSettings": ("ContainerSummary > NetworkSettings",),
    "ContainerWaitExitError": ("ContainerWaitExitError",),
    "ContainerWaitResponse": ("ContainerWaitResponse",),
    "DeviceMapping": ("DeviceMapping",),
    "DeviceRequest": ("DeviceRequest",),
    "DriverData": ("DriverData", "GraphDriverData"),
    "EndpointIPAMConfig": ("EndpointIPAMConfig",),
    "EndpointSettings": ("EndpointSettings",),
    "Health": ("Health",),
    "HealthConfig": ("HealthConfig",),
    "HealthSummary": ("ContainerSummary > Health",),
    "HealthcheckResult": ("HealthcheckResult",),
    "HostConfig": ("HostConfig",),
    "ImageMountOptions": ("Mount > ImageOptions",),
    "LogConfig": ("HostConfig > LogConfig",),
    "Mount": ("Mount",),
    "MountPoint": ("MountPoint",),
    "NetworkSettings": ("NetworkSettings",),
    "NetworkingConfig": ("NetworkingConfig",),
    "Port": ("PortSummary", "Port"),
    "PortBinding": ("PortBinding",),
    "RestartPolicy": ("RestartPolicy",),
    "ThrottleDevice": ("ThrottleDevice",),
    "TmpfsOptions": ("Mount > TmpfsOptions",),
    "Ulimit": ("Resources > Ulimits > []",),
    "VolumeDriverConfig": ("Mount > VolumeOptions > DriverConfig",),
    "VolumeOptions": ("Mount > VolumeOptions",),
    "WeightDevice": ("Resources > BlkioWeightDevice > []",),
    # container operations (API areas of issue 11)
    "BlkioEntry": ("ContainerBlkioStatEntry",),
    "BlkioStats": ("ContainerBlkioStats",),
    "CPUStats": ("ContainerCPUStats",),
    "CPUUsage": ("ContainerCPUUsage",),
    "ContainerPruneResponse": ("POST /containers/prune 200",),
    "ContainerStats": ("ContainerStatsResponse",),
    "ContainerTopResponse": ("ContainerTopResponse", "GET /containers/{id}/top 200"),
    "ContainerUpdateRequest": ("POST /containers/{id}/update body",),
    "ContainerUpdateResponse": ("ContainerUpdateResponse", "POST /containers/{id}/update 200"),
    "FilesystemChange": ("FilesystemChange", "GET /containers/{id}/changes 200 > []"),
    "MemoryStats": ("ContainerMemoryStats",),
    "NetworkStats": ("ContainerNetworkStats",),
    "PidsStats": ("ContainerPidsStats",),
    "ThrottlingData": ("ContainerThrottlingData",),
    # image and system operations
    "BuildCacheRecord": ("BuildCache",),
    "ImageDeleteResponseItem": ("ImageDeleteResponseItem",),
    "ImageHistoryItem": ("ImageHistoryResponseItem", "GET /images/{name}/history 200 > []"),
    "ImagePruneResponse": ("POST /images/prune 200",),
    "ImageSummary": ("ImageSummary",),
    "NetworkPruneResponse": ("POST /networks/prune 200",),
    "SystemDataUsage": ("GET /system/df 200",),
    "SystemInfo": ("SystemInfo",),
    "VolumePruneResponse": ("POST /volumes/prune 200",),
    # BuildKit: decoded from the protobuf trace or made by our build tracker, not engine JSON
    "BuildFailed": (),
    "BuildOutput": (),
    "BuildWarning": (),
    "ImageBuilt": (),
    "StatusResponse": (),
    "StepCached": (),
    "StepCompleted": (),
    "StepFailed": (),
    "StepLog": (),
    "StepStarted": (),
    "Vertex": (),
    "VertexLog": (),
    "VertexStatus": (),
    "VertexWarning": (),
    # archives
    "ContainerPathStat": (),  # a header: the spec describes it in words only
    # build and progress streams
    "BuildMessage": ("BuildInfo",),
    "ErrorDetail": ("ErrorDetail",),
    "ProgressDetail": ("ProgressDetail",),
    "ProgressMessage": ("CreateImageInfo",),
    # events
    "EventActor": ("EventActor",),
    "EventMessage": ("EventMessage",),
    # exec
    "ExecConfig": ("POST /containers/{id}/exec body",),
    "ExecCreateResponse": ("IdResponse",),
    "ExecInspect": ("GET /exec/{id}/json 200",),
    "ExecProcessConfig": ("ProcessConfig",),
    "ExecStartConfig": ("POST /exec/{id}/start body",),
    # images
    "ImageInspect": ("ImageInspect",),
    "ImageMetadata": ("ImageInspect > Metadata",),
    "ImageRootFS": ("ImageInspect > RootFS",),
    # networks
    "IPAM": ("IPAM",),
    "IPAMConfig": ("IPAMConfig",),
    "Network": ("NetworkInspect", "Network"),
    "NetworkConfigReference": ("ConfigReference",),
    "NetworkConnectRequest": ("NetworkConnectRequest", "POST /networks/{id}/connect body"),
    "NetworkContainer": ("EndpointResource", "NetworkContainer"),
    "NetworkCreateRequest": ("NetworkCreateRequest", "POST /networks/create body"),
    "NetworkCreateResponse": ("NetworkCreateResponse", "POST /networks/create 201"),
    "NetworkDisconnectRequest": (
        "NetworkDisconnectRequest",
        "POST /networks/{id}/disconnect body",
    ),
    # system
    "ComponentVersion": ("SystemVersion > Components > []", "GET /version 200 > Components > []"),
    "LoginResponse": ("POST /auth 200",),
    "PingInfo": (),  # headers of GET /_ping
    "PlatformName": ("SystemVersion > Platform", "GET /version 200 > Platform"),
    "SystemVersion": ("SystemVersion", "GET /version 200"),
    # volumes
    "Volume": ("Volume",),
    "VolumeCreateRequest": ("VolumeCreateRequest", "VolumeCreateOptions", "VolumeConfig"),
    "VolumeListResponse": ("VolumeListResponse", "GET /volumes 200"),
    "VolumeUsageData": ("Volume > UsageData",),
}

_BLKIOSTATS = (
    "cgroup v1 block-I/O counters beyond bytes and operations (null on cgroup v2 "
    "hosts); not modelled yet, reachable with DockerClient.request"
)
_BUILDCACHERECORD = (
    "the cache record's parent ids; not modelled yet, reachable with DockerClient.request"
)
_CONTAINERSTATS = "Windows containers only"
_CONTAINERUPDATEREQUEST = (
    "update sends the resources this client exposes (CPU, memory, pids, restart "
    "policy); the rest is reachable with DockerClient.request"
)
_IMAGESUMMARY = "API 1.52, containerd image store only"
_MEMORYSTATS = "Windows containers only"
_NETWORKSTATS = "Windows containers only"
_SYSTEMDATAUSAGE = "API 1.52 per-kind summaries; the lists are modelled, the summaries not yet"
_SYSTEMINFO = (
    "engine internals, swarm or plugin details not modelled yet; reachable with "
    "DockerClient.request"
)

#: (model, wire name) → why the model leaves that property out.
DROPPED: dict[tuple[str, str], str] = {
    ("BlkioStats", "io_merged_recursive"): _BLKIOSTATS,
    ("BlkioStats", "io_queue_recursive"): _BLKIOSTATS,
    ("BlkioStats", "io_service_time_recursive"): _BLKIOSTATS,
    ("BlkioStats", "io_time_recursive"): _BLKIOSTATS,
    ("BlkioStats", "io_wait_time_recursive"): _BLKIOSTATS,
    ("BlkioStats", "sectors_recursive"): _BLKIOSTATS,
    ("BuildCacheRecord", "Parents"): _BUILDCACHERECORD,
    ("ContainerStats", "os_type"): _CONTAINERSTATS,
    ("ContainerStats", "storage_stats"): _CONTAINERSTATS,
    ("ContainerUpdateRequest", "BlkioDeviceReadBps"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "BlkioDeviceReadIOps"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "BlkioDeviceWriteBps"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "BlkioDeviceWriteIOps"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "BlkioWeightDevice"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "CgroupParent"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "CpuCount"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "CpuPercent"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "CpuRealtimePeriod"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "CpuRealtimeRuntime"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "DeviceCgroupRules"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "DeviceRequests"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "Devices"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "IOMaximumBandwidth"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "IOMaximumIOps"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "Init"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "KernelMemory"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "KernelMemoryTCP"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "MemorySwappiness"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "OomKillDisable"): _CONTAINERUPDATEREQUEST,
    ("ContainerUpdateRequest", "Ulimits"): _CONTAINERUPDATEREQUEST,
    ("ImageSummary", "Descriptor"): _IMAGESUMMARY,
    ("ImageSummary", "Manifests"): _IMAGESUMMARY,
    ("MemoryStats", "commitbytes"): _MEMORYSTATS,
    ("MemoryStats", "commitpeakbytes"): _MEMORYSTATS,
    ("MemoryStats", "privateworkingset"): _MEMORYSTATS,
    ("NetworkStats", "endpoint_id"): _NETWORKSTATS,
    ("NetworkStats", "instance_id"): _NETWORKSTATS,
    ("SystemDataUsage", "BuildCacheUsage"): _SYSTEMDATAUSAGE,
    ("SystemDataUsage", "ContainerUsage"): _SYSTEMDATAUSAGE,
    ("SystemDataUsage", "ImageUsage"): _SYSTEMDATAUSAGE,
    ("SystemDataUsage", "VolumeUsage"): _SYSTEMDATAUSAGE,
    ("SystemInfo", "BridgeNfIp6tables"): _SYSTEMINFO,
    ("SystemInfo", "BridgeNfIptables"): _SYSTEMINFO,
    ("SystemInfo", "CDISpecDirs"): _SYSTEMINFO,
    ("SystemInfo", "ClusterAdvertise"): _SYSTEMINFO,
    ("SystemInfo", "ClusterStore"): _SYSTEMINFO,
    ("SystemInfo", "Containerd"): _SYSTEMINFO,
    ("SystemInfo", "ContainerdCommit"): _SYSTEMINFO,
    ("SystemInfo", "DefaultAddressPools"): _SYSTEMINFO,
    ("SystemInfo", "DiscoveredDevices"): _SYSTEMINFO,
    ("SystemInfo", "FirewallBackend"): _SYSTEMINFO,
    ("SystemInfo", "GenericResources"): _SYSTEMINFO,
    ("SystemInfo", "IPv4Forwarding"): _SYSTEMINFO,
    ("SystemInfo", "InitBinary"): _SYSTEMINFO,
    ("SystemInfo", "InitCommit"): _SYSTEMINFO,
    ("SystemInfo", "Isolation"): _SYSTEMINFO,
    ("SystemInfo", "KernelMemory"): _SYSTEMINFO,
    ("SystemInfo", "KernelMemoryTCP"): _SYSTEMINFO,
    ("SystemInfo", "NEventsListener"): _SYSTEMINFO,
    ("SystemInfo", "NFd"): _SYSTEMINFO,
    ("SystemInfo", "NGoroutines"): _SYSTEMINFO,
    ("SystemInfo", "NRI"): _SYSTEMINFO,
    ("SystemInfo", "Plugins"): _SYSTEMINFO,
    ("SystemInfo", "ProductLicense"): _SYSTEMINFO,
    ("SystemInfo", "RegistryConfig"): _SYSTEMINFO,
    ("SystemInfo", "RuncCommit"): _SYSTEMINFO,
    ("SystemInfo", "Runtimes"): _SYSTEMINFO,
    ("SystemInfo", "Swarm"): _SYSTEMINFO,
    ("ContainerInspect", "ImageManifestDescriptor"): "API 1.52, Docker 29 with the containerd "
    "image store only: the OCI descriptor of the image manifest; `image` (the id) names it",
    ("ContainerInspect", "Storage"): "API 1.52: the containerd snapshotter's root filesystem "
    "details, storage internals no engine we support sends (Docker 28, Podman)",
    ("ContainerSummary", "ImageManifestDescriptor"): "the same OCI descriptor as "
    "ContainerInspect's, for the containerd image store only; `image_id` names the image",
    ("ImageInspect", "Descriptor"): "API 1.52, containerd image store only: the OCI descriptor "
    "of the image index; `id` and `repo_digests` identify the image",
    ("ImageInspect", "Manifests"): "API 1.52, containerd image store only (with manifests=1): "
    "the per-platform manifests of a multi-platform image",
    ("ImageInspect", "Identity"): "API 1.55: build/pull/signature provenance of the image, "
    "from Docker 29.6's containerd store; not sent by the engines we support",
    ("Network", "Peers"): "swarm only: the gossip peers of an overlay network; this client "
    "drives local engines",
    ("Network", "Services"): "API 1.52, swarm only (verbose=true on an overlay network): the "
    "services' endpoints",
    ("Network", "Status"): "API 1.52: IP address usage of each subnet, only with verbose=true, "
    "which this client does not ask for",
    ("Volume", "ClusterVolume"): "swarm CSI cluster volumes (API 1.42): only for volumes of a "
    "swarm's cluster scope, which local engines do not have",
    ("VolumeCreateRequest", "ClusterVolumeSpec"): "swarm CSI cluster volumes (API 1.42): "
    "creating one needs a swarm manager",
}

#: (model, wire name) → why the model has a field no spec version lists.
EXTRA: dict[tuple[str, str], str] = {
    ("ProgressMessage", "stream"): "ProgressMessage also reads the lines of a build stream "
    "(BuildInfo), whose builder output is `stream`",
    ("ProgressMessage", "aux"): "ProgressMessage also reads the lines of a build stream "
    "(BuildInfo), whose built image id comes in `aux`",
}


def load_specs() -> dict[str, dict[str, Any]]:
    found = next((d for d in SPEC_DIRS if (d / f"{VERSIONS[0]}.yaml").is_file()), None)
    if found is None:
        message = f"no Docker API specs in {', '.join(map(str, SPEC_DIRS))}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true: set LS_DOCKER_API_SPECS)")
        pytest.skip(message)
    return _parsed(found)


@functools.cache
def _parsed(directory: Path) -> dict[str, dict[str, Any]]:
    return {v: yaml.safe_load((directory / f"{v}.yaml").read_text()) for v in VERSIONS}


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def properties(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """An object schema's properties, through ``$ref`` and ``allOf``."""
    schema = resolve(spec, schema)
    found: dict[str, Any] = {}
    for part in schema.get("allOf", ()):
        found.update(properties(spec, part))
    found.update(schema.get("properties", {}))
    return found


def find(spec: dict[str, Any], source: str) -> dict[str, Any] | None:
    head, *steps = source.split(" > ")
    schema: dict[str, Any] | None
    if " " in head:
        method, path, where = head.split(" ")
        operation = spec["paths"].get(path, {}).get(method.lower())
        if operation is None:
            return None
        if where == "body":
            bodies = [p for p in operation.get("parameters", ()) if p.get("in") == "body"]
            schema = bodies[0]["schema"] if bodies else None
        else:
            schema = operation["responses"].get(int(where), {}).get("schema")
    else:
        schema = spec["definitions"].get(head)
    for step in steps:
        if schema is None:
            return None
        schema = resolve(spec, schema)
        schema = schema.get("items") if step == "[]" else properties(spec, schema).get(step)
    return None if schema is None else resolve(spec, schema)


def wire_names(model: type[msgspec.Struct]) -> set[str]:
    return {field.encode_name for field in msgspec.structs.fields(model)}


def exposed_models() -> Iterator[tuple[str, type[msgspec.Struct]]]:
    for name in models.__all__:
        value = getattr(models, name)
        if isinstance(value, type) and issubclass(value, msgspec.Struct) and value is not Model:
            yield name, value


@functools.cache
def gaps() -> tuple[dict[tuple[str, str], list[str]], set[tuple[str, str]]]:
    """(model, property) → the versions whose spec has it and the model lacks; and the
    (model, field) pairs no version knows."""
    specs = load_specs()
    dropped: dict[tuple[str, str], list[str]] = {}
    extra: set[tuple[str, str]] = set()
    for name, model in exposed_models():
        ours = wire_names(model)
        known: set[str] = set()
        found_any = False
        for version, spec in specs.items():
            schema = next(
                (s for s in (find(spec, source) for source in SOURCES[name]) if s is not None),
                None,
            )
            if schema is None:
                continue
            found_any = True
            theirs = set(properties(spec, schema))
            known |= theirs
            for missing in sorted(theirs - ours):
                dropped.setdefault((name, missing), []).append(version)
        if found_any:
            extra |= {(name, field) for field in ours - known}
    return dropped, extra


def test_every_exposed_model_has_a_source() -> None:
    assert sorted(SOURCES) == sorted(name for name, _ in exposed_models())
    specs = load_specs()
    for name, sources in SOURCES.items():
        if sources:
            assert any(find(spec, s) for spec in specs.values() for s in sources), name


def test_every_spec_property_is_modelled_or_dropped_on_purpose() -> None:
    dropped, _ = gaps()
    undecided = {
        f"{model}.{prop} ({', '.join(versions)})"
        for (model, prop), versions in dropped.items()
        if (model, prop) not in DROPPED
    }
    stale = {f"{model}.{prop}" for model, prop in DROPPED if (model, prop) not in dropped}
    assert not undecided, f"model these or list them in DROPPED with a reason: {sorted(undecided)}"
    assert not stale, f"DROPPED entries modelled now (or gone from the specs): {sorted(stale)}"


def test_every_modelled_field_is_in_a_spec_or_explained() -> None:
    _, extra = gaps()
    assert extra == set(EXTRA)


def test_every_decision_gives_a_reason() -> None:
    for reason in (*DROPPED.values(), *EXTRA.values()):
        assert len(reason) > 20

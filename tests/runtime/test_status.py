"""From an inspect answer (the engines' JSON) to ContainerStatus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from lightshuttle_runtime.models import ContainerInspect
from lightshuttle_runtime.runtime import (
    ContainerStatus,
    Healthy,
    Running,
    Starting,
    Stopped,
    Unhealthy,
)
from lightshuttle_runtime.runtime._status import (
    container_status,
    has_healthcheck,
    last_health_output,
)

# What both engines send for a container that never started (Podman adds an empty Health).
NEVER_STARTED = {
    "Status": "created",
    "Running": False,
    "Paused": False,
    "Restarting": False,
    "OOMKilled": False,
    "Dead": False,
    "Pid": 0,
    "ExitCode": 0,
    "Error": "",
    "StartedAt": "0001-01-01T00:00:00Z",
    "FinishedAt": "0001-01-01T00:00:00Z",
}
CHECK = {"Test": ["CMD-SHELL", "test -f /tmp/ready"], "Interval": 200_000_000, "Retries": 1}


def inspect(
    status: str,
    *,
    health: str | None = None,
    exit_code: int | None = 0,
    log: list[dict[str, Any]] | None = None,
    check: dict[str, Any] | None = None,
) -> ContainerInspect:
    """An inspect answer as the engine sends it (PascalCase JSON), decoded by the client."""
    state: dict[str, Any] = {
        **NEVER_STARTED,
        "Status": status,
        "Running": status in ("running", "paused", "restarting"),
        "Paused": status == "paused",
        "Restarting": status == "restarting",
        "Dead": status == "dead",
        "ExitCode": exit_code,
    }
    if exit_code is None:
        del state["ExitCode"]  # not sent: Go's zero value
    if health is not None:
        state["Health"] = {"Status": health, "FailingStreak": 0, "Log": log}
    answer = {
        "Id": "f" * 64,
        "Name": "/ls-rt-status",
        "State": state,
        "Config": {"Image": "busybox:local", "Healthcheck": check},
    }
    return msgspec.json.decode(msgspec.json.encode(answer), type=ContainerInspect)


CASES: dict[str, tuple[ContainerInspect, ContainerStatus]] = {
    "running, healthy": (inspect("running", health="healthy", check=CHECK), Healthy()),
    "running, unhealthy": (inspect("running", health="unhealthy", check=CHECK), Unhealthy()),
    "running, check starting": (inspect("running", health="starting", check=CHECK), Running()),
    "running, no check (Docker)": (inspect("running"), Running()),
    "running, empty Health (Podman)": (inspect("running", health=""), Running()),
    "paused, no check": (inspect("paused"), Running()),
    "paused, healthy": (inspect("paused", health="healthy", check=CHECK), Healthy()),
    "created": (inspect("created"), Starting()),
    "created, with a check": (inspect("created", health="starting", check=CHECK), Starting()),
    "restarting": (inspect("restarting", exit_code=1), Starting()),
    "exited 0": (inspect("exited", exit_code=0), Stopped(0)),
    "exited 3": (inspect("exited", exit_code=3), Stopped(3)),
    "exited, killed": (inspect("exited", exit_code=137, health="unhealthy"), Stopped(137)),
    "dead": (inspect("dead", exit_code=255), Stopped(255)),
    "removing": (inspect("removing", exit_code=0), Stopped(0)),
    "exited, no exit code sent": (inspect("exited", exit_code=None), Stopped(0)),
}


@pytest.mark.parametrize(("info", "expected"), CASES.values(), ids=list(CASES))
def test_state_maps_to_status(info: ContainerInspect, expected: ContainerStatus) -> None:
    status = container_status(info)
    assert status == expected
    assert type(status) is type(expected)


def test_statuses_compare_by_kind_and_exit_code() -> None:
    statuses: list[ContainerStatus] = [Stopped(0), Stopped(1), Running(), Healthy(), Stopped()]
    assert len(set(statuses)) == 5
    assert Stopped() == Stopped(None)


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (inspect("running"), False),
        (inspect("running", health=""), False),
        (inspect("running", health="none"), False),
        (inspect("running", check={"Test": ["NONE"]}), False),
        (inspect("running", check={"Test": []}), False),
        (inspect("running", health="starting", check=CHECK), True),
        # Podman may report the check's status before the config says anything.
        (inspect("running", health="starting"), True),
        # A created container has its config's check but no Health yet.
        (inspect("created", check=CHECK), True),
    ],
)
def test_has_healthcheck(info: ContainerInspect, expected: bool) -> None:
    assert has_healthcheck(info) is expected


def test_last_health_output_is_the_newest_probe_stripped() -> None:
    log = [
        {"Start": "2026-11-30T09:00:00Z", "ExitCode": 1, "Output": "first\n"},
        {"Start": "2026-11-30T09:00:01Z", "ExitCode": 1, "Output": "  no /tmp/ready\n"},
    ]
    info = inspect("running", health="unhealthy", log=log, check=CHECK)
    assert last_health_output(info) == "no /tmp/ready"


@pytest.mark.parametrize(
    "info",
    [
        inspect("running"),
        inspect("running", health="starting", log=None, check=CHECK),
        inspect("running", health="starting", log=[], check=CHECK),
    ],
)
def test_last_health_output_is_none_when_no_probe_ran(info: ContainerInspect) -> None:
    assert last_health_output(info) is None


def test_a_probe_that_printed_nothing() -> None:
    info = inspect("running", health="starting", log=[{"ExitCode": 0}], check=CHECK)
    assert last_health_output(info) == ""  # no Output sent: Go's zero value


DATA = Path(__file__).parent / "data"
REAL: dict[str, tuple[ContainerStatus, str]] = {
    "inspect-healthy-docker.json": (Healthy(), "ok"),
    "inspect-healthy-podman.json": (Healthy(), "ok"),
    # Stopped with ``t=0``: SIGKILL. Podman keeps the last Health status ("healthy").
    "inspect-exited-docker.json": (Stopped(137), "ok"),
    "inspect-exited-podman.json": (Stopped(137), "ok"),
}


@pytest.mark.parametrize(("filename", "expected"), REAL.items(), ids=list(REAL))
def test_real_inspect_answers(filename: str, expected: tuple[ContainerStatus, str]) -> None:
    """Answers captured from Docker 20.10 and Podman 4.3 (API 1.41), unedited."""
    info = msgspec.json.decode((DATA / filename).read_bytes(), type=ContainerInspect)
    status, output = expected
    assert container_status(info) == status
    assert has_healthcheck(info)
    assert last_health_output(info) == output
    assert info.name == "/ls-rt-capture"
    assert info.config.labels == {"lightshuttle.project": "demo"}

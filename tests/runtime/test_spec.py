"""ContainerSpec validation: every invalid spec fails before any request is sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from lightshuttle_runtime import DockerClient
from lightshuttle_runtime.runtime import (
    ContainerSpec,
    DockerRuntime,
    HealthcheckSpec,
    InvalidSpecError,
    PortSpec,
    VolumeSpec,
)


def spec(**changes: Any) -> ContainerSpec:
    fields: dict[str, Any] = {"name": "ls-rt-spec", "image": "busybox:local"}
    fields.update(changes)
    return ContainerSpec(**fields)


def check(**changes: Any) -> HealthcheckSpec:
    fields: dict[str, Any] = {"test": "true"}
    fields.update(changes)
    return HealthcheckSpec(**fields)


VALID = [
    spec(),
    spec(name="a1", image="localhost:5000/team/app:1.2"),
    spec(image="busybox"),
    spec(image="registry.example.com/app@sha256:" + "a" * 64),
    spec(env={"A": "1", "EMPTY": ""}),
    spec(
        ports=[
            PortSpec(80),
            PortSpec(53, 5353, "0.0.0.0", "udp"),
            PortSpec(65535, 1),
            PortSpec(81, 0),
        ]
    ),
    spec(volumes=[VolumeSpec("/data"), VolumeSpec("/cache", "named"), VolumeSpec("/h", "/tmp")]),
    spec(working_dir="/srv", command=["sh", "-c", "true"], entrypoint=[]),
    spec(healthcheck=check(interval=timedelta(0), timeout=timedelta(milliseconds=1), retries=0)),
    spec(healthcheck=check(test=["CMD-less", "argv"], start_period=timedelta(hours=1))),
    spec(healthcheck=check(test=["CMD", "test", "-f", "/tmp/ready"])),  # docker-py's form
    spec(healthcheck=check(test=["CMD-SHELL", "test -f /tmp/ready"])),
    spec(healthcheck=check(test=["NONE"])),
    spec(ports=[PortSpec(80, 8080, "::1"), PortSpec(81, 8081, "192.168.1.2")]),
]

INVALID = {
    "empty name": (spec(name=""), "container name"),
    "one-char name": (spec(name="a"), "container name"),
    "name with a space": (spec(name="my app"), "container name"),
    "name starting with a dash": (spec(name="-app"), "container name"),
    "empty image": (spec(image=""), "image reference"),
    "upper-case image": (spec(image="BusyBox:local"), "image reference"),
    "image with a space": (spec(image="busy box"), "image reference"),
    "image with an empty tag": (spec(image="busybox:"), "image reference"),
    "image with a bad digest": (spec(image="busybox@sha256:xyz"), "image reference"),
    "env key with '='": (spec(env={"A=B": "1"}), "env key"),
    "empty env key": (spec(env={"": "1"}), "env key"),
    "container port 0": (spec(ports=[PortSpec(0)]), "container port"),
    "container port 65536": (spec(ports=[PortSpec(65536)]), "container port"),
    "negative host port": (spec(ports=[PortSpec(80, -1)]), "host port"),
    "host port 70000": (spec(ports=[PortSpec(80, 70000)]), "host port"),
    "bool port": (spec(ports=[PortSpec(True)]), "container port"),
    "bad protocol": (spec(ports=[PortSpec(80, protocol="icmp")]), "protocol"),  # type: ignore[arg-type]
    "relative volume target": (spec(volumes=[VolumeSpec("data")]), "volume target"),
    "relative working dir": (spec(working_dir="srv"), "working_dir"),
    "empty health test": (spec(healthcheck=check(test="")), "healthcheck test"),
    "empty health argv": (spec(healthcheck=check(test=[])), "healthcheck test"),
    "CMD and no command": (spec(healthcheck=check(test=["CMD"])), "names no command"),
    "CMD-SHELL and two words": (
        spec(healthcheck=check(test=["CMD-SHELL", "test", "-f"])),
        "exactly one shell command",
    ),
    "NONE and more": (spec(healthcheck=check(test=["NONE", "x"])), '"NONE" takes nothing'),
    "a short IPv4 host address": (
        spec(ports=[PortSpec(80, 18084, "1.2.3")]),
        "host address '1.2.3' is not an IPv4 or IPv6 address",
    ),
    "a host name as host address": (
        spec(ports=[PortSpec(80, 18084, "localhost")]),
        "is not an IPv4 or IPv6 address",
    ),
    "negative interval": (
        spec(healthcheck=check(interval=timedelta(seconds=-1))),
        r"interval must not be negative \(got -1 s\)",
    ),
    "negative timeout": (
        spec(healthcheck=check(timeout=-timedelta(microseconds=1))),
        r"timeout must not be negative \(got -1e-06 s\)",
    ),
    "negative start period": (
        spec(healthcheck=check(start_period=timedelta(days=-1))),
        r"start_period must not be negative \(got -86400 s\)",
    ),
    "sub-ms interval": (
        spec(healthcheck=check(interval=timedelta(microseconds=999))),
        r"interval must be 0 or at least 1 ms \(got 0.000999 s\)",
    ),
    "sub-ms start period": (
        spec(healthcheck=check(start_period=timedelta(microseconds=1))),
        "start_period must be 0 or at least 1 ms",
    ),
    "negative retries": (spec(healthcheck=check(retries=-1)), "retries"),
}


@pytest.mark.parametrize("good", VALID)
def test_valid_specs_pass(good: ContainerSpec) -> None:
    good.validate()  # raises when invalid
    assert good.name and good.image


@pytest.mark.parametrize(("bad", "fragment"), INVALID.values(), ids=list(INVALID))
def test_invalid_spec_is_rejected_with_a_clear_message(bad: ContainerSpec, fragment: str) -> None:
    with pytest.raises(InvalidSpecError, match=fragment):
        bad.validate()


def test_invalid_spec_error_is_a_value_error_without_a_client_cause() -> None:
    with pytest.raises(ValueError) as caught:
        spec(name="").validate()
    assert isinstance(caught.value, InvalidSpecError)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


@pytest.mark.anyio
@pytest.mark.parametrize(("bad", "fragment"), INVALID.values(), ids=list(INVALID))
async def test_start_rejects_an_invalid_spec_before_any_request(
    bad: ContainerSpec, fragment: str
) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    transport = httpx.MockTransport(handler)
    async with DockerClient("unix:///nowhere.sock", transport=transport) as client:
        with pytest.raises(InvalidSpecError, match=fragment):
            await DockerRuntime(client).start(bad)
    assert sent == []

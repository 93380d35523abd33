"""From ContainerSpec to the ``POST /containers/create`` body, checked on the wire (JSON)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest

from lightshuttle_runtime.runtime import (
    LABEL_PROJECT,
    LABEL_RESOURCE,
    ContainerSpec,
    HealthcheckSpec,
    PortSpec,
    VolumeSpec,
)
from lightshuttle_runtime.runtime._create import create_request


def wire(spec: ContainerSpec) -> dict[str, Any]:
    """The create body as the engine receives it."""
    body: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(create_request(spec)))
    return body


def test_minimal_spec_sends_only_the_image_and_an_empty_host_config() -> None:
    assert wire(ContainerSpec(name="ls-rt-create", image="busybox:local")) == {
        "Image": "busybox:local",
        "HostConfig": {},
    }


def test_project_and_resource_become_labels_next_to_extra_labels() -> None:
    body = wire(
        ContainerSpec(
            name="ls-rt-create",
            image="busybox:local",
            project="shop",
            resource="db",
            labels={"team": "core"},
        )
    )
    assert LABEL_PROJECT == "lightshuttle.project"
    assert LABEL_RESOURCE == "lightshuttle.resource"
    assert body["Labels"] == {
        "team": "core",
        "lightshuttle.project": "shop",
        "lightshuttle.resource": "db",
    }


def test_project_label_wins_over_an_extra_label_of_the_same_name() -> None:
    body = wire(
        ContainerSpec(
            name="ls-rt-create",
            image="busybox:local",
            project="shop",
            labels={LABEL_PROJECT: "other"},
        )
    )
    assert body["Labels"] == {LABEL_PROJECT: "shop"}


def test_env_is_a_list_of_key_equals_value_in_order() -> None:
    body = wire(
        ContainerSpec(
            name="ls-rt-create",
            image="busybox:local",
            env={"B": "2", "A": "x=y", "EMPTY": ""},
        )
    )
    assert body["Env"] == ["B=2", "A=x=y", "EMPTY="]


def test_ports_are_exposed_and_bound_to_loopback_by_default() -> None:
    body = wire(
        ContainerSpec(
            name="ls-rt-create",
            image="busybox:local",
            ports=[
                PortSpec(80, 8080),
                PortSpec(80, 8081, "0.0.0.0"),
                PortSpec(53, None, protocol="udp"),
                PortSpec(9000, 9000, "::1", "sctp"),
                PortSpec(81, 0),  # 0, as None: the engine picks
            ],
        )
    )
    assert body["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}, "9000/sctp": {}, "81/tcp": {}}
    assert body["HostConfig"]["PortBindings"] == {
        "80/tcp": [
            {"HostIp": "127.0.0.1", "HostPort": "8080"},
            {"HostIp": "0.0.0.0", "HostPort": "8081"},
        ],
        "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
        "9000/sctp": [{"HostIp": "::1", "HostPort": "9000"}],
        "81/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
    }


def test_volumes_become_bind_named_and_anonymous_mounts() -> None:
    body = wire(
        ContainerSpec(
            name="ls-rt-create",
            image="busybox:local",
            volumes=[
                VolumeSpec("/host", "/srv/host"),
                VolumeSpec("/named", "ls-data", read_only=True),
                VolumeSpec("/anonymous"),
            ],
        )
    )
    assert body["HostConfig"]["Mounts"] == [
        {"Target": "/host", "Source": "/srv/host", "Type": "bind"},
        {"Target": "/named", "Source": "ls-data", "Type": "volume", "ReadOnly": True},
        {"Target": "/anonymous", "Type": "volume"},
    ]
    assert "Binds" not in body["HostConfig"]


def test_command_entrypoint_working_dir_and_tty() -> None:
    body = wire(
        ContainerSpec(
            name="ls-rt-create",
            image="busybox:local",
            command=["-c", "echo hi"],
            entrypoint=["/bin/sh"],
            working_dir="/tmp",
            tty=True,
        )
    )
    assert body["Cmd"] == ["-c", "echo hi"]
    assert body["Entrypoint"] == ["/bin/sh"]
    assert body["WorkingDir"] == "/tmp"
    assert body["Tty"] is True


def test_an_empty_entrypoint_is_sent_to_clear_the_images_one() -> None:
    body = wire(ContainerSpec(name="ls-rt-create", image="busybox:local", entrypoint=[]))
    assert body["Entrypoint"] == []
    assert "Cmd" not in body


def test_shell_healthcheck_durations_are_sent_in_nanoseconds() -> None:
    body = wire(
        ContainerSpec(
            name="ls-rt-create",
            image="busybox:local",
            healthcheck=HealthcheckSpec(
                test="test -f /tmp/ready",
                interval=timedelta(milliseconds=200),
                timeout=timedelta(seconds=1, microseconds=500),
                retries=5,
                start_period=timedelta(minutes=2),
            ),
        )
    )
    assert body["Healthcheck"] == {
        "Test": ["CMD-SHELL", "test -f /tmp/ready"],
        "Interval": 200_000_000,
        "Timeout": 1_000_500_000,
        "Retries": 5,
        "StartPeriod": 120_000_000_000,
    }


def test_argv_healthcheck_uses_cmd_and_keeps_large_durations_exact() -> None:
    body = wire(
        ContainerSpec(
            name="ls-rt-create",
            image="busybox:local",
            healthcheck=HealthcheckSpec(
                test=["cat", "/tmp/ready"],
                interval=timedelta(days=3, milliseconds=1),
            ),
        )
    )
    check = body["Healthcheck"]
    assert check["Test"] == ["CMD", "cat", "/tmp/ready"]
    assert check["Interval"] == 3 * 86_400 * 10**9 + 10**6
    # The defaults: 30 s timeout, 3 retries, no start period (0 = inherit).
    assert check["Timeout"] == 30 * 10**9
    assert check["Retries"] == 3
    assert check["StartPeriod"] == 0


@pytest.mark.parametrize(
    ("test", "sent"),
    [
        (["CMD", "cat", "/tmp/ready"], ["CMD", "cat", "/tmp/ready"]),  # not ["CMD", "CMD", ...]
        (["CMD-SHELL", "test -f /tmp/ready"], ["CMD-SHELL", "test -f /tmp/ready"]),
        (["NONE"], ["NONE"]),
        (["cat", "/tmp/ready"], ["CMD", "cat", "/tmp/ready"]),
        ("test -f /tmp/ready", ["CMD-SHELL", "test -f /tmp/ready"]),
    ],
)
def test_healthcheck_in_the_engines_own_form_is_sent_as_it_is(
    test: str | list[str], sent: list[str]
) -> None:
    body = create_request(
        ContainerSpec(name="web", image="busybox:local", healthcheck=HealthcheckSpec(test=test))
    )
    assert body.healthcheck is not None and body.healthcheck.test == sent

"""The command line: argument parsing, error output, and the commands on the real engines."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import msgspec
import pytest

from lightshuttle_runtime import DockerClient, __version__
from lightshuttle_runtime._cli import (
    ClientFactory,
    amain,
    build_parser,
    describe,
    duration,
    engine_from_server,
    engine_name,
    env_pair,
    follow_up,
    main,
    port,
    since_time,
    volume,
)
from lightshuttle_runtime.models import SystemVersion
from lightshuttle_runtime.runtime import (
    ContainerNotFoundError,
    ContainerSpec,
    DockerRuntime,
    Healthy,
    PortSpec,
    Running,
    Starting,
    Stopped,
    Unhealthy,
    VolumeSpec,
)
from lightshuttle_runtime.testing import CassetteTransport

from .conftest import Engine, announced_api_version, negotiated

SRC = Path(__file__).resolve().parents[1] / "src"
CID = "feed" + "0" * 60


# -- argument types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("200ms", timedelta(milliseconds=200)),
        ("1.5s", timedelta(seconds=1.5)),
        ("2m", timedelta(minutes=2)),
        ("1h", timedelta(hours=1)),
        ("500us", timedelta(microseconds=500)),
        ("3", timedelta(seconds=3)),
        (".5", timedelta(milliseconds=500)),
        ("0", timedelta(0)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert duration(text) == expected


@pytest.mark.parametrize("text", ["", "5x", "-1s", "1e3", "s", "1 s s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="invalid duration"):
        duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("A=1", ("A", "1")), ("A=", ("A", "")), ("URL=a=b", ("URL", "a=b"))],
)
def test_env_pairs(text: str, expected: tuple[str, str]) -> None:
    assert env_pair(text) == expected


@pytest.mark.parametrize("text", ["A", "=1", ""])
def test_bad_env_pairs(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="KEY=value"):
        env_pair(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("80", PortSpec(80)),
        ("8080:80", PortSpec(80, 8080)),
        ("53:53/udp", PortSpec(53, 53, protocol="udp")),
        ("0.0.0.0:8080:80", PortSpec(80, 8080, "0.0.0.0")),
        ("127.0.0.1::80/sctp", PortSpec(80, None, "127.0.0.1", "sctp")),
        ("[::1]:8080:80", PortSpec(80, 8080, "::1")),
        ("127.0.0.1:0:80", PortSpec(80, 0, "127.0.0.1")),  # 0: the engine picks (as docker)
        # Out-of-range numbers are left to ContainerSpec.validate (one place for the rule).
        ("99999:80", PortSpec(80, 99999)),
    ],
)
def test_ports(text: str, expected: PortSpec) -> None:
    assert port(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/data", VolumeSpec("/data")),
        ("cache:/cache", VolumeSpec("/cache", "cache")),
        ("/srv:/srv:ro", VolumeSpec("/srv", "/srv", read_only=True)),
        ("/srv:/srv:rw", VolumeSpec("/srv", "/srv")),
    ],
)
def test_volumes(text: str, expected: VolumeSpec) -> None:
    assert volume(text) == expected


@pytest.mark.parametrize("text", ["", "a:b:c:d", ":/x", "/x:", "a::b"])
def test_bad_volumes(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="invalid volume"):
        volume(text)


def test_since_takes_a_duration_ago_or_a_time() -> None:
    ago = since_time("10m")
    assert timedelta(minutes=9) < datetime.now(UTC) - ago < timedelta(minutes=11)
    assert since_time("2026-11-30T09:33:00Z") == datetime(2026, 11, 30, 9, 33, tzinfo=UTC)
    assert since_time("2026-11-30T09:33:00") == datetime(2026, 11, 30, 9, 33, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError, match="invalid time"):
        since_time("yesterday")


@pytest.mark.parametrize("text", ["abc", "a:80", "80:b", "80/icmp", "", "1.5:80", "80:"])
def test_bad_ports(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="port"):
        port(text)


# -- the parser --------------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def test_run_arguments() -> None:
    args = parse(
        "run",
        "--name",
        "web",
        "-e",
        "A=1",
        "-e",
        "B=2",
        "-p",
        "8080:80",
        "--health-cmd",
        "test -f /tmp/ok",
        "--health-interval",
        "200ms",
        "busybox:local",
        "sh",
        "-c",
        "echo -e hi",
    )
    assert args.name == "web"
    assert args.env == [("A", "1"), ("B", "2")]
    assert args.publish == [PortSpec(80, 8080)]
    assert args.health_cmd == "test -f /tmp/ok"
    assert args.health_interval == timedelta(milliseconds=200)
    assert args.image == "busybox:local"
    # Everything after the image is the command, options included.
    assert args.command == ["sh", "-c", "echo -e hi"]


def test_run_defaults() -> None:
    args = parse("run", "--name", "web", "busybox:local")
    assert args.command == []
    assert args.env == []
    assert args.publish == []
    assert args.health_cmd is None
    assert args.health_interval == timedelta(seconds=1)
    assert args.wait_timeout == timedelta(seconds=60)


@pytest.mark.parametrize(
    "argv",
    [
        ("--host", "unix:///x.sock", "--debug", "ps"),
        ("ps", "--host", "unix:///x.sock", "--debug"),
    ],
)
def test_global_options_go_before_or_after_the_command(argv: tuple[str, ...]) -> None:
    args = parse(*argv)
    assert args.host == "unix:///x.sock"
    assert args.debug is True


def test_global_options_default_to_nothing() -> None:
    args = parse("version")
    assert args.host is None
    assert not args.debug
    assert args.backend is None


def test_other_commands() -> None:
    assert parse("logs", "-f", "-t", "web").follow is True
    assert parse("logs", "web").timestamps is False
    assert parse("stop", "-t", "2.5", "a", "b").names == ["a", "b"]
    assert parse("stop", "a").time == 10.0
    assert parse("rm", "a", "b").names == ["a", "b"]
    assert parse("inspect", "a").name == "a"
    assert parse("ps", "--project", "shop", "-a").project == "shop"
    demo = parse("demo")
    assert (demo.image, demo.name, demo.lines, demo.replay) == (
        "busybox:local",
        "ls-demo",
        5,
        False,
    )
    assert parse("demo", "--image", "alpine:3", "--replay").replay is True


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nope"],
        ["run", "busybox:local"],  # --name is required
        ["logs"],
        ["stop", "-t", "soon", "a"],
        ["ps", "--backend", "curio"],
    ],
)
def test_usage_errors_are_one_line_and_exit_1(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("lightshuttle-runtime: error: ")
    assert line.endswith("--help`)")


def test_help_still_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["run", "--help"])
    assert caught.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "DURATION is a number and a unit: 500us, 200ms, 1.5s, 2m, 1h" in help_text
    assert "[SRC:]DST[:ro]" in help_text


def test_describe_and_engine_name() -> None:
    assert [describe(s) for s in (Healthy(), Unhealthy(), Running(), Starting())] == [
        "healthy",
        "unhealthy",
        "running",
        "starting",
    ]
    assert describe(Stopped(3)) == "stopped (exit code 3)"
    assert describe(Stopped()) == "stopped"
    docker = msgspec.json.decode(
        b'{"Version":"20.10.24","Components":[{"Name":"Engine","Version":"20.10.24"}]}',
        type=SystemVersion,
    )
    podman = msgspec.json.decode(
        b'{"Version":"4.3.1","Components":[{"Name":"Podman Engine","Version":"4.3.1"}]}',
        type=SystemVersion,
    )
    assert engine_name(docker) == "Docker Engine 20.10.24"
    assert engine_name(podman) == "Podman Engine 4.3.1"


# -- errors and output, on a scripted engine ---------------------------------------------------


Handler = Callable[[httpx.Request], httpx.Response]


class Unread(httpx.AsyncByteStream):
    """A body not read yet, as a socket transport hands it over (streams need that)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._data


def scripted(handler: Handler, socket: str = "/nonexistent/ls-cli.sock") -> ClientFactory:
    """A client factory whose engine is ``handler`` (API 1.41, no negotiation)."""

    def unread(request: httpx.Request) -> httpx.Response:
        answer = handler(request)
        return httpx.Response(
            answer.status_code, headers=answer.headers, stream=Unread(answer.content)
        )

    def factory(host: str | None) -> AbstractAsyncContextManager[DockerClient]:
        transport = httpx.MockTransport(unread)
        return DockerClient(f"unix://{socket}", transport=transport, api_version="1.41")

    return factory


def not_found(request: httpx.Request) -> httpx.Response:
    return httpx.Response(404, json={"message": "No such container: nope"})


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 2] No such file or directory", request=request)


def test_an_engine_error_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "nope"], client_factory=scripted(not_found)) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "lightshuttle-runtime: error: no container 'nope'\n"


@pytest.mark.parametrize(
    "message",
    [
        "No such container: nope",  # Docker
        'no container with name or ID "nope" found: no such container',  # Podman
    ],
)
def test_a_missing_container_is_worded_alike_by_every_command(
    capsys: pytest.CaptureFixture[str], message: str
) -> None:
    # exec and attach reach the engine's 404 themselves; logs/inspect through the runtime:
    # every command says "no container 'nope'", never the raw 404 and its path
    def missing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"message": message})

    for command in (
        ["exec", "nope", "true"],
        ["attach", "nope"],
        ["inspect", "nope"],
        ["logs", "nope"],
        ["inspect", "--format", "json", "nope"],
    ):
        assert main(command, client_factory=scripted(missing)) == 1, command
        err = capsys.readouterr().err
        assert err == "lightshuttle-runtime: error: no container 'nope'\n", (command, err)


def test_a_404_for_something_else_stays_as_the_engine_said(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def no_image(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"message": "No such image: nope:1"})

    assert main(["exec", "nope", "true"], client_factory=scripted(no_image)) == 1
    assert "No such image: nope:1" in capsys.readouterr().err


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ContainerNotFoundError):
        main(["--debug", "inspect", "nope"], client_factory=scripted(not_found))


def test_no_engine_makes_demo_suggest_replay(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"], client_factory=scripted(refused)) == 1
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("lightshuttle-runtime: error: cannot reach the engine: ")
    assert "/nonexistent/ls-cli.sock does not exist" in line
    assert "--host" in line  # the scripted client's address is an argument
    assert line.endswith("or try `lightshuttle-runtime demo --replay`")


def test_a_missing_socket_given_by_host_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # --host chose the address: the hint is about --host, not DOCKER_HOST
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert main(["--host", "unix:///nonexistent/ls-cli-host.sock", "ps"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "/nonexistent/ls-cli-host.sock does not exist" in line
    assert "--host" in line and "DOCKER_HOST" not in line


def test_no_engine_for_other_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ps"], client_factory=scripted(refused)) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "cannot reach the engine" in line
    assert "--replay" not in line


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_demo_replays_the_shipped_recording_with_no_engine(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/engine.sock")
    assert main(["demo", "--replay", "--backend", backend]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    lines = out.out.splitlines()
    assert lines[0].startswith("✔ replaying a recording of Docker Engine 20.10")
    assert any(line.startswith("✔ ls-demo is healthy") for line in lines)
    assert sum("│" in line for line in lines) == 5
    assert lines[-1].startswith("✔ demo complete")


def test_demo_records_what_it_replays(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = tmp_path / "demo.json"
    assert main(["demo", "--host", engine.host, "--record", str(recording)]) == 0
    live = capsys.readouterr().out.splitlines()
    assert recording.is_file()

    def replay(host: str | None) -> DockerClient:
        return DockerClient(engine.host, transport=CassetteTransport(recording))

    assert main(["demo"], client_factory=replay) == 0
    replayed = capsys.readouterr().out.splitlines()
    # The same steps, container id and log lines; only the durations differ.
    assert [line.split(" in ")[0] for line in replayed] == [line.split(" in ")[0] for line in live]


def test_an_unsupported_docker_host_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "npipe:////./pipe/docker_engine")
    assert main(["version"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "npipe:////./pipe/docker_engine" in line


def test_an_invalid_spec_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    argv = ["run", "--name", "web", "-p", "99999:80", "busybox:local"]
    assert main(argv, client_factory=scripted(record)) == 1
    assert capsys.readouterr().err == (
        "lightshuttle-runtime: error: host port 99999 is not in 0-65535\n"
    )
    assert sent == []


def test_the_module_runs_as_a_program() -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "DOCKER_HOST": "unix:///nonexistent/ls.sock"}
    done = subprocess.run(
        [sys.executable, "-m", "lightshuttle_runtime", "version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("lightshuttle-runtime: error: cannot reach the engine: ")
    assert "/nonexistent/ls.sock" in line


def frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


def logs_engine(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/json"):
        return httpx.Response(200, json={"Id": CID, "Config": {"Tty": False}})
    body = (
        frame(1, b"2026-11-30T09:33:27.000000001Z out 1\n")
        + frame(2, b"2026-11-30T09:33:28Z err 1\n")
        # One long line cut in two messages: the second part keeps its own prefix.
        + frame(1, b"2026-11-30T09:33:29Z part ")
        + frame(1, b"2026-11-30T09:33:29Z one\n")
    )
    return httpx.Response(200, content=body)


def test_logs_split_stdout_and_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "web"], client_factory=scripted(logs_engine)) == 0
    out, err = capsys.readouterr()
    assert out == "out 1\npart one\n"
    assert err == "err 1\n"


def test_logs_with_timestamps_prefix_each_line_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "-t", "web"], client_factory=scripted(logs_engine)) == 0
    out, err = capsys.readouterr()
    assert out == "2026-11-30T09:33:27.000000Z out 1\n2026-11-30T09:33:29.000000Z part one\n"
    assert err == "2026-11-30T09:33:28.000000Z err 1\n"


def test_run_shows_pull_progress_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    progress = b"".join(
        msgspec.json.encode(line) + b"\n"
        for line in [
            {"status": "Pulling from library/app", "id": "1"},
            {"status": "Pulling fs layer", "id": "a1"},
            {"status": "Downloading", "id": "a1", "progress": "[=>   ] 1kB/3kB"},
            {"status": "Downloading", "id": "a1", "progress": "[===> ] 2kB/3kB"},
            {"status": "Pull complete", "id": "a1"},
        ]
    )

    def engine(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1.41/images/create":
            return httpx.Response(200, content=progress)
        if path.startswith("/v1.41/images/"):
            return httpx.Response(404, json={"message": "no such image"})
        if path == "/v1.41/containers/create":
            return httpx.Response(201, json={"Id": CID})
        if path.endswith("/start"):
            return httpx.Response(204)
        if path.endswith("/json"):
            return httpx.Response(200, json={"Id": CID, "State": {"Status": "running"}})
        return httpx.Response(500, json={"message": f"unexpected {path}"})

    assert main(["run", "--name", "web", "app:1"], client_factory=scripted(engine)) == 0
    out, err = capsys.readouterr()
    assert out == f"{CID}\n"
    assert err.splitlines() == [
        "↓ pulling app:1 (not on the engine yet)",
        "  ↓ 1: Pulling from library/app",
        "  ↓ a1: Pulling fs layer",
        "  ↓ a1: Downloading",
        "  ↓ a1: Pull complete",
    ]


# -- live, on Docker and Podman ------------------------------------------------------------------


def on(docker: DockerClient) -> ClientFactory:
    """Run commands on the test's client (the ``docker`` fixture: live, or a cassette)."""

    def factory(host: str | None) -> AbstractAsyncContextManager[DockerClient]:
        return nullcontext(docker)

    return factory


@pytest.mark.anyio
async def test_demo(docker: DockerClient, capsys: pytest.CaptureFixture[str]) -> None:
    name = "ls-rt-cli-demo"
    code = await amain(["demo", "--name", name, "--lines", "3"], client_factory=on(docker))
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    steps = [line for line in out.splitlines() if line.startswith("✔ ")]
    expected = [
        "✔ connected to ",
        f"✔ started {name} (",
        f"✔ {name} is healthy in ",
        "✔ followed 3 log lines in ",
        f"✔ stopped {name} (exit code 0) in ",
        f"✔ removed {name} and its network lightshuttle-ls-demo in ",
        "✔ demo complete in ",
    ]
    assert len(steps) == len(expected), out
    for line, start in zip(steps, expected, strict=True):
        assert line.startswith(start), line
        assert line.endswith(" s"), line
    logged = [line.split(maxsplit=3)[2:] for line in out.splitlines() if "│" in line]
    assert logged[0] == ["stdout", "warming up"]
    assert len(logged) >= 3
    with pytest.raises(ContainerNotFoundError):
        await DockerRuntime(docker).inspect(name)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_run_ps_inspect_logs_stop_rm(
    docker: DockerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "ls-rt-cli-run"
    cli = on(docker)

    async def command(*argv: str) -> tuple[int, str, str]:
        code = await amain(list(argv), client_factory=cli)
        out, err = capsys.readouterr()
        return code, out, err

    nothing = f"lightshuttle-runtime: no container {name!r}: nothing to remove\n"
    # A leftover of an interrupted run is removed; usually there is nothing there.
    assert await command("rm", name) in {(0, f"{name}\n", ""), (0, "", nothing)}
    script = (
        'echo "A=$A"; echo oops >&2; touch /tmp/ok; trap "exit 0" TERM; while :; do sleep 0.1; done'
    )
    code, out, err = await command(
        "run",
        "--name",
        name,
        "--project",
        "ls-rt-cli",
        "--resource",
        "web",
        "-e",
        "A=1",
        "-p",
        "127.0.0.1::80",
        "--health-cmd",
        "test -f /tmp/ok",
        "--health-interval",
        "200ms",
        "busybox:local",
        "sh",
        "-c",
        script,
    )
    try:
        assert (code, err) == (0, "")
        container = out.strip()
        assert len(container) == 64

        code, out, err = await command("ps", "--project", "ls-rt-cli")
        header, *rows = out.splitlines()
        assert header.split() == [
            "CONTAINER",
            "ID",
            "NAME",
            "IMAGE",
            "PROJECT",
            "RESOURCE",
            "STATUS",
        ]
        ((short, shown_name, image, project, resource, *status),) = (row.split() for row in rows)
        assert (short, shown_name, project, resource) == (container[:12], name, "ls-rt-cli", "web")
        assert image.endswith("busybox:local")  # Podman: docker.io/library/busybox:local
        assert status[0] == "Up"
        assert (await command("ps", "--project", "ls-rt-cli-none"))[1].count("\n") == 1

        assert await command("inspect", name) == (0, "healthy\n", "")
        assert await command("logs", name) == (0, "A=1\n", "oops\n")
        code, out, err = await command("logs", "-t", name)
        assert out.endswith("Z A=1\n") and err.endswith("Z oops\n")

        assert await command("stop", "-t", "10", name) == (0, f"{name}\n", "")
        assert await command("inspect", name) == (0, "stopped (exit code 0)\n", "")
        assert await command("logs", "-f", name) == (0, "A=1\n", "oops\n")
        assert name in (await command("ps", "-a", "--project", "ls-rt-cli"))[1]
    finally:
        assert (await command("rm", name))[0] == 0
        await DockerRuntime(docker).teardown_project_network("ls-rt-cli")
    code, out, err = await command("inspect", name)
    assert (code, out) == (1, "")
    assert err == f"lightshuttle-runtime: error: no container '{name}'\n"


@pytest.mark.anyio
async def test_run_that_never_gets_healthy(
    docker: DockerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "ls-rt-cli-unhealthy"
    cli = on(docker)
    try:
        argv = ["run", "--name", name, "--health-cmd", "echo nope; exit 1"]
        argv += ["--health-interval", "200ms", "--health-retries", "1", "busybox:local"]
        argv += ["sleep", "60"]
        assert await amain(["rm", name], client_factory=cli) == 0
        capsys.readouterr()
        assert await amain(argv, client_factory=cli) == 1
        out, err = capsys.readouterr()
        assert out == ""
        (line,) = err.splitlines()
        assert "is unhealthy" in line and "printed 'nope'" in line
        assert line.endswith(f"`lightshuttle-runtime logs {name}` shows its output")
    finally:
        await DockerRuntime(docker).remove(name)


def test_version_with_docker_host(engine: Engine) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "DOCKER_HOST": engine.host}
    done = subprocess.run(
        [sys.executable, "-m", "lightshuttle_runtime", "version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines[0] == f"client:  lightshuttle-runtime {__version__} (API 1.41 to 1.55)"
    kind = "Podman Engine" if engine.is_podman else "Docker Engine"
    assert lines[1].startswith(f"engine:  {kind} ")
    assert lines[2] == f"API:     {negotiated(announced_api_version(engine.socket_path))}"
    assert lines[3] == f"host:    {engine.host} (from DOCKER_HOST)"


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("Docker/20.10.24+dfsg1 (linux)", "Docker Engine 20.10.24+dfsg1"),
        ("Libpod/4.3.1 (linux)", "Podman Engine 4.3.1"),
        ("Other/1.0", "Other 1.0"),
        ("", "an engine"),
        (None, "an engine"),
    ],
)
def test_engine_from_server_header(server: str | None, expected: str) -> None:
    assert engine_from_server(server) == expected


def test_replay_refuses_options_that_would_change_the_recording(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--replay", "--lines", "10", "--name", "other"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "--replay plays the recorded demo as it was recorded; --name, --lines" in line
    assert main(["demo", "--replay", "--host", "unix:///run/podman/podman.sock"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "--host cannot change it" in line


def test_replay_names_the_recorded_engine(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/podman/podman.sock")
    assert main(["demo", "--replay"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "at unix:///var/run/docker.sock" in first and "podman" not in first


@pytest.mark.anyio
async def test_demo_never_removes_a_container_it_did_not_make(
    docker: DockerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "ls-cli-not-the-demos"
    runtime = DockerRuntime(docker)
    await runtime.remove(name)
    spec = ContainerSpec(name=name, image="busybox:local", command=["sleep", "60"])
    await runtime.start(spec)
    try:
        assert await amain(["demo", "--name", name], client_factory=on(docker)) == 1
        assert f"a container named {name!r} already exists" in capsys.readouterr().err
        still_there = await docker.containers.inspect(name)
        assert still_there.state.status == "running"
    finally:
        await runtime.remove(name)


# -- paper cuts, on a scripted engine -------------------------------------------------------------


def recording(handler: Handler) -> tuple[ClientFactory, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def engine(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return handler(request)

    return scripted(engine), sent


def test_stop_and_rm_of_a_missing_container_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    for command, verb in (("stop", "stop"), ("rm", "remove")):
        assert main([command, "nope"], client_factory=scripted(not_found)) == 0
        out, err = capsys.readouterr()
        assert out == ""
        assert err == f"lightshuttle-runtime: no container 'nope': nothing to {verb}\n"


def test_hints_name_the_host_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    def engine(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/images/busybox:local/json"):
            return httpx.Response(200, json={"Id": "sha256:1"})
        if path.endswith("/containers/create"):
            return httpx.Response(201, json={"Id": CID})
        if path.endswith("/start"):
            return httpx.Response(204)
        if path.endswith("/events"):
            return httpx.Response(500, json={"message": "no events here"})
        state = {"Status": "exited", "ExitCode": 3}
        return httpx.Response(200, json={"Id": CID, "Name": "/web", "State": state})

    host = "unix:///run/podman/podman.sock"
    argv = ["run", "--host", host, "--name", "web", "busybox:local"]
    assert main(argv, client_factory=scripted(engine)) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(f"`lightshuttle-runtime logs --host {host} web` shows its output")


def test_an_invalid_host_address_is_refused_before_any_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    factory, sent = recording(not_found)
    argv = ["run", "--name", "web", "-p", "1.2.3:18084:80", "busybox:local"]
    assert main(argv, client_factory=factory) == 1
    assert capsys.readouterr().err == (
        "lightshuttle-runtime: error: host address '1.2.3' is not an IPv4 or IPv6 address\n"
    )
    assert sent == []


def test_ps_of_an_invalid_project_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    factory, sent = recording(not_found)
    assert main(["ps", "--project", "no such/project"], client_factory=factory) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "project 'no such/project' is not valid" in line
    assert sent == []


def test_logs_tail_and_since_reach_the_engine(capsys: pytest.CaptureFixture[str]) -> None:
    factory, sent = recording(logs_engine)
    argv = ["logs", "--tail", "2", "--since", "2026-11-30T09:33:00Z", "web"]
    assert main(argv, client_factory=factory) == 0
    query = dict(sent[-1].url.params)
    assert (query["tail"], query["since"]) == (
        "2",
        str(int(datetime(2026, 11, 30, 9, 33, tzinfo=UTC).timestamp())),
    )
    assert main(["logs", "--tail", "-1", "web"], client_factory=factory) == 1
    assert "--tail must not be negative" in capsys.readouterr().err


def test_inspect_format_json(capsys: pytest.CaptureFixture[str]) -> None:
    def engine(request: httpx.Request) -> httpx.Response:
        state = {"Status": "running", "StartedAt": "2026-11-30T09:33:27.5Z"}
        return httpx.Response(200, json={"Id": CID, "Path": "sh", "State": state})

    assert main(["inspect", "--format", "json", "web"], client_factory=scripted(engine)) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["Id"], shown["Path"]) == (CID, "sh")
    assert shown["State"]["StartedAt"] == "2026-11-30T09:33:27.500000Z"
    assert main(["inspect", "--format", "json", "nope"], client_factory=scripted(not_found)) == 1
    assert capsys.readouterr().err == "lightshuttle-runtime: error: no container 'nope'\n"


def test_down_removes_a_projects_containers_and_network(
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary = {
        "Id": CID,
        "Names": ["/shop-web"],
        "State": "running",
        "Labels": {"lightshuttle.project": "shop", "lightshuttle.resource": "web"},
    }
    network = {"Name": "lightshuttle-shop", "Id": "n1", "Labels": {"lightshuttle.project": "shop"}}

    def engine(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1.41/containers/json":
            return httpx.Response(200, json=[summary])
        if path == f"/v1.41/containers/{CID}/json":
            return httpx.Response(200, json={"Id": CID, "Name": "/shop-web"})
        if path == "/v1.41/networks":
            return httpx.Response(200, json=[network])
        if request.method == "DELETE":
            return httpx.Response(204)
        return httpx.Response(500, json={"message": f"unexpected {path}"})

    factory, sent = recording(engine)
    assert main(["down", "--project", "shop"], client_factory=factory) == 0
    assert capsys.readouterr().out == "shop-web\n"
    deleted = [r.url.path for r in sent if r.method == "DELETE"]
    assert deleted == [f"/v1.41/containers/{CID}", "/v1.41/networks/lightshuttle-shop"]


@pytest.mark.anyio
async def test_run_volume_logs_tail_inspect_json_and_down(
    docker: DockerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    name, project = "ls-t-cli-down", "ls-t-cli"
    cli = on(docker)

    async def command(*argv: str) -> tuple[int, str, str]:
        code = await amain(list(argv), client_factory=cli)
        out, err = capsys.readouterr()
        return code, out, err

    await command("down", "--project", project)
    script = (
        "echo one; echo two; echo three > /data/x; trap 'exit 0' TERM; while :; do sleep 0.1; done"
    )
    argv = ["run", "--name", name, "--project", project, "-v", "/data", "busybox:local"]
    code, out, err = await command(*argv, "sh", "-c", script)
    try:
        assert (code, err) == (0, "")
        assert await command("logs", "--tail", "1", name) == (0, "two\n", "")
        code, out, err = await command("inspect", "--format", "json", name)
        assert (code, err) == (0, "")
        shown = json.loads(out)
        assert (
            shown["Name"] == f"/{name}"
            and shown["Config"]["Labels"]["lightshuttle.project"] == project
        )
        (mount,) = shown["Mounts"]
        assert (mount["Type"], mount["Destination"]) == ("volume", "/data")
    finally:
        code, out, err = await command("down", "--project", project)
    assert (code, out, err) == (0, f"{name}\n", "")
    assert await command("stop", name) == (
        0,
        "",
        f"lightshuttle-runtime: no container {name!r}: nothing to stop\n",
    )
    code, out, err = await command("down", "--project", project)
    assert (code, out) == (0, "")
    assert err == f"lightshuttle-runtime: project {project!r} has no containers\n"


# -- context: which engine, and why ------------------------------------------------------------


def pinged(request: httpx.Request) -> httpx.Response:
    assert request.url.path == "/_ping"
    return httpx.Response(200, text="OK", headers={"Api-Version": "1.41", "Server": "Docker/20.10"})


def test_context_shows_the_engine_and_why(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT", "CONTAINER_HOST", "DOCKER_TLS_VERIFY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    digest = hashlib.sha256(b"remote").hexdigest()
    meta = tmp_path / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps({"Name": "remote", "Endpoints": {"docker": {"Host": "tcp://10.0.0.1:2376"}}})
    )
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "remote"}))
    assert main(["context"], client_factory=scripted(pinged)) == 0
    out = capsys.readouterr().out
    assert "tcp://10.0.0.1:2376" in out
    assert "context: remote" in out
    assert "currentContext" in out and str(tmp_path / "config.json") in out
    assert "Docker Engine 20.10 answers GET /_ping" in out


def test_context_of_an_unknown_context_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert main(["context", "--context", "nope"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "'nope'" in line and str(tmp_path / "contexts" / "meta") in line


def test_context_and_host_together_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--context", "x", "--host", "unix:///x.sock", "ps"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "conflicting" in line


def test_context_of_an_engine_that_does_not_answer_fails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["context", "--host", "unix:///x.sock"], client_factory=scripted(refused)) == 1
    captured = capsys.readouterr()
    assert "unix:///x.sock" in captured.out
    assert "cannot reach the engine" in captured.err


def test_follow_ups_carry_the_context() -> None:
    args = argparse.Namespace(host=None, context="remote")
    assert follow_up(args, "logs", "web") == "`lightshuttle-runtime logs --context remote web`"

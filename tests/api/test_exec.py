"""Exec: create, start, inspect and run, on Docker and Podman."""

from __future__ import annotations

import contextlib

import anyio
import pytest

from lightshuttle_runtime import ConflictError, DockerClient, InvalidArgumentError, NotFoundError
from lightshuttle_runtime.api import ExecResult
from lightshuttle_runtime.models import ContainerCreateRequest, ExecConfig, ExecInspect
from tests.conftest import Engine

pytestmark = pytest.mark.anyio

NAME = "ls-br-exec"


async def test_run_collects_exit_code_and_separate_outputs(
    docker: DockerClient, running: str
) -> None:
    with anyio.fail_after(30):
        result = await docker.exec.run(
            running, ["sh", "-c", "printf out; printf err >&2; printf more; exit 3"]
        )
    assert result == ExecResult(exit_code=3, stdout=b"outmore", stderr=b"err")


async def test_run_with_env_working_dir_and_user(docker: DockerClient, running: str) -> None:
    with anyio.fail_after(30):
        result = await docker.exec.run(
            running,
            ["sh", "-c", 'echo "$GREETING"; pwd; id -u'],
            env={"GREETING": "hello there"},
            working_dir="/tmp",
            user="65534",
        )
    assert result.exit_code == 0
    assert result.stdout == b"hello there\n/tmp\n65534\n"
    assert result.stderr == b""


async def test_run_with_tty_merges_output_into_stdout(docker: DockerClient, running: str) -> None:
    with anyio.fail_after(30):
        result = await docker.exec.run(running, ["sh", "-c", "echo out; echo err >&2"], tty=True)
    assert result.exit_code == 0
    # A TTY turns "\n" into "\r\n" and carries both outputs on one stream.
    assert result.stdout == b"out\r\nerr\r\n"
    assert result.stderr == b""


async def test_binary_output_is_kept_byte_for_byte(docker: DockerClient, running: str) -> None:
    with anyio.fail_after(30):
        result = await docker.exec.run(running, ["sh", "-c", r"printf '\000\377\001\n'"])
    assert result.stdout == b"\x00\xff\x01\n"


async def test_create_start_inspect_step_by_step(docker: DockerClient, running: str) -> None:
    exec_id = await docker.exec.create(running, ["sh", "-c", "echo step; exit 5"])
    before = await docker.exec.inspect(exec_id)
    assert before.id == exec_id
    assert before.container_id == running
    assert before.running is False
    assert before.process_config is not None
    assert before.process_config.entrypoint == "sh"
    assert before.process_config.arguments == ["-c", "echo step; exit 5"]
    frames = []
    with anyio.fail_after(30):
        async with docker.exec.start(exec_id) as stream:
            frames = [frame async for frame in stream]
    assert [(frame.stream, frame.data) for frame in frames] == [(1, b"step\n")]
    after = await docker.exec.inspect(exec_id)
    assert after.running is False
    assert after.exit_code == 5


async def test_start_detached_then_inspect(
    docker: DockerClient, running: str, engine: Engine
) -> None:
    exec_id = await docker.exec.create(running, ["sh", "-c", "exit 4"])
    await docker.exec.start_detached(exec_id)
    info = await docker.exec.inspect(exec_id)
    if engine.is_podman:
        # Podman 4.3's compat API never records the end of a detached exec here: it keeps
        # answering Running=true, ExitCode=0 (with the process's pid) after the process exited.
        assert info.running is True
        assert info.exit_code == 0
        assert info.pid
        return
    with anyio.fail_after(30):
        while info.running:
            await anyio.sleep(0.05)
            info = await docker.exec.inspect(exec_id)
    assert info.exit_code == 4


async def test_missing_container_and_exec(docker: DockerClient) -> None:
    with pytest.raises(NotFoundError):
        await docker.exec.create("ls-br-exec-missing", ["true"])
    with pytest.raises(NotFoundError):
        await docker.exec.inspect("0123456789abcdef")
    with pytest.raises(NotFoundError):
        async with docker.exec.start("0123456789abcdef") as stream:
            async for _frame in stream:
                pass


async def test_exec_in_a_stopped_container_is_a_conflict(
    docker: DockerClient, engine: Engine
) -> None:
    with contextlib.suppress(NotFoundError):
        await docker.containers.remove(NAME, force=True)
    created = await docker.containers.create(
        ContainerCreateRequest(image="busybox:local", cmd=["true"]), name=NAME
    )
    try:
        with pytest.raises(ConflictError) as caught:
            await docker.exec.create(created.id, ["true"])
    finally:
        await docker.containers.remove(created.id, force=True)
    # Docker: 409 "Container … is not running"; Podman: 500 "can only create exec sessions
    # on running containers: container state improper", mapped to ConflictError as well.
    assert caught.value.status == (500 if engine.is_podman else 409)


@pytest.mark.parametrize("cmd", [[], "echo hi", ["echo", 1]], ids=["empty", "string", "non-string"])
async def test_bad_cmd_is_refused_before_sending(offline: DockerClient, cmd: object) -> None:
    with pytest.raises(InvalidArgumentError, match="cmd"):
        await offline.exec.create("anything", cmd)  # type: ignore[arg-type]


async def test_bad_env_key_is_refused_before_sending(offline: DockerClient) -> None:
    with pytest.raises(InvalidArgumentError, match="env key"):
        await offline.exec.create("anything", ["true"], env={"A=B": "c"})


async def test_a_session_raises_create_errors_on_entering_or_awaiting(
    offline: DockerClient,
) -> None:
    pending = offline.exec.session("anything", [])  # nothing is sent until it is used
    with pytest.raises(InvalidArgumentError, match="cmd"):
        async with pending:
            pytest.fail("the block must not run")
    with pytest.raises(InvalidArgumentError, match="cmd"):
        await offline.exec.session("anything", [])


def test_exec_config_encodes_api_names() -> None:
    import msgspec

    body = msgspec.json.decode(
        msgspec.json.encode(
            ExecConfig(cmd=["ls"], attach_stdout=True, env=["A=1"], working_dir="/", user="1")
        )
    )
    assert body == {
        "Cmd": ["ls"],
        "AttachStdout": True,
        "Env": ["A=1"],
        "User": "1",
        "WorkingDir": "/",
    }


def test_exec_inspect_decodes_both_engines() -> None:
    import msgspec

    docker_answer = (
        b'{"ID":"52db","Running":false,"ExitCode":3,"ProcessConfig":{"tty":false,'
        b'"entrypoint":"sh","arguments":["-c","exit 3"],"privileged":false},"OpenStdin":false,'
        b'"OpenStderr":true,"OpenStdout":true,"CanRemove":false,"ContainerID":"c405",'
        b'"DetachKeys":"","Pid":15798}'
    )
    podman_answer = (
        b'{"CanRemove":true,"ContainerID":"6c78","DetachKeys":"","ExitCode":3,"ID":"95da",'
        b'"OpenStderr":true,"OpenStdin":false,"OpenStdout":true,"Running":false,"Pid":0,'
        b'"ProcessConfig":{"arguments":["-c","exit 3"],"entrypoint":"sh","privileged":false,'
        b'"tty":false,"user":""}}'
    )
    for raw in (docker_answer, podman_answer):
        info = msgspec.json.decode(raw, type=ExecInspect)
        assert info.exit_code == 3 and info.running is False
        assert info.process_config is not None
        assert info.process_config.arguments == ["-c", "exit 3"]

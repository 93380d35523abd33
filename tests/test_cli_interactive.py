"""``exec`` and ``attach`` on the command line: stdin piped through, exit statuses, and an
interactive ``exec -it`` and ``attach`` driven through tmux as a person would (raw mode,
resize on SIGWINCH, the detach keys)."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, nullcontext
from pathlib import Path

import anyio
import pytest

from lightshuttle_runtime import DockerClient
from lightshuttle_runtime._cli import ClientFactory, amain

from .api.test_interactive import container
from .conftest import Engine

SRC = Path(__file__).resolve().parents[1] / "src"


def on(docker: DockerClient) -> ClientFactory:
    def factory(host: str | None) -> AbstractAsyncContextManager[DockerClient]:
        return nullcontext(docker)

    return factory


@pytest.fixture
def stdin_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Callable[[bytes], None]]:
    """Make the CLI's stdin a file holding the given bytes."""
    with contextlib.ExitStack() as files:

        def give(data: bytes) -> None:
            path = tmp_path / "stdin"
            path.write_bytes(data)
            monkeypatch.setattr(sys, "stdin", files.enter_context(path.open("rb")))

        yield give


@pytest.mark.anyio
async def test_exec_pipes_stdin_and_exits_with_the_commands_status(
    docker: DockerClient,
    stdin_from: Callable[[bytes], None],
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    stdin_from(b"first\nsecond\n")
    async with container(docker, ["sleep", "600"]) as ident:
        code = await amain(
            ["exec", "-i", ident, "sh", "-c", "cat; echo done >&2; exit 3"],
            client_factory=on(docker),
        )
    out, err = capsysbinary.readouterr()
    assert (code, out, err) == (3, b"first\nsecond\n", b"done\n")


@pytest.mark.anyio
async def test_exec_without_i_sends_no_stdin(
    docker: DockerClient,
    stdin_from: Callable[[bytes], None],
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    stdin_from(b"never read\n")
    async with container(docker, ["sleep", "600"]) as ident:
        code = await amain(
            ["exec", "-e", "GREETING=hi there", ident, "sh", "-c", 'echo "$GREETING"; cat'],
            client_factory=on(docker),
        )
    out, _err = capsysbinary.readouterr()
    assert (code, out) == (0, b"hi there\n")


@pytest.mark.anyio
async def test_attach_pipes_stdin_to_a_stdin_once_container(
    docker: DockerClient,
    stdin_from: Callable[[bytes], None],
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    stdin_from(b"to the main process\n")
    async with container(
        docker, ["sh", "-c", "cat; exit 4"], open_stdin=True, stdin_once=True, attach_stdin=True
    ) as ident:
        code = await amain(["attach", ident], client_factory=on(docker))
    out, _err = capsysbinary.readouterr()
    assert (code, out) == (4, b"to the main process\n")


def test_exec_needs_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    code = anyio.run(amain, ["--host", "unix:///nonexistent/ls.sock", "exec", "web"])
    _out, err = capsys.readouterr()
    assert code == 1
    assert err.count("\n") == 1 and "needs a command" in err


# -- through a terminal (tmux), live only ----------------------------------------------------


class Pane:
    """A tmux session running one command in a terminal of a known size."""

    def __init__(self, command: list[str], width: int = 80, height: int = 24) -> None:
        self.name = f"ls-tmux-{os.getpid()}-{time.monotonic_ns()}"
        env = f"PYTHONPATH={shlex.quote(str(SRC))}"
        self._tmux(
            "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
            f"env {env} {shlex.join(command)}; echo EXIT=$?; sleep 600",
        )  # fmt: skip

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", *args], check=True, capture_output=True, text=True, timeout=10
        ).stdout

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.name, *keys)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen()}")

    def wait_until_shown(self, text: str, retype: tuple[str, ...], attempts: int = 10) -> None:
        """Type ``retype`` until ``text`` shows (what a person does after resizing)."""
        for _ in range(attempts):
            self.keys(*retype)
            with contextlib.suppress(AssertionError):
                self.wait_for(text, timeout=1.0)
                return
        self.wait_for(text, timeout=0)

    def resize(self, width: int, height: int) -> None:
        self._tmux("resize-window", "-t", self.name, "-x", str(width), "-y", str(height))

    def kill(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self._tmux("kill-session", "-t", self.name)


@pytest.fixture
def pane() -> Iterator[Callable[[list[str]], Pane]]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    made: list[Pane] = []

    def make(command: list[str]) -> Pane:
        made.append(Pane(command))
        return made[-1]

    yield make
    for each in made:
        each.kill()


def cli(engine: Engine, *args: str) -> list[str]:
    return [sys.executable, "-m", "lightshuttle_runtime", "--host", engine.host, *args]


# The CLI runs as its own process: the test's event loop does not matter.
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_exec_it_sh_in_a_terminal(engine: Engine, pane: Callable[[list[str]], Pane]) -> None:
    async with DockerClient(engine.host) as docker, container(docker, ["sleep", "600"]) as ident:
        term = pane(cli(engine, "exec", "-it", ident, "sh"))
        term.wait_for("/ #")
        term.keys("echo sum-$((40+2))", "Enter")  # typed: raw mode, the TTY echoes
        term.wait_for("sum-42")
        # The size is sent right after the start (as the Docker CLI does): soon, not at once.
        term.wait_until_shown("24 80", retype=("clear; stty size", "Enter"))
        term.resize(100, 30)  # SIGWINCH: the new size reaches the process's TTY, soon
        term.wait_until_shown("30 100", retype=("clear; stty size", "Enter"))
        term.keys("exit 5", "Enter")
        term.wait_for("EXIT=5")


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_attach_in_a_terminal_then_the_detach_keys(
    engine: Engine, pane: Callable[[list[str]], Pane]
) -> None:
    async with (
        DockerClient(engine.host) as docker,
        container(docker, ["sh"], open_stdin=True, tty=True, attach_stdin=True) as ident,
    ):
        term = pane(cli(engine, "attach", "--detach-keys", "ctrl-x,x", ident))
        time.sleep(0.5)
        term.keys("echo attached-$((6*7))", "Enter")
        term.wait_for("attached-42")
        term.keys("C-x", "x")
        if engine.is_podman:
            # Podman 4.3's compat attach ignores detachKeys: the keys reach the shell, and the
            # session ends only with the process.
            term.keys("C-u", "exit 2", "Enter")
            term.wait_for("EXIT=2")
        else:
            screen = term.wait_for("EXIT=0")
            assert "detached" in screen
            assert (await docker.containers.inspect(ident)).state.running

"""``lightshuttle-runtime exec`` and ``attach``: a process's stdin and output on this terminal.

stdin is pumped to the session (``-i``; for ``attach`` unless ``--no-stdin``) and its end
half-closes the connection, so ``echo hi | lightshuttle-runtime exec -i web cat`` ends. With
``-t`` on a terminal, the terminal is put in raw mode for the session (restored afterwards),
its size is sent at the start and again on every ``SIGWINCH``, and the engine's detach keys
(``--detach-keys``, default ``ctrl-p,ctrl-q``) end an attach while the container runs on.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import stat
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Final

import anyio
import anyio.lowlevel

from ._errors import InvalidArgumentError, StreamInterruptedError

if TYPE_CHECKING:
    from ._cli import Console
    from ._client import DockerClient
    from ._interactive import InteractiveSession

__all__ = ["add_attach_arguments", "add_exec_arguments", "cmd_attach", "cmd_exec"]

_READ_SIZE: Final = 64 * 1024
#: How long after the output ends the container may take to be seen stopped (seconds).
_EXIT_GRACE: Final = 2.0
_EXIT_POLL: Final = 0.05
_DETACH_HELP: Final = (
    "keys that detach, the engine's syntax: ctrl-<letter>, a letter, comma-separated "
    "(default ctrl-p,ctrl-q)"
)


def add_exec_arguments(
    parser: argparse.ArgumentParser, env_pair: Callable[[str], tuple[str, str]]
) -> None:
    parser.add_argument(
        "-i", "--interactive", action="store_true", help="pipe this program's stdin to the process"
    )
    parser.add_argument("-t", "--tty", action="store_true", help="give the process a terminal")
    parser.add_argument(
        "-e",
        "--env",
        action="append",
        type=env_pair,
        default=[],
        metavar="KEY=VALUE",
        help="an environment variable (repeatable)",
    )
    parser.add_argument("-w", "--workdir", help="the working directory inside the container")
    parser.add_argument("-u", "--user", help="user[:group] to run as")
    parser.add_argument("--detach-keys", metavar="KEYS", help=_DETACH_HELP)
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, metavar="CMD")


def add_attach_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-stdin", action="store_true", help="do not pipe this program's stdin to it"
    )
    parser.add_argument("--detach-keys", metavar="KEYS", help=_DETACH_HELP)
    parser.add_argument("name", metavar="NAME")


async def cmd_exec(args: argparse.Namespace, docker: DockerClient, _console: Console) -> int:
    """Run ``CMD`` in container ``NAME``; the exit status is the process's."""
    if not args.cmd:
        raise InvalidArgumentError("exec needs a command to run after the container: NAME CMD...")
    env = dict(args.env)
    session = await docker.exec.session(
        args.name,
        args.cmd,
        stdin=args.interactive,
        tty=args.tty,
        env=env or None,
        working_dir=args.workdir,
        user=args.user,
        detach_keys=args.detach_keys,
    )
    async with session:
        await _drive(session, stdin=args.interactive)
        code = await session.exit_code()
    return code if code is not None else 0


async def cmd_attach(args: argparse.Namespace, docker: DockerClient, _console: Console) -> int:
    """Attach to ``NAME``'s main process; the exit status is its exit code, or 0 after a
    detach (the container still runs)."""
    stdin = not args.no_stdin
    async with docker.containers.attach(
        args.name, stdin=stdin, detach_keys=args.detach_keys
    ) as session:
        await _drive(session, stdin=stdin)
    # The output also ends when the process exits; the state may say so a moment later
    # (inspect, not wait: Podman's wait answers up to a second late even for a stopped one).
    with anyio.move_on_after(_EXIT_GRACE):
        while (state := (await docker.containers.inspect(args.name)).state).running:
            await anyio.sleep(_EXIT_POLL)
        return state.exit_code or 0
    print("\r\ndetached: the container is still running", file=sys.stderr)
    return 0


async def _drive(session: InteractiveSession, *, stdin: bool) -> None:
    """Pump stdin to the session and its output to stdout/stderr until the output ends."""
    terminal = session.tty and sys.stdin.isatty()
    with _raw_terminal(sys.stdin.fileno()) if terminal else contextlib.nullcontext():
        async with anyio.create_task_group() as group:
            if stdin:
                group.start_soon(_pump_stdin, session)
            if terminal:
                group.start_soon(_follow_terminal_size, session)
            await _copy_output(session)
            group.cancel_scope.cancel()


async def _copy_output(session: InteractiveSession) -> None:
    out, err = sys.stdout.buffer, sys.stderr.buffer
    while frames := await session.receive_frames():
        for frame in frames:
            target = err if frame.stream == 2 else out
            target.write(frame.data)
        out.flush()
        err.flush()


async def _pump_stdin(session: InteractiveSession) -> None:
    """Send stdin to the session as it comes; at its end, half-close (end of input)."""
    fd = sys.stdin.fileno()
    # A regular file (``< dump.sql``) is always readable; select/epoll refuse to wait on it.
    waits = not stat.S_ISREG(os.fstat(fd).st_mode)
    while True:
        if waits:
            await anyio.wait_readable(fd)
        else:
            await anyio.lowlevel.checkpoint()
        data = os.read(fd, _READ_SIZE)
        if not data:
            break
        try:
            await session.send(data)
        except StreamInterruptedError:
            return  # the process exited without reading it all, like a broken pipe
    await session.close_stdin()


async def _follow_terminal_size(session: InteractiveSession) -> None:
    """Send the terminal's size now and after every ``SIGWINCH``."""
    with anyio.open_signal_receiver(signal.SIGWINCH) as changes:
        await _send_size(session)
        async for _ in changes:
            await _send_size(session)


async def _send_size(session: InteractiveSession) -> None:
    size = os.get_terminal_size(sys.stdout.fileno() if sys.stdout.isatty() else 0)
    if size.lines and size.columns:
        await session.resize(size.lines, size.columns)


@contextlib.contextmanager
def _raw_terminal(fd: int) -> Iterator[None]:
    """The terminal in raw mode (keys go to the process as typed), restored on the way out."""
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSADRAIN)  # not the default TCSAFLUSH: keep typed-ahead keys
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)

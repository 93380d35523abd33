"""Reaching an ``ssh://`` engine through the system's ``ssh`` binary (no Python dependency).

Two ways, as the Docker CLI and Podman do it:

- **dial-stdio** (the Docker CLI's): one ``ssh ... -- host docker system dial-stdio`` process
  per connection, its stdin and stdout the connection (with a URL path:
  ``docker --host=unix://PATH system dial-stdio``);
- **forwarding** (for Podman hosts, which have no ``docker`` binary): one
  ``ssh -N -L LOCAL.sock:REMOTE.sock`` process per client, forwarding a private local socket
  to the remote engine socket named by the URL's path; connections are then made to the local
  socket by either built-in transport.

ssh never prompts and never accepts a host key it does not know (``BatchMode=yes``,
``StrictHostKeyChecking=yes``); what it printed on stderr ends every error.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import tempfile
from collections.abc import Callable, Sequence
from typing import IO

import anyio
import anyio.abc
import httpx

__all__ = [
    "STDERR_TAIL",
    "SSHConnector",
    "SSHFailure",
    "SSHForwardTransport",
    "classify_ssh_failure",
    "dial_stdio_command",
    "forward_command",
    "ssh_binary",
]

#: How much of ssh's stderr an error quotes.
STDERR_TAIL = 2000


class SSHFailure(OSError):
    """ssh could not give a connection (internal: the session turns it into
    :class:`EngineSSHError`). An ``OSError``, as the connector contract asks.

    Attributes:
        reason: see :class:`EngineSSHError`.
        stderr: the tail of what ssh printed.
        command: the command line run.
        returncode: ssh's exit status, when it exited.
    """

    def __init__(
        self, reason: str, stderr: str, command: str, returncode: int | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stderr = stderr
        self.command = command
        self.returncode = returncode

    def __str__(self) -> str:
        return f"{self.reason}: {self.stderr.strip() or f'ssh exited with {self.returncode}'}"


def _base(
    host: str, user: str | None, port: int | None, connect_timeout: float | None
) -> list[str]:
    args = ["ssh"]
    if user:
        args += ["-l", user]
    if port is not None:
        args += ["-p", str(port)]
    timeout = max(1, round(connect_timeout)) if connect_timeout else 30
    args += [
        "-o",
        f"ConnectTimeout={timeout}",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
    ]
    return args


def dial_stdio_command(
    host: str,
    *,
    user: str | None = None,
    port: int | None = None,
    path: str | None = None,
    connect_timeout: float | None = None,
    options: Sequence[str] = (),
) -> list[str]:
    """``ssh [-l user] [-p port] -o ConnectTimeout=N -o BatchMode=yes
    -o StrictHostKeyChecking=yes [options] -T -- host docker [--host=unix://PATH] system
    dial-stdio``."""
    remote = ["docker"]
    if path:
        remote.append(f"--host=unix://{path}")
    remote += ["system", "dial-stdio"]
    return [
        *_base(host, user, port, connect_timeout),
        *options,
        "-T",
        "--",
        host,
        shlex.join(remote),
    ]


def forward_command(
    host: str,
    local: str,
    remote: str,
    *,
    user: str | None = None,
    port: int | None = None,
    connect_timeout: float | None = None,
    options: Sequence[str] = (),
) -> list[str]:
    """``ssh ... -o ExitOnForwardFailure=yes -N -T -L LOCAL:REMOTE -- host``: forwards the
    local socket ``local`` to the remote socket ``remote``."""
    return [
        *_base(host, user, port, connect_timeout),
        "-o",
        "ExitOnForwardFailure=yes",
        "-o",
        "StreamLocalBindUnlink=yes",
        *options,
        "-N",
        "-T",
        "-L",
        f"{local}:{remote}",
        "--",
        host,
    ]


def classify_ssh_failure(stderr: str, returncode: int | None) -> str:
    """The reason for ssh's failure, from what it printed and its exit status (OpenSSH's
    wording): ``"host-key-unknown"``, ``"host-key-changed"``, ``"auth-refused"``,
    ``"refused"``, ``"unreachable"``, ``"timeout"``, ``"no-docker"``, ``"no-socket"``,
    ``"forward-failed"`` or ``"exited"``."""
    text = stderr.lower()
    if "dial unix" in text:  # the remote docker CLI's own connect to the engine socket failed
        return "no-socket"
    if "remote host identification has changed" in text:
        return "host-key-changed"
    if "host key verification failed" in text or "host key is known" in text:
        return "host-key-unknown"
    if "permission denied" in text and returncode == 255:
        return "auth-refused"
    if "connection refused" in text:
        return "refused"
    if "could not resolve hostname" in text or "no route to host" in text:
        return "unreachable"
    if "network is unreachable" in text:
        return "unreachable"
    if "timed out" in text:
        return "timeout"
    if returncode == 127 or "command not found" in text or "docker: not found" in text:
        return "no-docker"
    if "forwarding failed" in text or "cannot listen" in text or "open failed" in text:
        return "forward-failed"
    return "exited"


async def _stop(process: anyio.abc.Process) -> None:
    """Terminate ``process`` if it still runs, kill it after 2 s, and reap it."""
    if process.returncode is None:
        process.terminate()
        with anyio.move_on_after(2):
            await process.wait()
    if process.returncode is None:
        process.kill()
        await process.wait()


def _tail(data: bytes) -> str:
    return data[-STDERR_TAIL:].decode("utf-8", "replace")


def ssh_binary() -> str:
    """The ``ssh`` on ``PATH``.

    Raises:
        SSHFailure: reason ``"ssh-missing"``.
    """
    found = shutil.which("ssh")
    if found is None:
        raise SSHFailure("ssh-missing", "", "ssh")
    return found


class SSHForwardTransport(httpx.AsyncBaseTransport):
    """A transport to a remote engine socket through one ``ssh -L`` forwarding process.

    The process starts with the first request (and again after it ended); requests go to the
    private local socket it listens on, through ``inner(path)`` (a Unix socket transport).
    :meth:`aclose` ends the process.

    Args:
        inner: makes the transport to the local socket path.
        command: given the local socket path, the ssh command line
            (:func:`forward_command`).
        start_timeout: seconds to wait for the local socket to appear.
    """

    def __init__(
        self,
        inner: Callable[[str], httpx.AsyncBaseTransport],
        command: Callable[[str], list[str]],
        *,
        start_timeout: float = 30.0,
    ) -> None:
        self._make_inner = inner
        self._command = command
        self._start_timeout = start_timeout
        self._lock = anyio.Lock()
        self._process: anyio.abc.Process | None = None
        self._inner: httpx.AsyncBaseTransport | None = None
        self._directory: str | None = None
        self._closed = False
        self._stderr = b""
        self._line = ""

    @property
    def process(self) -> anyio.abc.Process | None:
        """The running ssh process, if any."""
        return self._process

    async def _ensure(self, request: httpx.Request) -> httpx.AsyncBaseTransport:
        async with self._lock:
            if self._closed:
                raise httpx.ConnectError("the transport is closed", request=request)
            if self._process is not None and self._process.returncode is None:
                assert self._inner is not None
                return self._inner
            await self._stop()
            try:
                return await self._start()
            except SSHFailure as failure:
                raise httpx.ConnectError(str(failure), request=request) from failure

    async def _start(self) -> httpx.AsyncBaseTransport:
        ssh_binary()
        self._directory = tempfile.mkdtemp(prefix="lightshuttle-ssh-")
        local = os.path.join(self._directory, "engine.sock")
        command = self._command(local)
        line = self._line = shlex.join(command)
        self._stderr = b""
        try:
            process = await anyio.open_process(
                command, stdin=None, stdout=None, stderr=-1, start_new_session=True
            )
        except FileNotFoundError as exc:
            raise SSHFailure("ssh-missing", str(exc), line) from exc
        self._process = process
        with anyio.move_on_after(self._start_timeout) as scope:
            while not os.path.exists(local):
                if process.returncode is not None:
                    break
                await anyio.sleep(0.02)
        if os.path.exists(local):
            inner = self._make_inner(local)
            self._inner = inner
            return inner
        stderr = await self._end_process()
        reason = classify_ssh_failure(stderr, process.returncode)
        if scope.cancelled_caught and reason == "exited":
            reason = "timeout"
        raise SSHFailure(reason, stderr, line, process.returncode)

    async def _end_process(self) -> str:
        """End the ssh process (terminate, then kill) and return its stderr's tail."""
        process, self._process = self._process, None
        if process is None:
            return ""
        with anyio.CancelScope(shield=True):
            await _stop(process)
            data, self._stderr = self._stderr, b""
            if process.stderr is not None:
                with anyio.move_on_after(1):
                    try:
                        async for chunk in process.stderr:
                            data += chunk
                    except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                        pass
            await process.aclose()
        return _tail(data)

    async def _stop(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()
        await self._end_process()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        inner = await self._ensure(request)
        try:
            return await inner.handle_async_request(request)
        except httpx.TransportError:
            # ssh keeps running when the remote socket cannot be opened: it says so on stderr
            # ("open failed") and resets the local connection.
            said = await self._stderr_so_far()
            if "open failed" in said or "connect failed" in said:
                failure = SSHFailure("forward-failed", said, self._line)
                raise httpx.ConnectError(str(failure), request=request) from failure
            raise

    async def _stderr_so_far(self) -> str:
        """What ssh has printed since it started (read for at most 0.2 s more)."""
        process = self._process
        if process is not None and process.stderr is not None:
            with anyio.move_on_after(0.2):
                try:
                    while True:
                        self._stderr = (self._stderr + await process.stderr.receive())[
                            -STDERR_TAIL:
                        ]
                except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
                    pass
        return _tail(self._stderr)

    async def aclose(self) -> None:
        self._closed = True
        with anyio.CancelScope(shield=True):
            await self._stop()


class SSHConnector:
    """The connector to an ``ssh://`` engine by ``docker system dial-stdio``: one ssh process
    per connection, ended with it; the native transport's connector, and through
    :class:`~._ssh_httpx.DialStdioBackend` httpx's transport's too.

    ssh's failures (host key, authentication, no ``docker`` on the remote PATH...) show when
    its process ends before any byte of an answer: the read then fails with
    :class:`SSHFailure` (reason and stderr's tail) as the cause.

    Args:
        command: the command line (:func:`dial_stdio_command`).
        address: the engine address, for messages.
    """

    def __init__(self, command: Sequence[str], address: str) -> None:
        self.command = list(command)
        self.line = shlex.join(self.command)
        self._address = address
        #: The ssh processes of open connections (for tests: none may outlive its connection).
        self.processes: set[anyio.abc.Process] = set()

    @property
    def address(self) -> str:
        return self._address

    def __repr__(self) -> str:
        return f"SSHConnector({self._address!r})"

    async def connect(self) -> anyio.abc.ByteStream:
        """Start one ``ssh ... docker system dial-stdio``.

        Raises:
            SSHFailure: no ``ssh`` binary (``ssh-missing``), or it could not start.
        """
        ssh_binary()
        errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the connection
        try:
            process = await anyio.open_process(
                self.command, stdin=-1, stdout=-1, stderr=errors, start_new_session=True
            )
        except BaseException as exc:
            errors.close()
            if isinstance(exc, OSError):
                raise SSHFailure("ssh-missing", str(exc), self.line) from exc
            raise
        self.processes.add(process)
        return _ProcessStream(self, process, errors)


class _ProcessStream(anyio.abc.ByteStream):
    """One dial-stdio ssh process as a byte stream: its stdin and stdout are the connection."""

    def __init__(
        self, connector: SSHConnector, process: anyio.abc.Process, errors: IO[bytes]
    ) -> None:
        assert process.stdin is not None and process.stdout is not None
        self._connector = connector
        self._process = process
        self._stdin = process.stdin
        self._stdout = process.stdout
        self._errors = errors
        self._received = False
        self._closed = False

    def is_alive(self) -> bool:
        """Whether ssh still runs (an idle connection whose ssh ended is replaced)."""
        return not self._closed and self._process.returncode is None

    def abort(self) -> None:
        """Wake a task reading the connection (the client is closing): end ssh now, which
        ends its stdout; :meth:`aclose` then reaps it."""
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()

    async def _failure(self) -> SSHFailure | None:
        """ssh's failure when it ended (or ends within 2 s) with an error, before any answer."""
        with anyio.move_on_after(2):
            await self._process.wait()
        code = self._process.returncode
        if code is None or code == 0:
            return None
        self._errors.seek(0)
        stderr = _tail(self._errors.read())
        return SSHFailure(classify_ssh_failure(stderr, code), stderr, self._connector.line, code)

    async def receive(self, max_bytes: int = 65536) -> bytes:
        try:
            data = await self._stdout.receive(max_bytes)
        except (anyio.EndOfStream, anyio.BrokenResourceError) as exc:
            if not self._received:
                failure = await self._failure()
                if failure is not None:
                    raise anyio.BrokenResourceError(str(failure)) from failure
            if isinstance(exc, anyio.EndOfStream):
                raise
            raise
        self._received = True
        return data

    async def send(self, item: bytes) -> None:
        try:
            await self._stdin.send(item)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            failure = await self._failure()
            if failure is not None:
                raise anyio.BrokenResourceError(str(failure)) from failure
            raise anyio.BrokenResourceError(str(exc)) from exc

    async def send_eof(self) -> None:
        await self._stdin.aclose()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        process = self._process
        with anyio.CancelScope(shield=True):
            # EOF on ssh's stdin ends dial-stdio, then ssh; stop it if it lingers.
            await self._stdin.aclose()
            with anyio.move_on_after(1):
                await process.wait()
            await _stop(process)
            await process.aclose()
            self._errors.close()
            self._connector.processes.discard(process)

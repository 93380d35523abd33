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

import os
import shlex
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import anyio
import anyio.abc
import httpx

__all__ = [
    "STDERR_TAIL",
    "SSHFailure",
    "SSHForwardTransport",
    "classify_ssh_failure",
    "dial_stdio_command",
    "forward_command",
    "ssh_binary",
]

#: How much of ssh's stderr an error quotes.
STDERR_TAIL = 2000


@dataclass
class SSHFailure(Exception):
    """ssh could not give a connection (internal: the session turns it into
    :class:`EngineSSHError`).

    Attributes:
        reason: see :class:`EngineSSHError`.
        stderr: the tail of what ssh printed.
        command: the command line run.
        returncode: ssh's exit status, when it exited.
    """

    reason: str
    stderr: str
    command: str
    returncode: int | None = None

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
    ``"refused"``, ``"unreachable"``, ``"timeout"``, ``"no-docker"``, ``"forward-failed"``
    or ``"exited"``."""
    text = stderr.lower()
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
            if process.returncode is None:
                process.terminate()
                with anyio.move_on_after(2):
                    await process.wait()
                if process.returncode is None:
                    process.kill()
                    await process.wait()
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

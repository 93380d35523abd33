"""Exec endpoints: run a command in a running container (create, start, inspect)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import anyio
import httpx
import msgspec

from .._errors import InvalidArgumentError
from .._session import EngineSession
from .._stream import EngineStream
from .._streams import STDERR, Frame
from .._streams._logs import LogDecoder
from .._validate import check_identifier
from ..models import ExecConfig, ExecCreateResponse, ExecInspect, ExecStartConfig

__all__ = ["ExecAPI", "ExecResult"]

_JSON_TYPE = "application/json"
# After the output ends the engine may take a moment to record the exit code.
_EXIT_POLL_FIRST = 0.01
_EXIT_POLL_MAX = 0.2
_EXIT_POLL_ATTEMPTS = 40


@dataclass(frozen=True, slots=True)
class ExecResult:
    """What a command run by :meth:`ExecAPI.run` produced.

    Attributes:
        exit_code: the process's exit status (a non-zero status is a result, not an error);
            ``None`` only if the engine never reported one.
        stdout, stderr: everything it wrote, as bytes (with a TTY all output is stdout).
    """

    exit_code: int | None
    stdout: bytes
    stderr: bytes


class ExecAPI:
    """``/containers/{id}/exec`` and ``/exec/{id}/...`` endpoints. Reached as ``client.exec``."""

    def __init__(self, session: EngineSession) -> None:
        self._session = session

    async def create(
        self,
        container: str,
        cmd: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        working_dir: str | None = None,
        user: str | None = None,
        tty: bool = False,
        privileged: bool = False,
        stdout: bool = True,
        stderr: bool = True,
    ) -> str:
        """``POST /containers/{id}/exec``: set up a command to run in a running container.

        Args:
            cmd: the program and its arguments (not run through a shell).
            env: extra environment variables.
            working_dir: the directory to run it in (absolute; default: the container's).
            user: ``user``, ``user:group``, ``uid`` or ``uid:gid``.
            tty: allocate a TTY (output is then raw and all of it is stdout).
            stdout, stderr: which outputs to attach.

        Returns:
            The exec instance's id.

        Raises:
            InvalidArgumentError: ``cmd`` is empty or not a list of strings, or an env key is bad.
            NotFoundError: no such container.
            ConflictError: the container is not running or paused (Docker 409; Podman's 500
                "container state improper" maps here too).
        """
        config = ExecConfig(
            cmd=_check_cmd(cmd),
            attach_stdout=stdout,
            attach_stderr=stderr,
            tty=tty or None,
            env=_env_list(env),
            working_dir=working_dir,
            user=user,
            privileged=privileged or None,
        )
        created = await self._session.request_json(
            "POST",
            f"/containers/{check_identifier(container)}/exec",
            ExecCreateResponse,
            json=config,
        )
        return created.id

    def start(self, exec_id: str, *, tty: bool = False) -> EngineStream[Frame]:
        """``POST /exec/{id}/start`` (``Detach: false``): run it and stream its output.

        Use as ``async with client.exec.start(exec_id) as frames: async for frame in frames:``.
        The stream ends when the process exits; no read timeout applies.

        Args:
            tty: the ``tty`` given to :meth:`create`; it decides the body's format (raw bytes
                with a TTY, multiplexed frames without).

        Yields:
            :class:`Frame` ``(stream, data: bytes)``: stream 1 stdout, 2 stderr.

        Raises:
            NotFoundError: no such exec instance (when the stream opens).
            ConflictError: the container is not running (Docker 409).
            StreamInterruptedError, StreamTruncatedError: the body broke off.
        """
        path = f"/exec/{check_identifier(exec_id, what='exec id')}/start"
        body = msgspec.json.encode(ExecStartConfig(detach=False, tty=tty))

        async def open_response() -> httpx.Response:
            return await self._session.send(
                "POST", path, body=body, content_type=_JSON_TYPE, timeout=None, stream=True
            )

        def decoder_for(_response: httpx.Response) -> LogDecoder[Frame]:
            return LogDecoder(tty=tty)

        return EngineStream(self._session, "POST", path, open_response, decoder_for)

    async def start_detached(self, exec_id: str) -> None:
        """``POST /exec/{id}/start`` with ``Detach: true``: start it and return at once.

        Read its exit code later with :meth:`inspect`.

        Raises:
            NotFoundError: no such exec instance.
            ConflictError: the container is not running.
        """
        await self._session.send(
            "POST",
            f"/exec/{check_identifier(exec_id, what='exec id')}/start",
            body=msgspec.json.encode(ExecStartConfig(detach=True)),
            content_type=_JSON_TYPE,
        )

    async def inspect(self, exec_id: str) -> ExecInspect:
        """``GET /exec/{id}/json``: whether it runs, and its exit code once it has exited.

        Raises:
            NotFoundError: no such exec instance.
            DecodeError: the answer does not match :class:`ExecInspect`.
        """
        return await self._session.request_json(
            "GET", f"/exec/{check_identifier(exec_id, what='exec id')}/json", ExecInspect
        )

    async def run(
        self,
        container: str,
        cmd: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        working_dir: str | None = None,
        user: str | None = None,
        tty: bool = False,
        privileged: bool = False,
    ) -> ExecResult:
        """Run ``cmd`` in a running container and collect its exit code and output.

        Create, start (collecting stdout and stderr, demultiplexed) and inspect. Bound the
        call with an anyio cancel scope if the command may hang.

        Raises:
            InvalidArgumentError, NotFoundError, ConflictError: as :meth:`create`.
            StreamInterruptedError: the connection broke while the command ran.
        """
        exec_id = await self.create(
            container,
            cmd,
            env=env,
            working_dir=working_dir,
            user=user,
            tty=tty,
            privileged=privileged,
        )
        out: list[bytes] = []
        err: list[bytes] = []
        async with self.start(exec_id, tty=tty) as frames:
            async for frame in frames:
                (err if frame.stream == STDERR else out).append(frame.data)
        return ExecResult(await self._exit_code(exec_id), b"".join(out), b"".join(err))

    async def _exit_code(self, exec_id: str) -> int | None:
        delay = _EXIT_POLL_FIRST
        for _ in range(_EXIT_POLL_ATTEMPTS):
            info = await self.inspect(exec_id)
            if not info.running:
                return info.exit_code
            await anyio.sleep(delay)
            delay = min(delay * 2, _EXIT_POLL_MAX)
        return info.exit_code


def _check_cmd(cmd: Sequence[str]) -> list[str]:
    if isinstance(cmd, str) or not cmd or not all(isinstance(arg, str) for arg in cmd):
        raise InvalidArgumentError(
            f"cmd must be a non-empty list of strings (program and arguments), not {cmd!r}"
        )
    return list(cmd)


def _env_list(env: Mapping[str, str] | None) -> list[str] | None:
    if not env:
        return None
    for key in env:
        if not isinstance(key, str) or not key or "=" in key or "\x00" in key:
            raise InvalidArgumentError(f"env key {key!r} is empty or contains '=' or NUL")
    return [f"{key}={value}" for key, value in env.items()]

"""Exec endpoints: run a command in a running container (create, start, inspect)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, overload

import anyio
import httpx
import msgspec

from .._errors import InvalidArgumentError, StreamInterruptedError
from .._interactive import InteractiveSession, PendingSession, check_size, feed_stdin
from .._session import EngineSession, JSONObject, answer_type
from .._stream import EngineStream
from .._streams import STDERR, Frame
from .._streams._logs import LogDecoder
from .._validate import check_identifier, only_the_request
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
        cmd: Sequence[str] | ExecConfig,
        *,
        env: Mapping[str, str] | None = None,
        working_dir: str | None = None,
        user: str | None = None,
        tty: bool = False,
        privileged: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        stdin: bool = False,
        detach_keys: str | None = None,
    ) -> str:
        """``POST /containers/{id}/exec``: set up a command to run in a running container.

        Like every ``create``, it takes the API's request model
        (``create(id, ExecConfig(cmd=["ls"], attach_stdout=True))``), or keywords that build it.

        Args:
            cmd: the program and its arguments (not run through a shell), or the whole
                :class:`ExecConfig` (then no other keyword).
            env: extra environment variables.
            working_dir: the directory to run it in (absolute; default: the container's).
            user: ``user``, ``user:group``, ``uid`` or ``uid:gid``.
            tty: allocate a TTY (output is then raw and all of it is stdout).
            stdout, stderr: which outputs to attach.
            stdin: attach the process's stdin (then start it with ``stdin=True``, or use
                :meth:`session`).
            detach_keys: the key sequence that detaches from the process (``"ctrl-p,ctrl-q"``,
                the engine's default; API 1.25+).

        Returns:
            The exec instance's id.

        Raises:
            InvalidArgumentError: ``cmd`` is empty or not a list of strings, an env key is bad,
                or keywords were given beside a request model.
            NotFoundError: no such container.
            ConflictError: the container is not running or paused (Docker 409; Podman's 500
                "container state improper" maps here too).
        """
        if isinstance(cmd, ExecConfig):
            only_the_request(
                cmd,
                {
                    "env": (env, None),
                    "working_dir": (working_dir, None),
                    "user": (user, None),
                    "tty": (tty, False),
                    "privileged": (privileged, False),
                    "stdout": (stdout, True),
                    "stderr": (stderr, True),
                    "stdin": (stdin, False),
                    "detach_keys": (detach_keys, None),
                },
            )
            _check_cmd(cmd.cmd)
            config = cmd
        else:
            config = ExecConfig(
                cmd=_check_cmd(cmd),
                attach_stdout=stdout,
                attach_stderr=stderr,
                attach_stdin=stdin or None,
                detach_keys=detach_keys,
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

    @overload
    def start(
        self, exec_id: str, *, tty: bool = False, stdin: Literal[False] = False
    ) -> EngineStream[Frame]: ...
    @overload
    def start(
        self, exec_id: str, *, tty: bool = False, stdin: Literal[True]
    ) -> InteractiveSession: ...
    def start(
        self, exec_id: str, *, tty: bool = False, stdin: bool = False
    ) -> EngineStream[Frame] | InteractiveSession:
        """``POST /exec/{id}/start`` (``Detach: false``): run it and stream its output.

        Use as ``async with client.exec.start(exec_id) as frames: async for frame in frames:``.
        The stream ends when the process exits; no read timeout applies.

        Args:
            tty: the ``tty`` given to :meth:`create`; it decides the body's format (raw bytes
                with a TTY, multiplexed frames without).
            stdin: also write to the process's stdin (it was created with ``stdin=True``): the
                request then asks to upgrade the connection (``Upgrade: tcp``, answered 101;
                the stream is labelled ``application/vnd.docker.multiplexed-stream`` from API
                1.42) and an :class:`InteractiveSession` is returned instead of a stream.

        Yields:
            :class:`Frame` ``(stream, data: bytes)``: stream 1 stdout, 2 stderr.

        Raises:
            NotFoundError: no such exec instance (when the stream opens).
            ConflictError: the container is not running (Docker 409).
            StreamInterruptedError, StreamTruncatedError: the body broke off.
        """
        exec_id = check_identifier(exec_id, what="exec id")
        path = f"/exec/{exec_id}/start"
        body = msgspec.json.encode(ExecStartConfig(detach=False, tty=tty))
        if stdin:
            return InteractiveSession(
                self._session,
                path,
                tty=tty,
                body=body,
                exit_code=lambda: self._exit_code(exec_id),
                resize=lambda height, width: self.resize(exec_id, height, width),
            )

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

    @overload
    async def inspect(self, exec_id: str, *, raw: Literal[False] = False) -> ExecInspect: ...
    @overload
    async def inspect(self, exec_id: str, *, raw: Literal[True]) -> JSONObject: ...
    async def inspect(self, exec_id: str, *, raw: bool = False) -> ExecInspect | JSONObject:
        """``GET /exec/{id}/json``: whether it runs, and its exit code once it has exited.

        Args:
            raw: return the engine's JSON as a ``dict`` instead of the model.

        Raises:
            NotFoundError: no such exec instance.
            DecodeError: the answer does not match :class:`ExecInspect`.
        """
        return await self._session.request_json(
            "GET",
            f"/exec/{check_identifier(exec_id, what='exec id')}/json",
            answer_type(ExecInspect, raw),
        )

    async def resize(self, exec_id: str, height: int, width: int) -> None:
        """``POST /exec/{id}/resize``: set the exec's TTY size in character cells (API 1.0+).

        Raises:
            InvalidArgumentError: a size is not a whole number from 1 to 65535.
            NotFoundError: no such exec instance.
            EngineError: the engine refused (Docker 1.41 answers 500 for an exec without a
                TTY, or one not running yet).
        """
        await self._session.send(
            "POST",
            f"/exec/{check_identifier(exec_id, what='exec id')}/resize",
            params=check_size(height, width),
        )

    def session(
        self,
        container: str,
        cmd: Sequence[str],
        *,
        stdin: bool = True,
        tty: bool = False,
        env: Mapping[str, str] | None = None,
        working_dir: str | None = None,
        user: str | None = None,
        privileged: bool = False,
        detach_keys: str | None = None,
    ) -> PendingSession:
        """An interactive session of ``cmd`` in ``container``: create the exec, then start it.

        ``async with docker.exec.session(c, ["cat"]) as s: await s.send(b"hi");
        await s.close_stdin(); async for frame in s: ...; await s.exit_code()``. Entering the
        block creates the exec (``POST /containers/{id}/exec``) and starts it (``POST
        /exec/{id}/start`` upgraded to a raw stream, see :meth:`start`); leaving it closes the
        connection. ``await docker.exec.session(...)`` gives the created, not yet started
        :class:`InteractiveSession` instead. Arguments are those of :meth:`create`.

        Raises (on entering or awaiting):
            InvalidArgumentError, NotFoundError, ConflictError: as :meth:`create`.
            EngineError, StreamInterruptedError: as :meth:`InteractiveSession.open`.
        """

        async def prepare() -> InteractiveSession:
            exec_id = await self.create(
                container,
                cmd,
                env=env,
                working_dir=working_dir,
                user=user,
                tty=tty,
                privileged=privileged,
                stdin=stdin,
                detach_keys=detach_keys,
            )
            return self.start(exec_id, tty=tty, stdin=True)

        return PendingSession(prepare)

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
        input: bytes | AsyncIterable[bytes] | None = None,  # noqa: A002 - subprocess's name
    ) -> ExecResult:
        """Run ``cmd`` in a running container and collect its exit code and output.

        Create, start (collecting stdout and stderr, demultiplexed) and inspect. Bound the
        call with an anyio cancel scope if the command may hang.

        Args:
            input: bytes (or an async iterable of bytes) written to the process's stdin while
                its output is read; stdin is then closed. ``None``: no stdin.

        Raises:
            InvalidArgumentError, NotFoundError, ConflictError: as :meth:`create`.
            StreamInterruptedError: the connection broke while the command ran.
        """
        if input is not None and not isinstance(
            input, bytes | bytearray | memoryview | AsyncIterable
        ):
            raise InvalidArgumentError(
                f"input must be bytes or an async iterable of bytes, not {type(input).__name__}"
            )
        exec_id = await self.create(
            container,
            cmd,
            env=env,
            working_dir=working_dir,
            user=user,
            tty=tty,
            privileged=privileged,
            stdin=input is not None,
        )
        if input is not None:
            return await self._run_with_input(self.start(exec_id, tty=tty, stdin=True), input)
        out: list[bytes] = []
        err: list[bytes] = []
        async with self.start(exec_id, tty=tty) as frames:
            async for frame in frames:
                (err if frame.stream == STDERR else out).append(frame.data)
        return ExecResult(await self._exit_code(exec_id), b"".join(out), b"".join(err))

    async def _run_with_input(
        self, session: InteractiveSession, data: bytes | AsyncIterable[bytes]
    ) -> ExecResult:
        output: tuple[bytes, bytes] = (b"", b"")

        async def collect() -> None:
            nonlocal output
            output = await session.output()

        async with session, anyio.create_task_group() as group:
            group.start_soon(collect)
            # The process may stop reading (exit) early: like a broken pipe, not an error; a
            # real break shows in the output's read.
            with contextlib.suppress(StreamInterruptedError):
                await feed_stdin(session, data)
        return ExecResult(await session.exit_code(), *output)

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

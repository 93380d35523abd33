"""Container endpoints: create, start, stop, restart, kill, pause, rename, update, remove,
inspect, list, top, stats, changes, export, prune, wait, logs."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal, overload

import anyio
import httpx

from .._errors import ConflictError, InvalidArgumentError
from .._interactive import InteractiveSession, check_size
from .._resource import AsyncResource
from .._session import EngineSession, JSONObject, QueryValue, answer_type, decode_json
from .._stream import EngineStream, open_stream
from .._streams import Frame, JSONLinesDecoder, StampedFrame
from .._streams._logs import LogDecoder
from .._streams._raw import ChunkDecoder
from .._validate import Filters, check_identifier, check_name, normalize_filters, unix_time
from ..models import (
    ContainerCreateRequest,
    ContainerCreateResponse,
    ContainerInspect,
    ContainerPruneResponse,
    ContainerStats,
    ContainerSummary,
    ContainerTopResponse,
    ContainerUpdateRequest,
    ContainerUpdateResponse,
    ContainerWaitResponse,
    FilesystemChange,
)

__all__ = ["ContainerWaiter", "ContainersAPI", "WaitCondition"]

WaitCondition = Literal["not-running", "next-exit", "removed"]
#: The condition :meth:`ContainersAPI.wait` and :meth:`ContainersAPI.waiter` both use unless
#: told otherwise: the engine's own default (``docker wait``'s).
DEFAULT_CONDITION: WaitCondition = "not-running"
ContainerList = list[ContainerSummary]
ChangeList = list[FilesystemChange]


class ContainersAPI:
    """``/containers/...`` endpoints. Reached as ``client.containers``."""

    def __init__(self, session: EngineSession) -> None:
        self._session = session

    async def create(
        self,
        config: ContainerCreateRequest,
        *,
        name: str | None = None,
        platform: str | None = None,
    ) -> ContainerCreateResponse:
        """``POST /containers/create``: create a container (not started).

        Like every ``create``, it takes the API's request model (its body; the query
        parameters ``name`` and ``platform`` as keywords). The body has too many fields for
        keywords to build it: :class:`~lightshuttle_runtime.runtime.ContainerSpec` and
        :meth:`DockerRuntime.start` are the short form.

        Args:
            config: ContainerConfig fields plus ``host_config`` and ``networking_config``.
            name: ``[a-zA-Z0-9][a-zA-Z0-9_.-]+``; the engine picks one when omitted.
            platform: ``os[/arch[/variant]]`` (API 1.41).

        Raises:
            InvalidArgumentError: the name would be rejected (checked before sending).
            NotFoundError: the image is not present (pull it first).
            ConflictError: the name is in use (Docker 409, Podman 500).
        """
        params: dict[str, QueryValue] = {"platform": platform}
        if name is not None:
            params["name"] = check_name(name)
        return await self._session.request_json(
            "POST", "/containers/create", ContainerCreateResponse, params=params, json=config
        )

    async def start(self, container: str) -> bool:
        """``POST /containers/{id}/start``.

        Returns:
            ``True`` if it was started, ``False`` if it was already running (HTTP 304).

        Raises:
            NotFoundError: no such container.
        """
        response = await self._session.send(
            "POST", f"/containers/{check_identifier(container)}/start"
        )
        return response.status_code != 304

    async def stop(
        self, container: str, *, t: float | None = None, signal: str | None = None
    ) -> bool:
        """``POST /containers/{id}/stop``: signal the container, then kill it after ``t`` seconds.

        Args:
            t: grace period in seconds (rounded up to whole seconds; ``None`` = the container's
                ``StopTimeout`` or the engine default of 10 s). The request timeout is extended
                by it.
            signal: the stop signal, e.g. ``"SIGINT"`` (API 1.42; ignored by older engines).

        Returns:
            ``True`` if it was stopped, ``False`` if it was already stopped (HTTP 304).

        Raises:
            InvalidArgumentError: ``t`` is negative.
            NotFoundError: no such container.
        """
        return await self._send_with_grace("stop", container, t, signal=signal)

    async def kill(self, container: str, *, signal: str | None = None) -> None:
        """``POST /containers/{id}/kill`` with ``signal`` (default ``SIGKILL``).

        Raises:
            NotFoundError: no such container.
            ConflictError: the container is not running.
        """
        await self._session.send(
            "POST", f"/containers/{check_identifier(container)}/kill", params={"signal": signal}
        )

    async def remove(
        self,
        container: str,
        *,
        force: bool = False,
        v: bool = False,
        link: bool = False,
        missing_ok: bool = False,
    ) -> None:
        """``DELETE /containers/{id}``.

        Args:
            force: kill a running container first.
            v: also remove its anonymous volumes (named volumes are always kept).
            link: remove the link named ``container`` instead.
            missing_ok: a container that does not exist counts as removed.

        Raises:
            NotFoundError: no such container (unless ``missing_ok``).
            ConflictError: it is running (without ``force``) or already being removed.
        """
        await self._session.delete(
            f"/containers/{check_identifier(container)}",
            params={"force": force or None, "v": v or None, "link": link or None},
            missing_ok=missing_ok,
        )

    async def restart(self, container: str, *, t: float | None = None) -> None:
        """``POST /containers/{id}/restart``: stop (after a grace period) and start again.

        Every API version; a stopped container is simply started.

        Args:
            t: grace period in seconds before the kill (rounded up; ``None`` = the container's
                ``StopTimeout`` or 10 s). The request timeout is extended by it.

        Raises:
            InvalidArgumentError: ``t`` is negative.
            NotFoundError: no such container.
        """
        await self._send_with_grace("restart", container, t)

    async def pause(self, container: str) -> None:
        """``POST /containers/{id}/pause``: freeze its processes (cgroup freezer); any API version.

        Raises:
            NotFoundError: no such container.
            ConflictError: it is not running or already paused (Docker 409, Podman 500).
        """
        await self._session.send("POST", f"/containers/{check_identifier(container)}/pause")

    async def unpause(self, container: str) -> None:
        """``POST /containers/{id}/unpause``: resume a paused container; every API version.

        Raises:
            NotFoundError: no such container.
            EngineError: it is not paused (Docker 20.10 answers 500 "is not paused").
        """
        await self._session.send("POST", f"/containers/{check_identifier(container)}/unpause")

    async def rename(self, container: str, name: str) -> None:
        """``POST /containers/{id}/rename?name=``: give the container a new name; every API version.

        Raises:
            InvalidArgumentError: ``name`` would be rejected (checked before sending).
            NotFoundError: no such container.
            ConflictError: ``name`` is in use (Docker 409, Podman 500).
        """
        await self._session.send(
            "POST",
            f"/containers/{check_identifier(container)}/rename",
            params={"name": check_name(name)},
        )

    async def update(
        self, container: str, update: ContainerUpdateRequest
    ) -> ContainerUpdateResponse:
        """``POST /containers/{id}/update``: change resources and restart policy in place.

        Every API version (restart policy since 1.22). Fields of ``update`` left at ``None``
        keep their value; units are those of :class:`ContainerUpdateRequest`.

        Returns:
            The engine's warnings.

        Raises:
            NotFoundError: no such container.
            EndpointNotFoundError: the engine lacks the endpoint (Podman 4.3).
            BadRequestError: the engine refuses a value (e.g. a memory limit below 6 MB, or
                ``memory`` above ``memory_swap``).
        """
        return await self._session.request_json(
            "POST",
            f"/containers/{check_identifier(container)}/update",
            ContainerUpdateResponse,
            json=update,
        )

    async def top(self, container: str, *, ps_args: str | None = None) -> ContainerTopResponse:
        """``GET /containers/{id}/top``: the processes running in the container.

        Every API version. ``ps_args`` are the ``ps`` options (Docker runs the host's ``ps``,
        default ``-ef``: one title per column). Podman 4.3 runs the container's own ``ps`` and
        sends its header as *one* title and each process as *one* string (busybox:
        ``["PID   USER     COMMAND"]``).

        Raises:
            NotFoundError: no such container.
            ConflictError: it is not running (Docker 409; Podman 4.3 answers 200 with no body,
                turned into this error).
        """
        path = f"/containers/{check_identifier(container)}/top"
        response = await self._session.send("GET", path, params={"ps_args": ps_args})
        if not response.content:  # Podman 4.3: 200 and no body for a stopped container
            raise ConflictError(
                f"container {container} is not running: start it before listing its processes",
                status=response.status_code,
                method="GET",
                path=path,
            )
        return decode_json(
            response.content,
            ContainerTopResponse,
            method="GET",
            path=path,
            sent=response.request.url.path,
        )

    async def changes(self, container: str) -> ChangeList:
        """``GET /containers/{id}/changes``: what changed in its filesystem since it was created.

        Every API version. An unchanged container gives ``[]`` (Docker sends ``null``).

        Raises:
            NotFoundError: no such container.
        """
        found = await self._session.request_json(
            "GET",
            f"/containers/{check_identifier(container)}/changes",
            ChangeList | None,  # type: ignore[arg-type]
        )
        return list(found or [])

    def attach(
        self,
        container: str,
        *,
        stdin: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        logs: bool = False,
        detach_keys: str | None = None,
        tty: bool | None = None,
    ) -> InteractiveSession:
        """``POST /containers/{id}/attach`` (``stream=1``), upgraded to a raw connection: the
        container's main process's stdin and output (API 1.0+; ``detachKeys`` 1.25+).

        ``async with docker.containers.attach(id, stdin=True) as s: await s.send(b"...");
        async for frame in s: ...``. Closing stdin (:meth:`InteractiveSession.close_stdin`)
        ends the process's stdin if the container was created with ``StdinOnce``; without
        it Docker ends the session and the process keeps its stdin, Podman 4 ends the
        process's stdin all the same;
        sending the detach keys makes the engine end the session (the container keeps
        running). :meth:`InteractiveSession.exit_code` waits for the container to stop.

        Args:
            stdin: write to the container's stdin (it was created with ``OpenStdin``).
            stdout, stderr: which outputs to receive.
            logs: first replay the output written so far.
            detach_keys: the key sequence that detaches (``"ctrl-p,ctrl-q"``: the default).
            tty: whether the container has a TTY (decides raw vs multiplexed output); ``None``:
                inspect the container when the session opens.

        Raises (on entering the block):
            NotFoundError: no such container.
            ConflictError: Docker refuses to attach to a stopped container... (409).
        """
        ident = check_identifier(container)

        async def exit_code() -> int | None:
            return (await self.wait(ident)).status_code

        return InteractiveSession(
            self._session,
            f"/containers/{ident}/attach",
            tty=(lambda: self._has_tty(ident)) if tty is None else tty,
            params={
                "stream": True,
                "stdin": stdin,
                "stdout": stdout,
                "stderr": stderr,
                "logs": logs,
                "detachKeys": detach_keys,
            },
            exit_code=exit_code,
            resize=lambda height, width: self.resize(ident, height, width),
        )

    async def resize(self, container: str, height: int, width: int) -> None:
        """``POST /containers/{id}/resize``: set the container's TTY size in character cells
        (API 1.0+).

        Raises:
            InvalidArgumentError: a size is not a whole number from 1 to 65535.
            NotFoundError: no such container.
            EngineError: the engine refused (not running, or no TTY on some engines).
        """
        await self._session.send(
            "POST",
            f"/containers/{check_identifier(container)}/resize",
            params=check_size(height, width),
        )

    def export(self, container: str) -> EngineStream[bytes]:
        """``GET /containers/{id}/export``: the container's whole filesystem as a tar stream.

        Every API version. Use as ``async with client.containers.export(id) as tar:`` then
        ``async for chunk in tar`` (byte chunks of the uncompressed tar, as they arrive).

        Raises:
            NotFoundError: no such container (when the stream opens).
            StreamInterruptedError: the engine went away mid-stream.
        """
        path = f"/containers/{check_identifier(container)}/export"
        return open_stream(self._session, "GET", path, lambda _response: ChunkDecoder())

    async def stats(self, container: str, *, one_shot: bool = False) -> ContainerStats:
        """``GET /containers/{id}/stats?stream=false``: one resource-usage sample.

        The engine takes two samples about a second apart so that
        :attr:`ContainerStats.cpu_percent` has a ``precpu_stats`` to compare with;
        ``one_shot=True`` (API 1.41) answers at once with an empty ``precpu_stats`` (CPU
        percent near 0). Podman 4.3 always answers the one-shot way. For a stopped container
        the counters are zero. For a CPU percentage on every engine use :meth:`stats_stream`.

        Raises:
            NotFoundError: no such container.
            DecodeError: the answer does not match :class:`ContainerStats`.
        """
        return await self._session.request_json(
            "GET",
            f"/containers/{check_identifier(container)}/stats",
            ContainerStats,
            params={"stream": False, "one-shot": one_shot or None},
        )

    def stats_stream(self, container: str) -> EngineStream[ContainerStats]:
        """``GET /containers/{id}/stats?stream=true``: a sample about every second.

        Use as ``async with client.containers.stats_stream(id) as samples:``; each sample's
        ``precpu_stats`` is the previous one's ``cpu_stats`` (the first has none), so
        :attr:`ContainerStats.cpu_percent` is the CPU use over the last interval. The stream
        has no read timeout and ends when the container stops (Docker) or is removed.

        Raises:
            NotFoundError: no such container (when the stream opens).
            StreamInterruptedError: the engine went away mid-stream.
            DecodeError: a sample does not match :class:`ContainerStats`.
        """
        path = f"/containers/{check_identifier(container)}/stats"
        return open_stream(
            self._session,
            "GET",
            path,
            lambda _response: JSONLinesDecoder(ContainerStats),
            params={"stream": True},
        )

    async def prune(self, *, filters: Filters | None = None) -> ContainerPruneResponse:
        """``POST /containers/prune``: remove every stopped container matching ``filters``.

        Since API 1.25. ``filters``: ``until`` (a time or duration), ``label``
        (``"key"``/``"key=value"``), ``label!``. Without filters this removes **every**
        stopped container of the engine.

        Raises:
            InvalidArgumentError: a filter value is not a string or list of strings.
            ConflictError: another prune is running.
        """
        return await self._session.request_json(
            "POST",
            "/containers/prune",
            ContainerPruneResponse,
            params={"filters": normalize_filters(filters)},
        )

    async def _has_tty(self, ident: str) -> bool:
        """Whether the container has a TTY (``Config.Tty``): raw output, not frames."""
        return bool((await self.inspect(ident)).config.tty)

    async def _send_with_grace(
        self, action: str, container: str, t: float | None, *, signal: str | None = None
    ) -> bool:
        if t is not None and t < 0:
            raise _negative("t", t)
        seconds = None if t is None else math.ceil(t)
        request_timeout = self._session.timeouts.request
        timeout = None if request_timeout is None else request_timeout + (seconds or 10)
        response = await self._session.send(
            "POST",
            f"/containers/{check_identifier(container)}/{action}",
            params={"t": seconds, "signal": signal},
            timeout=timeout,
        )
        return response.status_code != 304

    @overload
    async def inspect(self, container: str, *, raw: Literal[False] = False) -> ContainerInspect: ...
    @overload
    async def inspect(self, container: str, *, raw: Literal[True]) -> JSONObject: ...
    async def inspect(self, container: str, *, raw: bool = False) -> ContainerInspect | JSONObject:
        """``GET /containers/{id}/json``: configuration and state.

        Args:
            raw: return the engine's JSON object as a ``dict`` (every field it sent, under
                its API name) instead of :class:`ContainerInspect`.

        Raises:
            NotFoundError: no such container.
            DecodeError: the answer does not match :class:`ContainerInspect`.
        """
        path = f"/containers/{check_identifier(container)}/json"
        return await self._session.request_json("GET", path, answer_type(ContainerInspect, raw))

    @overload
    async def list(
        self,
        *,
        all_: bool = ...,
        limit: int | None = ...,
        size: bool = ...,
        filters: Filters | None = ...,
        raw: Literal[False] = False,
    ) -> ContainerList: ...
    @overload
    async def list(
        self,
        *,
        all_: bool = ...,
        limit: int | None = ...,
        size: bool = ...,
        filters: Filters | None = ...,
        raw: Literal[True],
    ) -> list[JSONObject]: ...
    async def list(
        self,
        *,
        all_: bool = False,
        limit: int | None = None,
        size: bool = False,
        filters: Filters | None = None,
        raw: bool = False,
    ) -> ContainerList | list[JSONObject]:
        """``GET /containers/json``.

        Args:
            all_: include stopped containers (the API's ``all``).
            limit: at most this many, newest first.
            size: report ``SizeRw``/``SizeRootFs`` (slow).
            filters: e.g. ``{"label": ["lightshuttle.project=web"], "status": ["running"]}``.
            raw: return the engine's JSON objects as dicts instead of
                :class:`ContainerSummary` models.

        Raises:
            InvalidArgumentError: a filter value is not a string or list of strings.
        """
        params: dict[str, QueryValue] = {
            "all": all_ or None,
            "limit": limit,
            "size": size or None,
            "filters": normalize_filters(filters),
        }
        return await self._session.request_json(
            "GET", "/containers/json", answer_type(ContainerList, raw), params=params
        )

    async def wait(
        self, container: str, *, condition: WaitCondition = DEFAULT_CONDITION
    ) -> ContainerWaitResponse:
        """``POST /containers/{id}/wait``: block until ``condition`` holds.

        No read timeout applies: bound the wait with an anyio cancel scope
        (``with anyio.fail_after(30): ...``). ``condition`` since API 1.30. To catch the exit
        of a container you are about to start, use :meth:`waiter` instead.

        Returns:
            The exit code (``status_code``) and the engine's error, if any.

        Raises:
            NotFoundError: no such container.
            BadRequestError: an unknown ``condition``.
            StreamInterruptedError: the engine went away while waiting.
        """
        async with self.waiter(container, condition=condition) as waiter:
            return await waiter.result()

    def waiter(
        self, container: str, *, condition: WaitCondition = DEFAULT_CONDITION
    ) -> ContainerWaiter:
        """A wait registered now and read later, so a fast exit is not missed.

        ``async with client.containers.waiter(id, condition="next-exit") as exited:`` sends
        ``POST /containers/{id}/wait`` and returns once the engine has registered it (the
        engine sends its headers at once since API 1.30); start the container inside the
        block, then ``await exited.result()``. The default condition is :meth:`wait`'s and
        the engine's, ``"not-running"``, which a container not started yet already meets:
        to catch the exit of one you start inside the block, ask for ``"next-exit"``.

        Raises:
            NotFoundError: no such container (on entering the block).
        """
        path = f"/containers/{check_identifier(container)}/wait"
        return ContainerWaiter(self._session, path, condition)

    @overload
    def logs(
        self,
        container: str,
        *,
        tty: bool | None = ...,
        follow: bool = ...,
        stdout: bool = ...,
        stderr: bool = ...,
        since: datetime | float | None = ...,
        until: datetime | float | None = ...,
        timestamps: Literal[False] = ...,
        tail: int | Literal["all"] = ...,
    ) -> EngineStream[Frame]: ...

    @overload
    def logs(
        self,
        container: str,
        *,
        tty: bool | None = ...,
        follow: bool = ...,
        stdout: bool = ...,
        stderr: bool = ...,
        since: datetime | float | None = ...,
        until: datetime | float | None = ...,
        timestamps: Literal[True],
        tail: int | Literal["all"] = ...,
    ) -> EngineStream[StampedFrame]: ...

    @overload
    def logs(
        self,
        container: str,
        *,
        tty: bool | None = ...,
        follow: bool = ...,
        stdout: bool = ...,
        stderr: bool = ...,
        since: datetime | float | None = ...,
        until: datetime | float | None = ...,
        timestamps: bool,
        tail: int | Literal["all"] = ...,
    ) -> EngineStream[Frame] | EngineStream[StampedFrame]: ...

    def logs(
        self,
        container: str,
        *,
        tty: bool | None = None,
        follow: bool = False,
        stdout: bool = True,
        stderr: bool = True,
        since: datetime | float | None = None,
        until: datetime | float | None = None,
        timestamps: bool = False,
        tail: int | Literal["all"] = "all",
    ) -> EngineStream[Frame] | EngineStream[StampedFrame]:
        """``GET /containers/{id}/logs`` as a stream of frames.

        Use as ``async with client.containers.logs(id, follow=True) as frames:``.

        Args:
            tty: the container's ``Config.Tty``: it decides the body's format (raw bytes vs
                multiplexed frames); the response's Content-Type is not reliable (Podman labels
                framed bodies as raw). ``None``: inspect the container first (one more
                request, ``GET /containers/{id}/json``, when the stream is entered).
            follow: keep the stream open for new output (no read timeout applies).
            since, until: aware ``datetime``s, or UNIX timestamps in seconds (fractions
                allowed).
            timestamps: yield :class:`StampedFrame` with each line's time (aware UTC datetime),
                the RFC3339 prefix stripped.
            tail: only the last N lines, or ``"all"``.

        Yields:
            :class:`Frame` ``(stream, data: bytes)`` — stream 1 stdout, 2 stderr (TTY output
            is all stdout) — or :class:`StampedFrame` with ``timestamps=True``.

        Raises:
            InvalidArgumentError: neither stdout nor stderr asked for, or bad ``tail``/``since``.
            NotFoundError: no such container (when the stream opens).
            StreamError: the daemon reported an error in the stream (stream-type-3 frame).
            StreamInterruptedError: the engine went away mid-stream.
            StreamTruncatedError: the body ended inside a frame.
        """
        if not (stdout or stderr):
            raise InvalidArgumentError("logs needs stdout=True or stderr=True (or both)")
        if tail != "all" and (not isinstance(tail, int) or tail < 0):
            raise InvalidArgumentError(f"tail must be a non-negative int or 'all', not {tail!r}")
        for label, value in (("since", since), ("until", until)):
            seconds = value.timestamp() if isinstance(value, datetime) else value
            if seconds is not None and seconds < 0:
                raise _negative(label, seconds)
        ident = check_identifier(container)
        path = f"/containers/{ident}/logs"
        params: dict[str, QueryValue] = {
            "follow": follow,
            "stdout": stdout,
            "stderr": stderr,
            "since": unix_time(since),
            "until": unix_time(until),
            "timestamps": timestamps,
            "tail": tail,
        }

        found: list[bool] = [] if tty is None else [tty]

        async def find_tty() -> None:
            found.append(await self._has_tty(ident))

        def decoder_for(_response: httpx.Response) -> LogDecoder[Frame | StampedFrame]:
            return LogDecoder(tty=found[-1], timestamps=timestamps)

        return open_stream(  # type: ignore[return-value]
            self._session,
            "GET",
            path,
            decoder_for,
            params=params,
            before=None if tty is not None else find_tty,
        )


class ContainerWaiter(AsyncResource):
    """A registered ``POST /containers/{id}/wait``; see :meth:`ContainersAPI.waiter`."""

    def __init__(self, session: EngineSession, path: str, condition: WaitCondition) -> None:
        self._session = session
        self._path = path
        self._condition = condition
        self._response: httpx.Response | None = None

    async def _enter(self) -> None:
        self._response = await self._session.send(
            "POST", self._path, params={"condition": self._condition}, timeout=None, stream=True
        )

    async def aclose(self) -> None:
        """Drop the wait (closes its connection); safe to call more than once."""
        response, self._response = self._response, None
        if response is not None:
            with anyio.CancelScope(shield=True):
                await response.aclose()

    async def result(self) -> ContainerWaitResponse:
        """Wait for the condition (no timeout: use a cancel scope) and return the exit code.

        Raises:
            StreamInterruptedError: the engine went away while waiting.
            DecodeError: the answer is not a wait result.
        """
        if self._response is None:
            raise InvalidArgumentError("use the waiter inside its `async with` block")
        response = self._response
        body = await self._session.read_body(response, "POST", self._path)
        return decode_json(
            body,
            ContainerWaitResponse,
            method="POST",
            path=self._path,
            sent=response.request.url.path,
        )


def _negative(label: str, value: float) -> InvalidArgumentError:
    return InvalidArgumentError(f"{label} must not be negative (got {value})")

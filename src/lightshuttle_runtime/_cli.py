"""The command line: ``lightshuttle-runtime`` (also ``python -m lightshuttle_runtime``).

A thin layer over :class:`DockerRuntime` and :class:`DockerClient`: it parses arguments
(stdlib argparse), calls the library, and prints. Every error — bad arguments included —
becomes one line on stderr and exit status 1 (a traceback only with ``--debug``).

Exit status: 0 success, 1 an error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import functools
import re
import shlex
import sys
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NoReturn, TextIO

import anyio

from . import __version__
from ._cli_interactive import add_attach_arguments, add_exec_arguments, cmd_attach, cmd_exec
from ._cli_registry import add_registry_commands
from ._client import DockerClient
from ._config import API_VERSION_MAX, API_VERSION_MIN
from ._discovery import find_engine
from ._errors import DockerConnectionError, DockerError, EndpointNotFoundError, NotFoundError
from .runtime._errors import (
    ContainerExitedError,
    ContainerRuntimeError,
    ContainerUnhealthyError,
    EngineConnectError,
    OperationTimedOut,
)
from .runtime._labels import LABEL_PROJECT, LABEL_RESOURCE, project_network_name

# A command's own code (the runtime, the build and the registry views, the models) loads when
# the command runs: `ps` or `version` do not pay for the build, tar, archive or spec code.
if TYPE_CHECKING:
    from .models import ProgressMessage, SystemVersion
    from .runtime import (
        ContainerId,
        ContainerStatus,
        DockerRuntime,
        HealthcheckSpec,
        LogChunk,
        PortSpec,
        VolumeSpec,
    )

__all__ = ["ClientFactory", "amain", "build_parser", "main", "run"]

PROG = "lightshuttle-runtime"

#: Opens the client a command uses, given ``--host`` (``None``: ``DOCKER_HOST``, then the
#: default socket). The seam for tests and for ``demo --replay`` (a cassette transport).
ClientFactory = Callable[[str | None], AbstractAsyncContextManager[DockerClient]]

DEMO_NAME = "ls-demo"
DEMO_IMAGE = "busybox:local"
DEMO_PROJECT = "ls-demo"
DEMO_LINES = 5
# Ready after a short warm-up, then a tick every 0.2 s; SIGTERM ends it cleanly (the trap
# runs between two sleeps), so `stop` is quick and the exit code is 0.
DEMO_SCRIPT = (
    'trap "echo stopping on SIGTERM; exit 0" TERM; '
    "echo warming up; sleep 0.3; touch /tmp/ready; echo ready >&2; "
    'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done'
)
#: Seconds the demo waits for the container to become healthy, and for its log lines.
DEMO_HEALTH_LIMIT = 60.0
DEMO_FOLLOW_LIMIT = 30.0


def demo_check() -> HealthcheckSpec:
    """The demo container's health check: ready once ``/tmp/ready`` exists."""
    from .runtime import HealthcheckSpec

    return HealthcheckSpec(
        test="test -f /tmp/ready",
        interval=timedelta(milliseconds=200),
        timeout=timedelta(seconds=5),
        retries=3,
    )


class CommandError(Exception):
    """A command cannot go on; the message is printed as the one error line."""


class UsageError(CommandError):
    """The command line is wrong (printed as one line, with where to find the usage)."""


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as :class:`UsageError` instead of a usage block and exit 2.

    Every subcommand's parser is one of these (``add_subparsers`` makes its parsers of the
    parent's class), so a new subcommand reports its errors the same way.
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def default_client(
    host: str | None, context: str | None = None
) -> AbstractAsyncContextManager[DockerClient]:
    """A client of the engine at ``host`` or of the Docker ``context`` (neither: the engine
    :func:`find_engine` finds)."""
    return DockerClient(host, context=context)


#: The demo recorded from Docker Engine 20.10 (``scripts/record-demo`` makes it again).
DEMO_RECORDING = Path(__file__).parent / "_data" / "demo-docker.json"


#: Where the engine of the recording listened (``demo --replay`` names it, not ``--host``).
DEMO_RECORDED_HOST = "unix:///var/run/docker.sock"


def replay_client(host: str | None) -> AbstractAsyncContextManager[DockerClient]:
    """The client ``demo --replay`` uses: the recorded demo, played back at its recorded pace
    through the same code path, with no engine (``host`` is not used: the recording's
    engine is named)."""
    from .testing import CassetteTransport

    if not DEMO_RECORDING.is_file():
        raise CommandError(f"--replay: the recording {DEMO_RECORDING} is missing from the package")
    transport = CassetteTransport(DEMO_RECORDING, record_mode="none", pace=1.0)
    return DockerClient(DEMO_RECORDED_HOST, transport=transport)


def recording_client(path: str) -> ClientFactory:
    """A factory that records the commands' exchanges with the engine into ``path``."""
    from .testing import CassetteTransport

    def factory(host: str | None) -> AbstractAsyncContextManager[DockerClient]:
        real = DockerClient(host)
        cassette = CassetteTransport(path, record_mode="all", transport=real.transport)
        return DockerClient(host, transport=cassette)

    return factory


# -- argument types ----------------------------------------------------------------------------

_DURATION = re.compile(r"(?P<number>\d+(?:\.\d*)?|\.\d+)(?P<unit>us|ms|s|m|h)?")
_UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
#: How a DURATION is written, for --help.
DURATION_SYNTAX = (
    "DURATION is a number and a unit: 500us, 200ms, 1.5s, 2m, 1h (a bare number is seconds)"
)


def duration(text: str) -> timedelta:
    """``200ms``, ``1.5s``, ``2m``, ``1h``, ``500us``; a bare number is seconds."""
    found = _DURATION.fullmatch(text.strip())
    if found is None:
        raise argparse.ArgumentTypeError(
            f"invalid duration {text!r}: use e.g. 200ms, 1.5s, 2m (a bare number is seconds)"
        )
    return timedelta(seconds=float(found["number"]) * _UNIT_SECONDS[found["unit"]])


def env_pair(text: str) -> tuple[str, str]:
    """``KEY=value`` (the value may be empty or hold ``=``)."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"invalid environment variable {text!r}: use KEY=value")
    return key, value


def since_time(text: str) -> datetime:
    """A DURATION ago (``10m``), or an RFC 3339 time (``2026-11-30T09:33:00Z``)."""
    try:
        return datetime.now(UTC) - duration(text)
    except argparse.ArgumentTypeError:
        pass
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid time {text!r}: use a DURATION ago (10m) or an RFC 3339 time "
            "(2026-11-30T09:33:00Z)"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def volume(text: str) -> VolumeSpec:
    """``[SOURCE:]TARGET[:ro|rw]``: a host path or volume name, mounted at TARGET."""
    parts = text.split(":")
    read_only = False
    if len(parts) > 1 and parts[-1] in ("ro", "rw"):
        read_only = parts.pop() == "ro"
    if len(parts) not in (1, 2) or not all(parts):
        raise argparse.ArgumentTypeError(
            f"invalid volume {text!r}: use [SOURCE:]TARGET[:ro], e.g. /srv/data:/data:ro"
        )
    source = parts[0] if len(parts) == 2 else None
    from .runtime import VolumeSpec

    return VolumeSpec(target=parts[-1], source=source, read_only=read_only)


def port(text: str) -> PortSpec:
    """``[address:][host:]container[/protocol]``; ``[::1]:8080:80`` for IPv6.

    The ranges are checked with the rest of the spec (``ContainerSpec.validate``).
    """
    numbers, _, protocol = text.partition("/")
    parts = numbers.rsplit(":", 2)
    address = parts[0].strip("[]") if len(parts) == 3 else None
    host = parts[-2] if len(parts) >= 2 else ""
    try:
        container_port = int(parts[-1])
        host_port = int(host) if host else None
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid port {text!r}: use [address:]host:container[/tcp|udp|sctp], e.g. 8080:80"
        ) from None
    if protocol not in ("", "tcp", "udp", "sctp"):
        raise argparse.ArgumentTypeError(f"invalid port protocol {protocol!r}: tcp, udp or sctp")
    proto: Literal["tcp", "udp", "sctp"] = protocol or "tcp"  # type: ignore[assignment]
    from .runtime import PortSpec

    return PortSpec(container_port, host_port, address or None, proto)


# -- the parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``lightshuttle-runtime`` parser; each subcommand sets ``handler``."""
    common = Parser(add_help=False)
    _add_common(common, default=argparse.SUPPRESS)
    parser = Parser(
        prog=PROG,
        description="Run containers on Docker or Podman through lightshuttle_runtime.",
        epilog="The engine: --context or --host, else DOCKER_HOST, DOCKER_CONTEXT, the "
        "currentContext of ~/.docker/config.json, CONTAINER_HOST, unix:///var/run/docker.sock "
        f"(`{PROG} context` shows which, and why). {DURATION_SYNTAX}.",
    )
    _add_common(parser, default=None)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, handler: Handler | None, help_text: str, epilog: str | None = None
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, parents=[common], help=help_text, description=help_text, epilog=epilog
        )
        sub.set_defaults(handler=handler)
        return sub

    command("version", cmd_version, "client and engine versions, and the API version in use")
    command(
        "context",
        None,  # run() calls cmd_context: it shows the engine found before making a client
        "which engine the commands use, how it was found, and whether it answers",
    )

    ps = command("ps", cmd_ps, f"list managed containers (those with the {LABEL_PROJECT} label)")
    ps.add_argument("--project", help="only this project's containers")
    ps.add_argument("-a", "--all", action="store_true", help="include stopped containers")

    _add_run_arguments(
        command(
            "run",
            cmd_run,
            "start a container and wait until it is healthy",
            epilog=f"{DURATION_SYNTAX}.",
        )
    )

    down = command("down", cmd_down, "remove a project's containers (forced) and its network")
    down.add_argument("--project", required=True, help="the project")

    logs = command(
        "logs",
        cmd_logs,
        "print a container's output (stderr to stderr)",
        epilog=f"{DURATION_SYNTAX}.",
    )
    logs.add_argument("-f", "--follow", action="store_true", help="keep following new output")
    logs.add_argument("-t", "--timestamps", action="store_true", help="prefix each line's time")
    logs.add_argument("-n", "--tail", type=int, metavar="N", help="only the last N lines")
    logs.add_argument(
        "--since",
        type=since_time,
        metavar="DURATION|TIME",
        help="only output since a DURATION ago (10m) or an RFC 3339 time",
    )
    logs.add_argument("name", metavar="NAME")

    stop = command("stop", cmd_stop, "stop containers (SIGTERM, then SIGKILL after the grace)")
    stop.add_argument(
        "-t", "--time", type=float, default=10.0, metavar="SECONDS", help="grace (default 10)"
    )
    stop.add_argument("names", nargs="+", metavar="NAME")

    rm = command("rm", cmd_rm, "remove containers (forced; named volumes are kept)")
    rm.add_argument("names", nargs="+", metavar="NAME")

    _add_build_arguments(
        command(
            "build",
            cmd_build,
            "build an image from a context directory, step by step (BuildKit on Docker)",
            epilog="Progress goes to stderr (collapsing lines on a terminal, plain lines like "
            "`docker build --progress=plain` otherwise); the image id to stdout.",
        )
    )

    add_registry_commands(command, env_pair)
    add_exec_arguments(
        command(
            "exec",
            cmd_exec,
            "run a command in a running container (-i: this stdin to it; -t: a terminal)",
            epilog="The exit status is the command's. `echo hi | ... exec -i NAME cat` ends "
            "when stdin does.",
        ),
        env_pair,
    )
    add_attach_arguments(
        command(
            "attach",
            cmd_attach,
            "attach this terminal to a container's main process (its stdin, output, and TTY)",
            epilog="The exit status is the container's exit code, or 0 after the detach keys.",
        )
    )

    inspect = command("inspect", cmd_inspect, "print a container's status, or its inspect JSON")
    inspect.add_argument(
        "--format",
        choices=["status", "json"],
        default="status",
        help="status (default: healthy, running, stopped (exit code N)...) or json (the "
        "engine's answer to GET /containers/{id}/json, as modelled)",
    )
    inspect.add_argument("name", metavar="NAME")

    demo = command(
        "demo",
        cmd_demo,
        "start a container with a health check, wait until healthy, follow its logs, "
        "stop and remove it, timing each step",
    )
    demo.add_argument("--image", default=DEMO_IMAGE, help=f"default {DEMO_IMAGE}")
    demo.add_argument("--name", default=DEMO_NAME, help=f"default {DEMO_NAME}")
    demo.add_argument(
        "--lines", type=int, default=DEMO_LINES, help=f"log lines to follow (default {DEMO_LINES})"
    )
    demo.add_argument(
        "--replay", action="store_true", help="replay a recorded demo instead of using an engine"
    )
    demo.add_argument("--record", metavar="PATH", help=argparse.SUPPRESS)
    return parser


def _add_common(parser: argparse.ArgumentParser, *, default: object) -> None:
    parser.add_argument(
        "--host",
        default=default,
        help="engine address: unix:///path, tcp://HOST:PORT, ssh://[USER@]HOST[:PORT][/SOCKET]",
    )
    parser.add_argument(
        "--context", default=default, help="a Docker context (`docker context ls`); not with --host"
    )
    parser.add_argument(
        "--debug", action="store_true", default=default, help="show tracebacks of errors"
    )
    parser.add_argument(
        "--backend", choices=["asyncio", "trio"], default=default, help=argparse.SUPPRESS
    )


def _add_build_arguments(build: argparse.ArgumentParser) -> None:
    build.add_argument("-t", "--tag", action="append", default=[], help="name[:tag] (repeatable)")
    build.add_argument("-f", "--file", default="Dockerfile", help="the Dockerfile, in the context")
    build.add_argument(
        "--build-arg", action="append", type=env_pair, default=[], metavar="K=V", help="ARG value"
    )
    build.add_argument("--label", action="append", type=env_pair, default=[], metavar="K=V")
    build.add_argument("--target", help="the stage to build")
    build.add_argument("--network", help="the network of RUN steps (bridge, host, none)")
    build.add_argument("--platform", help="os[/arch[/variant]]")
    build.add_argument("--no-cache", action="store_true", help="do not use the build cache")
    build.add_argument("--pull", action="store_true", help="pull base images even when present")
    build.add_argument(
        "--builder", choices=["auto", "buildkit", "classic"], default="auto", help="default auto"
    )
    build.add_argument(
        "--progress",
        choices=["auto", "plain", "tty"],
        default="auto",
        help="auto (tty on a terminal, else plain)",
    )
    build.add_argument("build_context", metavar="PATH", help="the build context directory")


def _add_run_arguments(run_parser: argparse.ArgumentParser) -> None:
    add = run_parser.add_argument
    add("--name", required=True, help="the container name")
    add("-e", "--env", type=env_pair, action="append", default=[], metavar="KEY=VALUE")
    add("-p", "--publish", type=port, action="append", default=[], metavar="[ADDR:]HOST:PORT")
    add("-v", "--volume", type=volume, action="append", default=[], metavar="[SRC:]DST[:ro]")
    add("--health-cmd", metavar="CMD", help="shell command; exit 0 means healthy")
    add(
        "--health-interval",
        type=duration,
        default=timedelta(seconds=1),
        metavar="DURATION",
        help="between checks (default 1s)",
    )
    add(
        "--health-timeout",
        type=duration,
        default=timedelta(seconds=30),
        metavar="DURATION",
        help="for one check (default 30s)",
    )
    add("--health-retries", type=int, default=3, metavar="N")
    add(
        "--health-start-period",
        type=duration,
        default=timedelta(0),
        metavar="DURATION",
        help="failures do not count during it (default 0)",
    )
    add("--project", help=f"the {LABEL_PROJECT} label")
    add("--resource", help=f"the {LABEL_RESOURCE} label")
    add("-w", "--workdir", help="working directory inside the container")
    add("--entrypoint", help="replace the image's entrypoint (one executable)")
    add("-t", "--tty", action="store_true", help="allocate a TTY")
    add(
        "--wait-timeout",
        type=duration,
        default=timedelta(seconds=60),
        metavar="DURATION",
        help="how long to wait until healthy (default 60s)",
    )
    add("image", metavar="IMAGE")
    add("command", nargs=argparse.REMAINDER, metavar="COMMAND", help="replaces the image's CMD")


# -- running -----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, *, client_factory: ClientFactory | None = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), run the command, return the exit status."""
    args = _parse(argv)
    if args is None:
        return 1
    try:
        return anyio.run(
            functools.partial(run, args, client_factory=client_factory),
            backend=args.backend or "asyncio",
        )
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


async def amain(argv: Sequence[str], *, client_factory: ClientFactory | None = None) -> int:
    """:func:`main` for callers already in an event loop (asyncio or trio)."""
    args = _parse(argv)
    if args is None:
        return 1
    return await run(args, client_factory=client_factory)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace | None:
    """The parsed arguments, or ``None`` once a usage error has been printed (one line)."""
    try:
        return build_parser().parse_args(argv)
    except UsageError as exc:
        Console().error(str(exc))
        return None


async def run(args: argparse.Namespace, *, client_factory: ClientFactory | None = None) -> int:
    """Run parsed arguments; an error is printed as one line and gives exit status 1."""
    console = Console()
    factory = client_factory or _factory_for(args)
    try:
        if args.command == "context":
            return await cmd_context(args, console, factory)
        handler: Handler = args.handler
        async with factory(args.host) as docker:
            return await handler(args, docker, console)
    except (DockerError, ContainerRuntimeError, CommandError) as exc:
        if args.debug:
            raise
        console.error(_explain(exc, args))
        return 1
    except BrokenPipeError:
        return 0  # the reader went away (`logs | head`): nothing more to say


def _factory_for(args: argparse.Namespace) -> ClientFactory:
    if getattr(args, "replay", False):
        return replay_client
    if getattr(args, "record", None):
        return recording_client(args.record)
    return functools.partial(default_client, context=args.context)


def follow_up(args: argparse.Namespace, *words: str) -> str:
    """A command line to suggest, with the ``--host`` or ``--context`` in use:
    ```lightshuttle-runtime ...````."""
    host = ["--host", args.host] if args.host else []
    if getattr(args, "context", None):
        host = ["--context", args.context]
    return "`" + shlex.join([PROG, *words[:1], *host, *words[1:]]) + "`"


#: An engine's 404 for a missing container, on a ``/containers/{name}/...`` path (Docker:
#: "No such container: x"; Podman: "no container with name or ID "x" found: no such container").
_CONTAINER_PATH = re.compile(r"^(?:/v[\d.]+)?/containers/(?P<name>[^/?]+)")
_NO_SUCH_CONTAINER = re.compile(r"no such container", re.IGNORECASE)


def _explain(exc: Exception, args: argparse.Namespace) -> str:
    if (
        isinstance(exc, NotFoundError)
        and not isinstance(exc, EndpointNotFoundError)
        and _NO_SUCH_CONTAINER.search(exc.message)
        and (found := _CONTAINER_PATH.match(exc.path or ""))
    ):
        # every command words a missing container alike (the runtime's ContainerNotFoundError)
        return f"no container {urllib.parse.unquote(found['name'])!r}"
    text = " ".join(str(exc).split())
    if isinstance(exc, EngineConnectError | DockerConnectionError):
        text = f"cannot reach the engine: {text}"
        if args.command == "demo":
            text += f"; or try `{PROG} demo --replay`"
    return text


Handler = Callable[[argparse.Namespace, DockerClient, "Console"], Awaitable[int]]


class Console:
    """Where commands print: results and steps on stdout, progress and errors on stderr."""

    def __init__(self) -> None:
        self.out: TextIO = sys.stdout
        self.err: TextIO = sys.stderr
        self.ok, self.bad = ("✔", "✘") if _can_encode(self.out, "✔✘│↓") else ("ok", "x")
        self.bar, self.down = ("│", "↓") if self.ok == "✔" else ("|", "v")

    def print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def step(self, text: str, started: float) -> None:
        """``✔ <text> in 0.21 s``, ``started`` being a :func:`time.perf_counter` value."""
        self.print(f"{self.ok} {text} in {time.perf_counter() - started:.2f} s")

    def note(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def error(self, text: str) -> None:
        print(f"{PROG}: error: {text}", file=self.err, flush=True)

    def pull_progress(self, image: str) -> Callable[[ProgressMessage], None]:
        """A pull progress callback: one stderr line per layer and status (not one per
        progress-bar update), after a first line naming ``image``."""
        from ._cli_registry import PlainProgressView

        view = PlainProgressView(self.err, prefix=f"  {self.down} ")
        started: list[bool] = []

        def show(message: ProgressMessage) -> None:
            if not started:
                self.note(f"{self.down} pulling {image} (not on the engine yet)")
                started.append(True)
            view.show(message)

        return show

    def write_chunk(self, chunk: LogChunk, prefix: bytes = b"") -> None:
        """A log chunk's bytes, unchanged, to stdout or stderr."""
        from .runtime import LogStream

        stream = self.out if chunk.stream is LogStream.STDOUT else self.err
        data = prefix + chunk.data
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            stream.flush()
            buffer.write(data)
            buffer.flush()
        else:
            stream.write(data.decode("utf-8", "replace"))
            stream.flush()


def _can_encode(stream: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def describe(status: ContainerStatus) -> str:
    """``healthy``, ``unhealthy``, ``running``, ``starting`` or ``stopped (exit code N)``."""
    return str(status)


def engine_name(version: SystemVersion) -> str:
    """``Docker Engine 20.10.24`` or ``Podman Engine 4.3.1``."""
    names = [component.name for component in version.components or []]
    kind = "Podman Engine" if "Podman Engine" in names else "Docker Engine"
    return f"{kind} {version.version}"


def engine_from_server(server: str | None) -> str:
    """The engine named by a ``Server`` header: ``Docker/20.10.24 (linux)`` gives
    ``Docker Engine 20.10.24``, ``Libpod/4.3.1 (linux)`` gives ``Podman Engine 4.3.1``."""
    product, _, rest = (server or "").partition("/")
    kind = {"Docker": "Docker Engine", "Libpod": "Podman Engine"}.get(product, product)
    return " ".join(part for part in (kind or "an engine", rest.split(" ")[0]) if part)


# -- commands ----------------------------------------------------------------------------------


async def cmd_version(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """``GET /version`` and the negotiated API version."""
    version = await docker.system.version()
    negotiated = await docker.api_version()
    console.print(f"client:  {PROG} {__version__} (API {API_VERSION_MIN} to {API_VERSION_MAX})")
    console.print(
        f"engine:  {engine_name(version)} (API {version.api_version}, "
        f"minimum {version.min_api_version or 'unknown'}) {version.os}/{version.arch}"
    )
    console.print(f"API:     {negotiated}")
    console.print(f"host:    {docker.address.url} (from {docker.address.source})")
    return 0


async def cmd_context(args: argparse.Namespace, console: Console, factory: ClientFactory) -> int:
    """Which engine: :func:`find_engine`'s answer and its reasons, then a ``GET /_ping``
    (exit status 1 when the engine does not answer)."""
    address = find_engine(args.host, context=args.context)
    console.print(f"engine:  {address.display}")
    console.print(f"source:  {address.source}")
    if address.context:
        console.print(f"context: {address.context}")
    if address.tls is not None:
        tls = address.tls
        for label, path in (("ca", tls.ca), ("cert", tls.cert), ("key", tls.key)):
            console.print(f"tls {label}:{' ' * (5 - len(label))}{path or '-'}")
    console.print("why:")
    for line in address.why:
        console.print(f"  {line}")
    async with factory(args.host) as docker:
        started = time.perf_counter()
        info = await docker.system.ping()
        elapsed = (time.perf_counter() - started) * 1000
    console.print(
        f"{console.ok} {engine_from_server(info.server)} answers GET /_ping "
        f"(API {info.api_version or 'unknown'}) in {elapsed:.1f} ms"
    )
    return 0


async def cmd_ps(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """``GET /containers/json`` filtered on the ``lightshuttle.project`` label."""
    label = LABEL_PROJECT
    if args.project:
        from .runtime._projects import check_project

        label = f"{LABEL_PROJECT}={check_project(args.project)}"
    found = await docker.containers.list(all_=args.all, filters={"label": [label]})
    rows = [("CONTAINER ID", "NAME", "IMAGE", "PROJECT", "RESOURCE", "STATUS")]
    for item in found:
        labels = item.labels or {}
        rows.append(
            (
                item.id[:12],
                ",".join(name.lstrip("/") for name in item.names or []),
                item.image or "",
                labels.get(LABEL_PROJECT, ""),
                labels.get(LABEL_RESOURCE, ""),
                item.status or item.state or "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        console.print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


async def cmd_run(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """Start a container from the arguments, wait until healthy, print its id."""
    from .runtime import ContainerSpec, DockerRuntime, HealthcheckSpec

    check = None
    if args.health_cmd:
        check = HealthcheckSpec(
            test=args.health_cmd,
            interval=args.health_interval,
            timeout=args.health_timeout,
            retries=args.health_retries,
            start_period=args.health_start_period,
        )
    spec = ContainerSpec(
        name=args.name,
        image=args.image,
        project=args.project,
        resource=args.resource,
        env=dict(args.env),
        ports=args.publish,
        volumes=args.volume,
        command=args.command or None,
        entrypoint=[args.entrypoint] if args.entrypoint is not None else None,
        working_dir=args.workdir,
        healthcheck=check,
        tty=args.tty,
    )
    runtime = DockerRuntime(docker, on_pull_progress=console.pull_progress(args.image))
    container = await runtime.start(spec)
    try:
        await runtime.wait_healthy(container, args.wait_timeout)
    except (ContainerExitedError, ContainerUnhealthyError, OperationTimedOut) as exc:
        raise CommandError(
            f"{exc}; {args.name} is left in place: {follow_up(args, 'logs', args.name)} shows "
            "its output"
        ) from exc
    console.print(container)
    return 0


async def cmd_logs(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """Copy a container's stdout to stdout and its stderr to stderr."""
    from .runtime import ContainerId, DockerRuntime, LogStream

    runtime = DockerRuntime(docker)
    at_line_start = {LogStream.STDOUT: True, LogStream.STDERR: True}
    if args.tail is not None and args.tail < 0:
        raise UsageError(f"--tail must not be negative (got {args.tail})")
    logs = runtime.logs(ContainerId(args.name), args.follow, tail=args.tail, since=args.since)
    async with logs:
        async for chunk in logs:
            prefix = b""
            if args.timestamps and at_line_start[chunk.stream]:
                prefix = chunk.timestamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ ").encode()
            at_line_start[chunk.stream] = chunk.data.endswith(b"\n")
            console.write_chunk(chunk, prefix)
    return 0


async def cmd_build(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """Build the context, showing each step on stderr; print the image id on stdout."""
    from ._cli_build import PlainBuildView, TtyBuildView

    tty = args.progress == "tty" or (args.progress == "auto" and console.err.isatty())
    view = (
        TtyBuildView(console.err, ok=console.ok, bad=console.bad)
        if tty
        else PlainBuildView(console.err)
    )
    stream = docker.build_events(
        args.build_context,
        dockerfile=args.file,
        tags=args.tag,
        buildargs=dict(args.build_arg) or None,
        labels=dict(args.label) or None,
        target=args.target,
        network_mode=args.network,
        platform=args.platform,
        nocache=args.no_cache,
        pull=args.pull,
        forcerm=True,
        builder=args.builder,
    )
    try:
        async with stream:
            async for event in stream:
                view.show(event)
    finally:
        view.close()
    if view.image_id is None:
        raise CommandError("the engine reported no image id")
    console.print(view.image_id)
    return 0


async def cmd_stop(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """Stop each container (already stopped is fine; a missing one is said, and fine)."""
    if args.time < 0:
        raise UsageError(f"-t must not be negative (got {args.time:g})")
    for name in args.names:
        try:
            await docker.containers.stop(name, t=args.time)
        except NotFoundError:
            console.note(f"{PROG}: no container {name!r}: nothing to stop")
            continue
        console.print(name)
    return 0


async def cmd_rm(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """Remove each container, forced, with its anonymous volumes (a missing one is said, and
    fine)."""
    for name in args.names:
        try:
            await docker.containers.remove(name, force=True, v=True)
        except NotFoundError:
            console.note(f"{PROG}: no container {name!r}: nothing to remove")
            continue
        console.print(name)
    return 0


async def cmd_down(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """Remove every container of a project (forced), then its network."""
    from .runtime import DockerRuntime
    from .runtime._projects import check_project

    runtime = DockerRuntime(docker)
    found = await runtime.list_managed(check_project(args.project))
    for container in found:
        await runtime.remove(container.id)
        console.print(container.name)
    await runtime.teardown_project_network(args.project)
    if not found:
        console.note(f"{PROG}: project {args.project!r} has no containers")
    return 0


async def cmd_inspect(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """Print the container's status, or its inspect answer as JSON."""
    import msgspec

    from .runtime import ContainerId, DockerRuntime

    if args.format == "json":
        try:
            info = await docker.containers.inspect(args.name)
        except NotFoundError:
            raise CommandError(f"no container {args.name!r}") from None
        console.print(msgspec.json.format(msgspec.json.encode(info), indent=2).decode())
    else:
        console.print(describe(await DockerRuntime(docker).inspect(ContainerId(args.name))))
    return 0


async def _remove_demo_leftover(docker: DockerClient, runtime: DockerRuntime, name: str) -> None:
    """Remove a container an interrupted demo left behind; refuse to touch anyone else's."""
    try:
        info = await docker.containers.inspect(name)
    except NotFoundError:
        return
    labels = info.config.labels or {}
    if labels.get(LABEL_PROJECT) != DEMO_PROJECT:
        raise CommandError(
            f"a container named {name!r} already exists and the demo did not make it; "
            "choose another --name (the demo never removes containers it did not start)"
        )
    await runtime.remove(name)


def _check_replay_options(args: argparse.Namespace) -> None:
    changed = [
        flag
        for flag, value, default in (
            ("--host", args.host, None),
            ("--context", args.context, None),
            ("--image", args.image, DEMO_IMAGE),
            ("--name", args.name, DEMO_NAME),
            ("--lines", args.lines, DEMO_LINES),
        )
        if value != default
    ]
    if changed:
        raise CommandError(
            f"--replay plays the recorded demo as it was recorded; {', '.join(changed)} "
            "cannot change it (drop them, or run the demo against an engine)"
        )


async def cmd_demo(args: argparse.Namespace, docker: DockerClient, console: Console) -> int:
    """The main job in one command, each step timed."""
    from .runtime import ContainerSpec, DockerRuntime

    if args.lines < 1:
        raise CommandError(f"--lines must be at least 1 (got {args.lines})")
    if args.replay:
        _check_replay_options(args)
    begun = time.perf_counter()
    ping = await docker.system.ping()  # not GET /version: Podman takes a second to answer it
    where = "replaying a recording of" if args.replay else "connected to"
    console.step(
        f"{where} {engine_from_server(ping.server)} at {docker.address.url} "
        f"(API {await docker.api_version()})",
        begun,
    )
    runtime = DockerRuntime(docker, on_pull_progress=console.pull_progress(args.image))
    await _remove_demo_leftover(docker, runtime, args.name)
    network = project_network_name(DEMO_PROJECT)
    spec = ContainerSpec(
        name=args.name,
        image=args.image,
        project=DEMO_PROJECT,
        resource="ticker",
        command=["sh", "-c", DEMO_SCRIPT],
        healthcheck=demo_check(),
    )
    started = time.perf_counter()
    container = await runtime.start(spec)
    console.step(
        f"started {args.name} ({container[:12]}) from {args.image} on network {network}", started
    )
    try:
        await _demo_body(args, runtime, container, console)
    finally:
        with anyio.CancelScope(shield=True):
            removing = time.perf_counter()
            await runtime.remove(args.name)
            await runtime.teardown_project_network(DEMO_PROJECT)
            console.step(f"removed {args.name} and its network {network}", removing)
    console.print(f"{console.ok} demo complete in {time.perf_counter() - begun:.2f} s")
    return 0


async def _demo_body(
    args: argparse.Namespace, runtime: DockerRuntime, container: ContainerId, console: Console
) -> None:
    from .runtime import Stopped

    waiting = time.perf_counter()
    await runtime.wait_healthy(container, timedelta(seconds=DEMO_HEALTH_LIMIT))
    console.step(f"{args.name} is healthy", waiting)

    following = time.perf_counter()
    lines = 0
    with anyio.move_on_after(DEMO_FOLLOW_LIMIT):
        async with runtime.logs(container, follow=True) as logs:
            async for chunk in logs:
                when = chunk.timestamp.strftime("%H:%M:%S.%f")[:-3]
                text = chunk.data.decode("utf-8", "replace").rstrip("\r\n")
                console.print(f"    {console.bar} {when} {chunk.stream:6} {text}")
                lines += chunk.data.count(b"\n")
                if lines >= args.lines:
                    break
    if lines < args.lines:
        raise CommandError(
            f"{args.name} printed {lines} of {args.lines} log lines in {DEMO_FOLLOW_LIMIT:g} s"
        )
    console.step(f"followed {lines} log lines", following)

    stopping = time.perf_counter()
    await runtime.stop(container, timedelta(seconds=10))
    status = await runtime.inspect(container)
    detail = f"exit code {status.exit_code}" if isinstance(status, Stopped) else describe(status)
    console.step(f"stopped {args.name} ({detail})", stopping)

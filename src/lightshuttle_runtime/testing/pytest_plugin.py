"""The pytest plugin: cassettes for tests of container code. **Opt-in**: nothing loads it by itself.

Installing the package changes no one's pytest (it has no ``pytest11`` entry point). Enable it
where it is wanted, in the root ``conftest.py``::

    pytest_plugins = ["lightshuttle_runtime.testing.pytest_plugin"]

or with ``-p lightshuttle_runtime.testing.pytest_plugin`` (on the command line or in
``addopts``). Its names are its own, so it sits beside pytest-recording or pytest-vcr (whose
option is ``--record-mode`` / ``--vcr-record``, marker ``vcr``) and pytest-docker-tools (whose
fixture is ``docker_client``):

- ``--docker-record-mode={none,once,new_episodes,all}`` (default ``none``: replay only).
- ``@pytest.mark.docker_cassette("name", record_mode=None, allow_unplayed=False, pace=None,
  rechunk=None, secrets=())``: all optional. The cassette defaults to
  ``<test dir>/cassettes/<module>/<test name>.json`` (next to the test file); a relative name
  is taken under ``<test dir>/cassettes/`` (``.json`` added when missing). The test name keeps
  its parameters except ``anyio_backend``: a test records once and replays on asyncio and trio
  alike.
- Fixtures: ``docker_cassette`` (the :class:`CassetteTransport`), ``docker_cassette_client``
  (a :class:`~lightshuttle_runtime.DockerClient` on it; recording goes to the engine at
  ``DOCKER_HOST``) and ``docker_cassette_runtime`` (a ``DockerRuntime`` on that client). The
  async fixtures need the anyio plugin (mark the test ``@pytest.mark.anyio``).

At the end of a test that passed, a recording cassette is saved and a replaying one must have
played every interaction (``allow_unplayed=True`` lifts that). A failed test saves nothing.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import httpx
import pytest

from ._redaction import Redactor
from ._transport import RECORD_MODES, CassetteTransport, RecordMode, TransportSource

if TYPE_CHECKING:
    from lightshuttle_runtime import DockerClient
    from lightshuttle_runtime.runtime import DockerRuntime

__all__ = [
    "MARKER",
    "RECORD_MODE_OPTION",
    "CassetteOptions",
    "cassette_options",
    "cassette_test_name",
    "default_cassette_path",
    "docker_cassette",
    "docker_cassette_client",
    "docker_cassette_runtime",
    "finish_cassette",
    "record_mode",
]

#: The marker's name, and the command-line option of the record mode.
MARKER = "docker_cassette"
RECORD_MODE_OPTION = "--docker-record-mode"

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
_UNSAFE = re.compile(r"[^\w.=+,@-]")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lightshuttle-runtime", "cassettes (lightshuttle_runtime.testing)")
    group.addoption(
        RECORD_MODE_OPTION,
        dest="lightshuttle_record_mode",
        default="none",
        choices=RECORD_MODES,
        help="cassette record mode: none (replay only, default), once (record missing "
        "cassettes), new_episodes (record unknown requests), all (re-record everything)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(name=None, *, record_mode=None, allow_unplayed=False, pace=None, "
        "rechunk=None, secrets=()): the cassette the `docker_cassette`/`docker_cassette_client` "
        "fixtures replay or record "
        "(lightshuttle_runtime.testing)",
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@dataclass(frozen=True, slots=True)
class CassetteOptions:
    """The ``docker_cassette`` marker's arguments."""

    name: str | None = None
    record_mode: RecordMode | None = None
    allow_unplayed: bool = False
    pace: float | None = None
    rechunk: int | None = None
    secrets: tuple[str, ...] = ()


def cassette_options(item: pytest.Item) -> CassetteOptions:
    """The options of the nearest ``docker_cassette`` marker (defaults when there is none)."""
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return CassetteOptions()
    kwargs = dict(marker.kwargs)
    kwargs["secrets"] = tuple(kwargs.get("secrets", ()))
    try:
        return CassetteOptions(*marker.args, **kwargs)
    except TypeError as exc:
        raise pytest.UsageError(
            f"{item.nodeid}: bad @pytest.mark.{MARKER} arguments: {exc}"
        ) from None


def record_mode(config: pytest.Config, options: CassetteOptions | None = None) -> RecordMode:
    """The marker's record mode, else ``--docker-record-mode``."""
    if options is not None and options.record_mode is not None:
        return options.record_mode
    # The default covers a conftest that asks while this plugin is not loaded (-p no:...).
    return cast(RecordMode, config.getoption("lightshuttle_record_mode", default="none"))


def cassette_test_name(
    item: pytest.Item, *, exclude: Iterable[str] = ("anyio_backend",), extra: Iterable[str] = ()
) -> str:
    """A file-safe name for ``item``: ``TestClass.test_name[param-...]``, without the
    parameters named in ``exclude``, with ``extra`` ids appended."""
    parts = item.nodeid.split("::")[1:] or [item.name]
    parts[-1] = getattr(item, "originalname", parts[-1].partition("[")[0])
    name = _UNSAFE.sub("_", ".".join(parts))
    callspec = getattr(item, "callspec", None)
    ids: list[str] = []
    if callspec is not None:
        skipped = set(exclude)
        for argname, value in callspec.params.items():
            if argname not in skipped:
                ids.append(_param_id(argname, value, callspec.indices.get(argname, 0)))
    ids.extend(extra)
    if ids:
        name += "[" + _UNSAFE.sub("_", "-".join(ids)) + "]"
    return name


def default_cassette_path(item: pytest.Item, name: str | None = None) -> Path:
    """``<test dir>/cassettes/<module>/<test name>.json``, or ``name`` under
    ``<test dir>/cassettes/`` (absolute names are kept)."""
    base = item.path.parent / "cassettes"
    if name is None:
        return base / item.path.stem / f"{cassette_test_name(item)}.json"
    path = Path(name)
    if not path.is_absolute():
        path = base / path
    return path if path.suffix == ".json" else path.with_name(path.name + ".json")


def finish_cassette(
    item: pytest.Item, transport: CassetteTransport, *, allow_unplayed: bool = False
) -> None:
    """At the end of a test that passed: save a recording cassette, or check that a replaying
    one played everything (unless ``allow_unplayed``)."""
    report = item.stash.get(_REPORTS, {}).get("call")
    if report is None or not report.passed:
        return
    if transport.recording:
        transport.save()
    elif not allow_unplayed:
        transport.assert_all_played()


def engine_transport() -> TransportSource:
    """What records: the client's own transport to the engine at ``DOCKER_HOST``."""

    def make() -> httpx.AsyncBaseTransport:
        from lightshuttle_runtime import DockerClient

        return DockerClient().transport

    return make


@pytest.fixture
def docker_cassette(request: pytest.FixtureRequest) -> Iterator[CassetteTransport]:
    """The test's :class:`CassetteTransport` (see the module docstring for naming and modes)."""
    options = cassette_options(request.node)
    transport = CassetteTransport(
        default_cassette_path(request.node, options.name),
        record_mode=record_mode(request.config, options),
        transport=engine_transport(),
        redactor=Redactor(secrets=options.secrets),
        pace=options.pace,
        rechunk=options.rechunk,
        save_on_close=False,
    )
    yield transport
    finish_cassette(request.node, transport, allow_unplayed=options.allow_unplayed)


@pytest.fixture
async def docker_cassette_client(
    docker_cassette: CassetteTransport,
) -> AsyncIterator[DockerClient]:
    """A :class:`~lightshuttle_runtime.DockerClient` whose every request goes to
    ``docker_cassette``."""
    from lightshuttle_runtime import DockerClient

    async with DockerClient(_named_host(), transport=docker_cassette) as client:
        yield client


@pytest.fixture
async def docker_cassette_runtime(docker_cassette_client: DockerClient) -> DockerRuntime:
    """A ``DockerRuntime`` on ``docker_cassette_client``."""
    from lightshuttle_runtime.runtime import DockerRuntime

    return DockerRuntime(docker_cassette_client)


def _named_host() -> str | None:
    """``DOCKER_HOST`` when the client can use it, else the default (it only names the socket
    in messages: the cassette does the talking)."""
    from lightshuttle_runtime import DockerError, resolve_host

    try:
        resolve_host()
    except DockerError:
        return "unix:///var/run/docker.sock"
    return None


def _param_id(argname: str, value: object, index: int) -> str:
    if value is None or isinstance(value, str | int | float | bool):
        return str(value)
    return f"{argname}{index}"

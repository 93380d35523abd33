"""The transport conformance suite, run on every built-in transport and on cassettes.

Each behaviour of :data:`TRANSPORT_CHECKS` runs against:

- ``native``: our HTTP/1.1 transport (``DockerClient(transport_kind="native")``'s);
- ``native-generic-stream``: the native transport over a connector returning anyio's own
  socket stream (the generic path every connector but the Unix one takes);
- ``httpx``: httpx's stock ``AsyncHTTPTransport(uds=...)`` (``transport_kind="httpx"``'s);
- ``cassette-record``: a :class:`CassetteTransport` recording through the native transport;
- ``cassette-replay``: the same behaviour replayed from what ``cassette-record`` recorded
  (only the behaviours that apply to a replay: :attr:`TransportCheck.replay`).

A behaviour that fails because of a known fault of a transport is marked ``xfail(strict=True)``
in :data:`KNOWN_FAULTS` with the reason, so that it flips to a failure once the fault is fixed.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from anyio.abc import ByteStream

from lightshuttle_runtime import DockerClient
from lightshuttle_runtime._transports import Connector, NativeTransport
from lightshuttle_runtime.testing import (
    TRANSPORT_CHECKS,
    CassetteTransport,
    TransportCheck,
    TransportConformanceError,
    TransportFactory,
    check_transport,
)

pytestmark = pytest.mark.anyio


def built_in(kind: str) -> TransportFactory:
    """The transport ``DockerClient(transport_kind=kind)`` builds for a socket path."""

    def make(path: str) -> httpx.AsyncBaseTransport:
        return DockerClient(f"unix://{path}", transport_kind=kind).transport  # type: ignore[arg-type]

    return make


#: (transport, check name) -> why it fails today; strict: it must flip once fixed. Empty: every
#: built-in transport shows every behaviour (a new fault found goes here, with its reason).
KNOWN_FAULTS: dict[tuple[str, str], str] = {}

#: The same, on trio only.
KNOWN_TRIO_FAULTS: dict[tuple[str, str], str] = {}


class AnyioUnixConnector:
    """A connector through anyio's own Unix-socket stream: the native transport's generic path
    (any connector's anyio byte stream), which tcp, TLS and ssh connectors take too."""

    def __init__(self, path: str) -> None:
        self.path = path

    @property
    def address(self) -> str:
        return f"unix://{self.path}"

    async def connect(self) -> ByteStream:
        return await anyio.connect_unix(self.path)


def generic_native(path: str) -> httpx.AsyncBaseTransport:
    return NativeTransport(AnyioUnixConnector(path))


TRANSPORTS = ["native", "native-generic-stream", "httpx", "cassette-record"]
#: A recording cassette refuses upgraded connections (CassetteError: they cannot be recorded).
NOT_RECORDABLE = ("upgrade-101", "unexpected-101-request", "unexpected-101-stream")


def cases() -> Iterator[object]:
    for transport, check in itertools.product(TRANSPORTS, TRANSPORT_CHECKS):
        if transport == "cassette-record" and check.name in NOT_RECORDABLE:
            continue
        yield case(transport, check)
    for check in TRANSPORT_CHECKS:
        if check.replay:
            yield case("cassette-replay", check)


def case(transport: str, check: TransportCheck) -> object:
    return pytest.param(transport, check, id=f"{transport}-{check.name}")


def mark_known_fault(request: pytest.FixtureRequest, transport: str, check: str) -> None:
    reason = KNOWN_FAULTS.get((transport, check))
    if reason is None and request.node.funcargs.get("anyio_backend") == "trio":
        reason = KNOWN_TRIO_FAULTS.get((transport, check))
    if reason is not None:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


class Cassettes:
    """Cassette factories for one check: recording through the native transport, then replay.

    Each client the check builds gets its own cassette file, numbered in creation order; the
    replay run builds its clients in the same order and so gets the same files back.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _numbered(self, build: Callable[[Path, str], httpx.AsyncBaseTransport]) -> TransportFactory:
        counter = itertools.count()

        def make(path: str) -> httpx.AsyncBaseTransport:
            return build(self.folder / f"client-{next(counter)}.json", path)

        return make

    def recording(self) -> TransportFactory:
        return self._numbered(
            lambda file, path: CassetteTransport(
                file, record_mode="all", transport=built_in("native")(path)
            )
        )

    def replaying(self) -> TransportFactory:
        return self._numbered(lambda file, _path: CassetteTransport(file))


@pytest.fixture
def cassettes() -> Iterator[Cassettes]:
    folder = Path(tempfile.mkdtemp(prefix="ls-conf-cassettes-"))
    yield Cassettes(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize(("transport", "check"), list(cases()))
async def test_transport_conformance(
    transport: str, check: TransportCheck, cassettes: Cassettes, request: pytest.FixtureRequest
) -> None:
    mark_known_fault(request, transport, check.name)
    if transport in ("native", "httpx"):
        await check(built_in(transport))
    elif transport == "native-generic-stream":
        await check(generic_native)
    elif transport == "cassette-record":
        await check(cassettes.recording())
    else:
        await check(cassettes.recording())
        await check(cassettes.replaying(), engine_observed=False)


async def test_check_transport_runs_every_behaviour_and_names_the_failures() -> None:
    """A transport that answers every request with the same JSON fails most behaviours, and
    :func:`check_transport` lists each of them by name (the suite can fail)."""

    class Constant(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json={"Id": "c0ffee"}, request=request)

    chosen = [
        check
        for check in TRANSPORT_CHECKS
        if check.name
        in (
            "ordinary-request",
            "error-statuses",
            "malformed-garbage",
            "stream-cut-mid-length",
            "connect-failure",
        )
    ]
    with pytest.raises(TransportConformanceError) as caught:
        await check_transport(lambda _path: Constant(), checks=chosen)
    failed = {name for name, _exc in caught.value.failures}
    # the engine saw no request; no error status, no fault, no connect failure came through
    assert failed == {check.name for check in chosen}
    assert all(name in str(caught.value) for name in failed)


async def test_check_transport_passes_a_conforming_transport() -> None:
    await check_transport(
        built_in("native"), checks=[c for c in TRANSPORT_CHECKS if c.name.startswith("stream-")]
    )


def test_the_suite_covers_the_reliability_faults() -> None:
    names = {check.name for check in TRANSPORT_CHECKS}
    assert len(names) == len(TRANSPORT_CHECKS), "check names are unique"
    for needed in (
        "upgrade-101",
        "stray-bytes",
        "unexpected-101-stream",
        "stalled-request-timeout",
        "silent-stream-no-timeout",
        "cancel-while-reading",
        "engine-dies-mid-stream",
        "error-inside-200-stream",
        "malformed-status-line",
    ):
        assert needed in names


def test_a_connector_is_recognised_by_its_protocol() -> None:
    assert isinstance(AnyioUnixConnector("/x"), Connector)

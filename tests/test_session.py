"""The request machinery: version negotiation, request building, error mapping (``_session``).

No engine is needed: an ``httpx.MockTransport`` stands in for it at the transport seam, and
the connection-error tests use real (dead, missing or forbidden) Unix socket paths.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import anyio
import httpx
import msgspec
import pytest

from lightshuttle_runtime import (
    API_VERSION_MAX,
    API_VERSION_MIN,
    APIVersionError,
    BadRequestError,
    ConflictError,
    DecodeError,
    DockerClient,
    DockerConnectionError,
    DockerTimeout,
    EndpointNotFoundError,
    EngineError,
    NotFoundError,
    ServerError,
    SocketNotFoundError,
    SocketPermissionError,
)
from lightshuttle_runtime._config import Timeouts
from lightshuttle_runtime._session import HOST_PLACEHOLDER, EngineSession, encode_query

Handler = Callable[[httpx.Request], httpx.Response]


class FakeEngine:
    """Answers ``/_ping`` with ``api_version`` and everything else with ``answer``.

    Every request it sees is kept in :attr:`requests`.
    """

    def __init__(self, answer: Handler | None = None, *, api_version: str | None = "1.41") -> None:
        self.answer = answer or (lambda request: httpx.Response(200, json={}))
        self.api_version = api_version
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/_ping":
            headers = {"Api-Version": self.api_version} if self.api_version else {}
            return httpx.Response(200, headers=headers, text="OK")
        return self.answer(request)

    @property
    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]

    def session(self, **kwargs: object) -> EngineSession:
        return EngineSession(httpx.MockTransport(self), **kwargs)  # type: ignore[arg-type]


def answer_with(status: int, body: bytes | str | Mapping[str, object] = b"") -> Handler:
    def handler(_request: httpx.Request) -> httpx.Response:
        if isinstance(body, Mapping):
            return httpx.Response(status, json=dict(body))
        return httpx.Response(status, content=body)

    return handler


# -- version negotiation -------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("server", "chosen"),
    [
        ("1.41", "1.41"),
        ("1.43", "1.43"),
        (API_VERSION_MAX, API_VERSION_MAX),
        ("1.99", API_VERSION_MAX),
    ],
)
async def test_negotiates_the_lower_of_client_max_and_server(server: str, chosen: str) -> None:
    engine = FakeEngine(api_version=server)
    session = engine.session()
    assert await session.api_version() == chosen
    assert session.server_api_version == server
    await session.send("GET", "/version")
    assert engine.paths == ["/_ping", f"/v{chosen}/version"]


@pytest.mark.anyio
async def test_versions_compare_as_numbers_not_text() -> None:
    # "1.9" > "1.41" as text; as versions it is older than the client's minimum
    session = FakeEngine(api_version="1.9").session()
    with pytest.raises(APIVersionError) as caught:
        await session.api_version()
    error = caught.value
    assert (error.client_version, error.server_version) == (API_VERSION_MIN, "1.9")
    assert (error.status, error.method, error.path) == (400, "GET", "/_ping")
    assert "1.9" in error.message and API_VERSION_MIN in error.message


@pytest.mark.anyio
async def test_engine_below_client_minimum_fails_every_request() -> None:
    engine = FakeEngine(api_version="1.40")
    session = engine.session()
    with pytest.raises(APIVersionError):
        await session.send("GET", "/containers/json")
    assert "/containers/json" not in " ".join(engine.paths)


@pytest.mark.anyio
async def test_engine_without_api_version_header_gets_the_client_minimum() -> None:
    engine = FakeEngine(api_version=None)
    session = engine.session()
    assert await session.api_version() == API_VERSION_MIN
    assert session.server_api_version is None


@pytest.mark.anyio
async def test_negotiates_once_for_concurrent_first_requests() -> None:
    engine = FakeEngine(api_version="1.41")
    session = engine.session()
    async with anyio.create_task_group() as tasks:
        for _ in range(5):
            tasks.start_soon(session.send, "GET", "/version")
    assert engine.paths.count("/_ping") == 1
    assert engine.paths.count("/v1.41/version") == 5
    await session.send("GET", "/info")
    assert engine.paths.count("/_ping") == 1


@pytest.mark.anyio
async def test_pinned_version_skips_ping() -> None:
    engine = FakeEngine(api_version="1.41")
    session = engine.session(api_version="1.44")
    assert await session.api_version() == "1.44"
    await session.send("GET", "/version")
    assert engine.paths == ["/v1.44/version"]


@pytest.mark.anyio
async def test_unversioned_request_does_not_negotiate() -> None:
    engine = FakeEngine()
    session = engine.session()
    await session.send("GET", "/_ping", versioned=False)
    await session.send("GET", "/_ping", versioned=False)
    assert engine.paths == ["/_ping", "/_ping"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "client", "server"),
    [
        # Docker answers "too new" as JSON...
        (
            {"message": "client version 1.55 is too new. Maximum supported API version is 1.41"},
            "1.55",
            "1.41",
        ),
        # ...and "too old" as plain text (Docker 20.10, probed)
        (
            b"client version 1.10 is too old. Minimum supported API version is 1.12, "
            b"please upgrade your client to a newer version\n",
            "1.10",
            "1.12",
        ),
    ],
)
async def test_engine_version_rejection_is_an_api_version_error(
    body: bytes | dict[str, object], client: str, server: str
) -> None:
    session = FakeEngine(answer_with(400, body)).session(api_version=client)
    with pytest.raises(APIVersionError) as caught:
        await session.send("GET", "/version")
    error = caught.value
    assert (error.client_version, error.server_version) == (client, server)
    assert (error.status, error.method, error.path) == (400, "GET", f"/v{client}/version")
    assert error.message.startswith(f"client version {client} is too")
    assert isinstance(error, BadRequestError)


@pytest.mark.anyio
async def test_version_text_in_a_non_400_is_not_a_version_error() -> None:
    body = {"message": "client version 1.55 is too new. Maximum supported API version is 1.41"}
    session = FakeEngine(answer_with(500, body)).session()
    with pytest.raises(ServerError) as caught:
        await session.send("GET", "/version")
    assert not isinstance(caught.value, APIVersionError)


# -- error mapping -------------------------------------------------------------------------

PODMAN_NAME_IN_USE = {
    "cause": "that name is already in use",
    "message": 'container create: creating container storage: the container name "ls-test-x" is '
    "already in use by 3f2a. You have to remove that container to be able to reuse that name: "
    "that name is already in use",
    "response": 500,
}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "body", "error_type", "message"),
    [
        (400, {"message": "No command specified"}, BadRequestError, "No command specified"),
        (404, {"message": "No such container: x"}, NotFoundError, "No such container: x"),
        (
            404,
            {
                "cause": "no such container",
                "message": 'no container with name or ID "x" found: no such container',
                "response": 404,
            },
            NotFoundError,
            'no container with name or ID "x" found: no such container',
        ),
        (
            409,
            {"message": 'Conflict. The container name "/x" is already in use'},
            ConflictError,
            'Conflict. The container name "/x" is already in use',
        ),
        (500, PODMAN_NAME_IN_USE, ConflictError, PODMAN_NAME_IN_USE["message"]),
        (
            500,
            {
                "cause": "network already exists",
                "message": "network name x already exists",
                "response": 500,
            },
            ConflictError,
            "network name x already exists",
        ),
        (
            500,
            {
                "cause": "container state improper",
                "message": "can only kill running containers. 3f2a is in state exited: "
                "container state improper",
                "response": 500,
            },
            ConflictError,
            "can only kill running containers. 3f2a is in state exited: container state improper",
        ),
        (
            500,
            {"message": "driver failed programming external connectivity"},
            ServerError,
            "driver failed programming external connectivity",
        ),
        (503, {"message": "engine shutting down"}, ServerError, "engine shutting down"),
        (500, b"runtime: something broke\n", ServerError, "runtime: something broke"),
        (
            404,
            b"404 page not found\n",
            EndpointNotFoundError,
            "the engine does not implement POST /v1.41/containers/x/start (its router answered "
            "'404 page not found'); README's features-by-engine table lists what each engine "
            "lacks",
        ),
        (404, {"message": "No such container: x"}, NotFoundError, "No such container: x"),
        (404, b"", NotFoundError, "Not Found"),
        (500, b"", ServerError, "Internal Server Error"),
        (400, {"error": "no message field"}, BadRequestError, '{"error":"no message field"}'),
        (400, {"message": ""}, BadRequestError, '{"message":""}'),
        (418, {"message": "short and stout"}, EngineError, "short and stout"),
    ],
)
async def test_error_statuses_map_to_typed_errors(
    status: int,
    body: bytes | dict[str, object],
    error_type: type[EngineError],
    message: str,
) -> None:
    session = FakeEngine(answer_with(status, body)).session()
    with pytest.raises(EngineError) as caught:
        await session.send("POST", "/containers/x/start")
    error = caught.value
    assert type(error) is error_type
    assert (error.status, error.message) == (status, message)
    assert (error.method, error.path) == ("POST", "/v1.41/containers/x/start")
    assert str(error) == f"{status}: {message} (POST /v1.41/containers/x/start)"


@pytest.mark.anyio
async def test_error_body_of_a_stream_request_is_read() -> None:
    session = FakeEngine(answer_with(404, {"message": "No such container: x"})).session()
    with pytest.raises(NotFoundError, match="No such container: x"):
        await session.send("GET", "/containers/x/logs", stream=True, timeout=None)


@pytest.mark.anyio
async def test_stream_request_leaves_the_body_unread() -> None:
    async def chunks() -> object:
        yield b"one "
        yield b"two"

    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks())  # type: ignore[arg-type]

    session = FakeEngine(handler).session()
    response = await session.send("GET", "/events", stream=True, timeout=None)
    try:
        assert b"".join([chunk async for chunk in response.aiter_raw()]) == b"one two"
    finally:
        await response.aclose()


class Answer(msgspec.Struct):
    Id: str


@pytest.mark.anyio
async def test_request_json_decodes_and_sends_json() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["content-type"] == "application/json"
        assert request.content == b'{"Image":"busybox:local"}'
        return httpx.Response(201, json={"Id": "abc", "Warnings": []})

    engine = FakeEngine(handler)
    answer = await engine.session().request_json(
        "POST", "/containers/create", Answer, json={"Image": "busybox:local"}
    )
    assert answer == Answer(Id="abc")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "text"), [(b'{"Id": 7}', "does not match Answer"), (b"<html>", "not valid JSON")]
)
async def test_request_json_wrong_answer_is_a_decode_error(body: bytes, text: str) -> None:
    session = FakeEngine(answer_with(200, body)).session()
    with pytest.raises(DecodeError, match=text) as caught:
        await session.request_json("GET", "/containers/x/json", Answer)
    assert caught.value.endpoint == "GET /containers/x/json"


# -- transport failures --------------------------------------------------------------------


def raising(exc: Exception) -> Handler:
    def handler(_request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.mark.anyio
async def test_read_timeout_is_a_docker_timeout_with_the_limit() -> None:
    session = FakeEngine(raising(httpx.ReadTimeout("slow"))).session(
        timeouts=Timeouts(connect=2.0, request=7.5)
    )
    with pytest.raises(DockerTimeout) as caught:
        await session.send("GET", "/info")
    error = caught.value
    assert (error.timeout, error.method, error.path) == (7.5, "GET", "/v1.41/info")
    assert "7.5 s" in error.message
    assert isinstance(error.__cause__, httpx.ReadTimeout)


@pytest.mark.anyio
async def test_connect_timeout_reports_the_connect_limit() -> None:
    session = FakeEngine(raising(httpx.ConnectTimeout("slow"))).session(
        timeouts=Timeouts(connect=2.0, request=7.5)
    )
    with pytest.raises(DockerTimeout) as caught:
        await session.send("GET", "/info")
    assert caught.value.timeout == 2.0


@pytest.mark.anyio
async def test_broken_connection_is_a_connection_error() -> None:
    session = FakeEngine(raising(httpx.RemoteProtocolError("peer closed"))).session()
    with pytest.raises(DockerConnectionError, match="connection to the engine broke") as caught:
        await session.send("GET", "/info")
    assert (caught.value.method, caught.value.path) == ("GET", "/v1.41/info")


@pytest.mark.anyio
async def test_connect_error_without_a_socket_path_is_generic() -> None:
    transport = httpx.MockTransport(raising(httpx.ConnectError("refused")))
    session = EngineSession(transport, socket_path=None, api_version="1.41")
    with pytest.raises(DockerConnectionError, match="could not reach the engine: refused"):
        await session.send("GET", "/info")


@pytest.mark.anyio
async def test_missing_socket_names_the_path_and_where_the_address_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the hint names what chose the address: the argument (host=/--host), DOCKER_HOST...
    path = tmp_path / "missing.sock"
    async with DockerClient(f"unix://{path}") as client:
        with pytest.raises(SocketNotFoundError) as caught:
            await client.system.ping()
    error = caught.value
    assert str(path) in error.message and "given to the client (host=" in error.message
    assert "DOCKER_HOST" not in error.message
    assert (error.method, error.path) == ("GET", "/_ping")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    for source in ("DOCKER_HOST", "context", "CONTAINER_HOST", "default"):
        async with DockerClient() as client:
            client.address = client._session.address = replace(client.address, source=source)
            with pytest.raises(SocketNotFoundError) as caught:
                await client.system.ping()
        shown = {"default": "set DOCKER_HOST"}.get(source, f"came from {source}")
        assert shown.replace("context", "the Docker context") in caught.value.message, source
        assert "host=" not in caught.value.message


@pytest.mark.anyio
async def test_regular_file_instead_of_a_socket(tmp_path: Path) -> None:
    path = tmp_path / "engine.sock"
    path.write_text("not a socket")
    async with DockerClient(str(path)) as client:
        with pytest.raises(SocketNotFoundError, match="is not a socket") as caught:
            await client.system.version()
    assert str(path) in caught.value.message and "--host" in caught.value.message


@pytest.fixture
def dead_socket() -> Iterator[Path]:
    """A Unix socket file nobody listens on, in a directory every user may enter."""
    directory = Path(tempfile.mkdtemp(prefix="ls-test-sock-"))
    directory.chmod(0o755)
    path = directory / "engine.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
    try:
        yield path
    finally:
        path.unlink()
        directory.rmdir()


@pytest.mark.anyio
async def test_socket_nobody_listens_on_is_a_plain_connection_error(dead_socket: Path) -> None:
    async with DockerClient(f"unix://{dead_socket}") as client:
        with pytest.raises(DockerConnectionError) as caught:
            await client.system.ping()
    error = caught.value
    assert type(error) is DockerConnectionError
    assert f"could not connect to the engine at {dead_socket}" in error.message


# Run by a user who may not use the socket: a child process that drops root. Python lives
# under /root here, so the child first runs the whole failing path as root (connection
# refused), importing everything it needs, then drops to "nobody" and tries again.
PERMISSION_PROBE = textwrap.dedent(
    """
    import os, sys
    import anyio
    from lightshuttle_runtime import DockerClient, DockerError

    async def attempt() -> str:
        async with DockerClient("unix://" + sys.argv[1]) as client:
            try:
                await client.system.ping()
            except DockerError as exc:
                return type(exc).__name__ + "\\n" + exc.message
        return "no error"

    if os.geteuid() == 0:
        anyio.run(attempt)
        os.setgid(65534)
        os.setuid(65534)
    print(anyio.run(attempt))
    """
)


def test_socket_without_permission_is_a_permission_error(dead_socket: Path) -> None:
    dead_socket.chmod(0)
    if os.geteuid() != 0 and os.access(dead_socket, os.W_OK):
        pytest.skip("this user may use any socket")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    probe = subprocess.run(
        [sys.executable, "-c", PERMISSION_PROBE, str(dead_socket)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    kind, _, message = probe.stdout.partition("\n")
    assert kind == "SocketPermissionError", probe.stdout + probe.stderr
    assert f"permission denied on the engine socket {dead_socket}" in message


def test_permission_message_when_access_is_refused(
    dead_socket: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = EngineSession(httpx.MockTransport(FakeEngine()), socket_path=str(dead_socket))
    assert stat.S_ISSOCK(dead_socket.stat().st_mode)
    monkeypatch.setattr(os, "access", lambda *_args, **_kwargs: False)
    error = session.connection_error(PermissionError(13, "denied"), "GET", "/_ping")
    assert type(error) is SocketPermissionError
    assert str(dead_socket) in error.message and "docker" in error.message
    assert (error.method, error.path) == ("GET", "/_ping")


# -- request building ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_host_header_is_the_fixed_placeholder() -> None:
    engine = FakeEngine()
    session = engine.session()
    await session.send("GET", "/version")
    assert HOST_PLACEHOLDER == "docker"
    assert {request.headers["host"] for request in engine.requests} == {"docker"}


@pytest.mark.anyio
async def test_query_parameters_are_encoded_for_the_engine() -> None:
    engine = FakeEngine()
    await engine.session().send(
        "GET",
        "/containers/json",
        params={"all": True, "size": False, "limit": None, "filters": {"label": ["a=b"]}},
    )
    query = engine.requests[-1].url.params
    assert list(query.multi_items()) == [
        ("all", "1"),
        ("size", "0"),
        ("filters", '{"label":["a=b"]}'),
    ]


@pytest.mark.anyio
async def test_timeouts_go_into_the_request() -> None:
    engine = FakeEngine()
    session = engine.session(timeouts=Timeouts(connect=3.0, request=9.0))
    await session.send("GET", "/info")
    await session.send("GET", "/events", timeout=None, stream=True)
    ordinary, streaming = (request.extensions["timeout"] for request in engine.requests[-2:])
    assert ordinary == {"connect": 3.0, "read": 9.0, "write": 9.0, "pool": 9.0}
    assert streaming == {"connect": 3.0, "read": None, "write": None, "pool": None}


@pytest.mark.anyio
async def test_content_type_and_headers_are_sent() -> None:
    engine = FakeEngine()
    await engine.session().send(
        "POST",
        "/images/create",
        body=b"tar bytes",
        content_type="application/x-tar",
        headers={"X-Registry-Auth": "e30="},
    )
    request = engine.requests[-1]
    assert request.headers["content-type"] == "application/x-tar"
    assert request.headers["x-registry-auth"] == "e30="
    assert request.content == b"tar bytes"


def test_encode_query() -> None:
    assert encode_query(
        {
            "follow": True,
            "stderr": False,
            "tail": 10,
            "since": 1.5,
            "until": None,
            "name": "ls-test-web",
            "filters": {"label": ["a=b"], "status": ["running"]},
            "changes": ['CMD ["/bin/sh"]', "ENV A=1"],
            "t": ("x:1", "x:2"),
        }
    ) == [
        ("follow", "1"),
        ("stderr", "0"),
        ("tail", "10"),
        ("since", "1.5"),
        ("name", "ls-test-web"),
        ("filters", '{"label":["a=b"],"status":["running"]}'),
        ("changes", 'CMD ["/bin/sh"]'),
        ("changes", "ENV A=1"),
        ("t", "x:1"),
        ("t", "x:2"),
    ]


def test_encode_query_empty() -> None:
    assert encode_query({}) == []
    assert encode_query({"a": None, "b": []}) == []

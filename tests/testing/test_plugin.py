"""The pytest plugin, run the way a user runs it: pytest in a fresh directory (a subprocess).

The plugin is opt-in; these runs enable it with ``-p lightshuttle_runtime.testing.pytest_plugin``
(or ``pytest_plugins`` in a conftest) and leave out pytest-vcr, which refuses to run beside
pytest-recording (both are installed with the test extra; see test_plugin_neighbours.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lightshuttle_runtime.testing import load_cassette

from ..conftest import ENGINE_SOCKETS, engine_answers

PING = {"method": "GET", "path": "/_ping"}
PING_ANSWER = {
    "status": 200,
    "headers": [["Api-Version", "1.41"], ["Server", "Docker/20.10.24 (linux)"]],
    "chunks": [{"text": "OK"}],
}
HEADER = """
import pytest

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return request.param
"""


def cassette_text(*interactions: tuple[dict[str, object], dict[str, object]]) -> str:
    import json

    return json.dumps(
        {"version": 1, "interactions": [{"request": q, "response": a} for q, a in interactions]}
    )


PLUGIN = "lightshuttle_runtime.testing.pytest_plugin"


def run_pytest(
    directory: Path,
    *args: str,
    docker_host: str = "unix:///nonexistent/docker.sock",
    plugins: tuple[str, ...] = (PLUGIN, "no:vcr"),
) -> subprocess.CompletedProcess[str]:
    """pytest in ``directory``, with ``-p`` for each of ``plugins``."""
    env = {**os.environ, "DOCKER_HOST": docker_host}
    env.pop("PYTEST_ADDOPTS", None)
    loads = [arg for plugin in plugins for arg in ("-p", plugin)]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *loads, *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def write_test(directory: Path, body: str) -> None:
    (directory / "test_user.py").write_text(HEADER + textwrap.dedent(body))


def test_replays_a_cassette_at_the_default_path_on_both_backends(tmp_path: Path) -> None:
    write_test(
        tmp_path,
        """
        async def test_ping(docker_cassette_client):
            ping = await docker_cassette_client.system.ping()
            assert ping.api_version == "1.41"
        """,
    )
    cassette = tmp_path / "cassettes" / "test_user" / "test_ping.json"
    cassette.parent.mkdir(parents=True)
    cassette.write_text(cassette_text((PING, PING_ANSWER)))
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_marker_names_the_cassette_and_options(tmp_path: Path) -> None:
    write_test(
        tmp_path,
        """
        @pytest.mark.docker_cassette("shared/ping", allow_unplayed=True, rechunk=1)
        async def test_ping(docker_cassette_client, docker_cassette):
            assert docker_cassette.rechunk == 1
            assert docker_cassette.path.name == "ping.json"
            await docker_cassette_client.system.ping()

        @pytest.mark.docker_cassette("shared/ping")
        async def test_runtime(docker_cassette_runtime, docker_cassette_client):
            assert docker_cassette_runtime.client is docker_cassette_client
            await docker_cassette_client.system.ping()
        """,
    )
    cassette = tmp_path / "cassettes" / "shared" / "ping.json"
    cassette.parent.mkdir(parents=True)
    version = {"method": "GET", "path": "/v1.41/version"}
    cassette.write_text(cassette_text((PING, PING_ANSWER), (version, {"status": 500})))
    result = run_pytest(tmp_path, "-p", "no:randomly")
    assert result.returncode == 1, result.stdout + result.stderr
    # allow_unplayed: the first test passes; the second leaves #1 unplayed: an error at teardown.
    assert "4 passed, 2 errors" in result.stdout
    assert "UnplayedInteractionsError" in result.stdout
    assert "#1 GET /v1.41/version" in result.stdout


def test_missing_cassettes_and_unknown_requests_fail_clearly(tmp_path: Path) -> None:
    write_test(
        tmp_path,
        """
        async def test_missing(docker_cassette_client):
            pass

        @pytest.mark.docker_cassette("known")
        async def test_unknown(docker_cassette_client):
            await docker_cassette_client.containers.inspect("nope")
        """,
    )
    (tmp_path / "cassettes").mkdir()
    (tmp_path / "cassettes" / "known.json").write_text(cassette_text((PING, PING_ANSWER)))
    result = run_pytest(tmp_path)
    assert result.returncode == 1
    assert "CassetteNotFoundError" in result.stdout
    assert "test_missing.json does not exist" in result.stdout
    assert "UnmatchedRequestError: GET /v1.41/containers/nope/json" in result.stdout
    assert "Nearest recorded requests:" in result.stdout


def test_bad_marker_arguments_are_a_usage_error(tmp_path: Path) -> None:
    write_test(
        tmp_path,
        """
        @pytest.mark.docker_cassette("x", colour="red")
        async def test_x(docker_cassette):
            pass
        """,
    )
    result = run_pytest(tmp_path)
    assert result.returncode != 0
    assert "bad @pytest.mark.docker_cassette arguments" in result.stdout + result.stderr


@pytest.mark.live
def test_record_once_then_replay_without_an_engine(tmp_path: Path) -> None:
    socket_path = ENGINE_SOCKETS["docker"]
    if not engine_answers(socket_path):
        pytest.skip(f"docker engine not answering on {socket_path}")
    write_test(
        tmp_path,
        """
        async def test_version(docker_cassette_client):
            version = await docker_cassette_client.system.version()
            assert version.api_version == "1.41"
        """,
    )
    recorded = run_pytest(
        tmp_path, "--docker-record-mode=once", docker_host=f"unix://{socket_path}"
    )
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    path = tmp_path / "cassettes" / "test_user" / "test_version.json"
    paths = [i.request.path for i in load_cassette(path).interactions]
    assert paths == ["/_ping", "/v1.41/version"]
    replayed = run_pytest(tmp_path)  # DOCKER_HOST points nowhere now
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "2 passed" in replayed.stdout


def test_a_failed_test_saves_nothing(tmp_path: Path) -> None:
    write_test(
        tmp_path,
        """
        async def test_fails(docker_cassette):
            assert docker_cassette.recording
            assert False, "boom"
        """,
    )
    result = run_pytest(tmp_path, "--docker-record-mode=all")
    assert result.returncode == 1
    assert not (tmp_path / "cassettes").exists()

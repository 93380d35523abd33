"""Installing us breaks no one's pytest: the plugin beside pytest-recording, pytest-vcr and
pytest-docker-tools (all three come with the test extra).

pytest-recording and pytest-vcr refuse to run together, so each run leaves one of them out
(``-p no:vcr`` / ``-p no:recording``), as a project that uses either has only that one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import ENGINE_SOCKETS, engine_answers
from .test_plugin import PING, PING_ANSWER, PLUGIN, cassette_text, run_pytest, write_test

WITH_RECORDING = ("no:vcr",)
WITH_VCR = ("no:recording",)
NEIGHBOURS = pytest.mark.parametrize(
    "neighbours", [WITH_RECORDING, WITH_VCR], ids=["pytest-recording", "pytest-vcr"]
)

#: A test of theirs: vcr's marker and fixture (pytest-docker-tools' ``docker_client`` connects
#: to Docker when set up, so offline runs check where ``--fixtures`` finds it, and the live test
#: uses it).
THEIR_TESTS = """
@pytest.mark.vcr
def test_vcr_is_theirs(vcr_cassette_dir):
    assert "cassettes" in vcr_cassette_dir
"""


def fixture_source(result_stdout: str, name: str) -> str:
    """The file ``pytest --fixtures`` names for fixture ``name``."""
    for line in result_stdout.splitlines():
        if line.startswith(f"{name} ") or line == name:
            return line
    raise AssertionError(f"fixture {name} not listed:\n{result_stdout}")


@NEIGHBOURS
def test_without_opting_in_nothing_of_ours_is_loaded(
    tmp_path: Path, neighbours: tuple[str, ...]
) -> None:
    record_option = "--record-mode=none" if neighbours == WITH_RECORDING else "--vcr-record=none"
    write_test(tmp_path, THEIR_TESTS)
    result = run_pytest(tmp_path, record_option, plugins=neighbours)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    listed = run_pytest(tmp_path, "--fixtures", plugins=neighbours)
    assert "pytest_docker_tools" in fixture_source(listed.stdout, "docker_client")
    assert "docker_cassette" not in listed.stdout
    ours = run_pytest(tmp_path, "--docker-record-mode=none", plugins=neighbours)
    assert ours.returncode == 4  # a usage error: the option does not exist unless opted in
    assert "unrecognized arguments: --docker-record-mode" in ours.stderr


@NEIGHBOURS
@pytest.mark.parametrize("opt_in", ["-p", "pytest_plugins"])
def test_opted_in_beside_them(tmp_path: Path, neighbours: tuple[str, ...], opt_in: str) -> None:
    write_test(
        tmp_path,
        THEIR_TESTS
        + """

async def test_ours_replays(docker_cassette_client):
    assert (await docker_cassette_client.system.ping()).api_version == "1.41"
""",
    )
    cassette = tmp_path / "cassettes" / "test_user" / "test_ours_replays.json"
    cassette.parent.mkdir(parents=True)
    cassette.write_text(cassette_text((PING, PING_ANSWER)))
    plugins: tuple[str, ...] = neighbours
    if opt_in == "-p":
        plugins = (PLUGIN, *neighbours)
    else:
        (tmp_path / "conftest.py").write_text(f"pytest_plugins = [{PLUGIN!r}]\n")
    record_option = "--record-mode=none" if neighbours == WITH_RECORDING else "--vcr-record=none"
    result = run_pytest(tmp_path, record_option, "--docker-record-mode=none", plugins=plugins)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
    listed = run_pytest(tmp_path, "--fixtures", plugins=plugins)
    assert "pytest_docker_tools" in fixture_source(listed.stdout, "docker_client")
    assert "pytest_plugin" in fixture_source(listed.stdout, "docker_cassette_client")


@pytest.mark.live
def test_their_docker_client_talks_to_docker_beside_ours(tmp_path: Path) -> None:
    socket_path = ENGINE_SOCKETS["docker"]
    if not engine_answers(socket_path):
        pytest.skip(f"docker engine not answering on {socket_path}")
    write_test(
        tmp_path,
        """
import docker


async def test_both_clients(docker_client, docker_cassette_client):
    assert isinstance(docker_client, docker.DockerClient) and docker_client.ping()
    assert (await docker_cassette_client.system.ping()).api_version == "1.41"
""",
    )
    cassette = tmp_path / "cassettes" / "test_user" / "test_both_clients.json"
    cassette.parent.mkdir(parents=True)
    cassette.write_text(cassette_text((PING, PING_ANSWER)))
    result = run_pytest(
        tmp_path, docker_host=f"unix://{socket_path}", plugins=(PLUGIN, *WITH_RECORDING)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout

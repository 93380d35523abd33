"""One shape for ``create`` in every area: the API's request model, or (networks, volumes,
exec) keywords that build it — the same body either way, never both at once."""

from __future__ import annotations

import msgspec
import pytest

from lightshuttle_runtime import DockerClient, InvalidArgumentError
from lightshuttle_runtime.models import ExecConfig, NetworkCreateRequest, VolumeCreateRequest
from tests.testing._scripted import Answer, ScriptedTransport

pytestmark = pytest.mark.anyio

NAME = "ls-forms"
VOLUME = "ls-forms-volume"
NETWORK = "ls-forms-network"
LABELS = {"lightshuttle.test": "forms"}


def recording_engine() -> ScriptedTransport:
    ok = {"Id": "n1", "ID": "n1", "Name": "x", "Driver": "local", "Mountpoint": "/m"}
    answer = Answer(status=201, chunks=[msgspec.json.encode(ok)])
    return ScriptedTransport(
        {
            ("POST", "/v1.41/networks/create"): answer,
            ("POST", "/v1.41/volumes/create"): answer,
            ("POST", "/v1.41/containers/c1/exec"): answer,
        }
    )


async def test_both_forms_send_the_same_body() -> None:
    engine = recording_engine()
    async with DockerClient(transport=engine, api_version="1.41") as docker:
        await docker.networks.create("web", labels=LABELS, internal=True)
        await docker.networks.create(
            NetworkCreateRequest(
                name="web", driver="bridge", labels=LABELS, internal=True, check_duplicate=True
            )
        )
        await docker.volumes.create("data", labels=LABELS)
        await docker.volumes.create(VolumeCreateRequest(name="data", driver="local", labels=LABELS))
        await docker.exec.create("c1", ["ls", "-l"], env={"A": "1"})
        await docker.exec.create(
            "c1",
            ExecConfig(cmd=["ls", "-l"], attach_stdout=True, attach_stderr=True, env=["A=1"]),
        )
    bodies = [msgspec.json.decode(body) for _method, _url, body in engine.requests]
    assert bodies[0] == bodies[1]
    assert bodies[2] == bodies[3]
    assert bodies[4] == bodies[5]


async def test_keywords_beside_a_request_model_are_refused(offline: DockerClient) -> None:
    with pytest.raises(InvalidArgumentError, match=r"not both \(labels given"):
        await offline.networks.create(NetworkCreateRequest(name="web"), labels=LABELS)
    with pytest.raises(InvalidArgumentError, match=r"driver given"):
        await offline.volumes.create(VolumeCreateRequest(name="data"), driver="nfs")
    with pytest.raises(InvalidArgumentError, match=r"tty given"):
        await offline.exec.create("c1", ExecConfig(cmd=["ls"]), tty=True)


async def test_a_request_model_is_checked_like_keywords(offline: DockerClient) -> None:
    with pytest.raises(InvalidArgumentError, match="network name"):
        await offline.networks.create(NetworkCreateRequest(name="bad name!"))
    with pytest.raises(InvalidArgumentError, match="volume name"):
        await offline.volumes.create(VolumeCreateRequest(name="../escape"))
    with pytest.raises(InvalidArgumentError):
        await offline.exec.create("c1", ExecConfig(cmd=[]))


async def test_request_models_live(docker: DockerClient, running: str) -> None:
    await docker.networks.remove(NETWORK, missing_ok=True)
    await docker.volumes.remove(VOLUME, missing_ok=True)
    network = await docker.networks.create(
        NetworkCreateRequest(name=NETWORK, labels=LABELS, internal=True)
    )
    try:
        inspected = await docker.networks.inspect(network.id)
        assert (inspected.name, inspected.labels, inspected.internal) == (NETWORK, LABELS, True)
    finally:
        await docker.networks.remove(network.id, missing_ok=True)
    volume = await docker.volumes.create(VolumeCreateRequest(name=VOLUME, labels=LABELS))
    try:
        assert (volume.name, volume.labels) == (VOLUME, LABELS)
    finally:
        await docker.volumes.remove(VOLUME, missing_ok=True)
    exec_id = await docker.exec.create(
        running, ExecConfig(cmd=["sh", "-c", "echo $A"], env=["A=from-model"], attach_stdout=True)
    )
    output = b"".join([frame.data async for frame in docker.exec.start(exec_id)])
    assert output == b"from-model\n"

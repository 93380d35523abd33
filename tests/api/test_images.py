"""Image endpoints against the real engines, each test once on Docker and once on Podman.

Replay-friendly: fixed names ``ls-test-...``, a tar built from fixed bytes, nothing random.

Engine differences met here:
- RepoTags: Docker ``busybox:local``, Podman ``docker.io/library/busybox:local``;
- import ignores ``tag`` on Podman (the image becomes ``repo:latest``);
- a pull that cannot reach its registry: Docker answers 500 before any stream
  (ServerError), Podman answers 200 and reports the failure in-band (StreamError);
- missing image messages: Docker "no such image", Podman "failed to find image".
"""

from __future__ import annotations

import contextlib
import io
import tarfile

import anyio
import pytest

from lightshuttle_runtime import (
    DockerClient,
    DockerError,
    InvalidArgumentError,
    NotFoundError,
    ServerError,
    StreamError,
)
from tests.conftest import Engine

pytestmark = pytest.mark.anyio

# Nothing listens on the loopback discard port: a registry there cannot be reached, and no
# traffic leaves the machine.
UNREACHABLE = "127.0.0.1:9/ls-test/missing:none"


def repo_tag(engine: Engine, name: str) -> str:
    """How the engine writes ``name`` in RepoTags (Podman qualifies short names)."""
    return f"docker.io/library/{name}" if engine.is_podman else name


async def test_inspect_the_test_image(docker: DockerClient, engine: Engine) -> None:
    image = await docker.images.inspect("busybox:local")
    assert image.id.startswith("sha256:") and len(image.id) == 71
    assert repo_tag(engine, "busybox:local") in (image.repo_tags or [])
    assert image.config is not None and image.config.cmd == ["/bin/sh"]
    assert image.os == "linux"
    assert image.size is not None and image.size > 1_000_000  # the static busybox alone
    # inspect by id answers the same image
    assert (await docker.images.inspect(image.id)).id == image.id


async def test_inspect_a_missing_image_is_not_found(docker: DockerClient) -> None:
    with pytest.raises(NotFoundError, match=r"(?i)no such image|failed to find image") as caught:
        await docker.images.inspect("ls-test-missing:none")
    assert caught.value.status == 404
    assert caught.value.path is not None
    assert caught.value.path.endswith("/images/ls-test-missing:none/json")


async def test_pull_from_an_unreachable_registry(docker: DockerClient, engine: Engine) -> None:
    error: DockerError
    with anyio.fail_after(120):
        if engine.is_podman:
            # 200 first, then one in-band {"error": ..., "errorDetail": {"message": ...}} line
            async with docker.images.pull(UNREACHABLE) as progress:
                with pytest.raises(StreamError, match="connection refused") as in_band:
                    async for _ in progress:
                        pass
            error = in_band.value
            assert in_band.value.code is None  # Podman's errorDetail has no code
        else:
            # Docker fails before streaming: 500 with the registry's dial error
            with pytest.raises(ServerError, match="connection refused") as early:
                async with docker.images.pull(UNREACHABLE) as progress:
                    async for _ in progress:
                        pass
            error = early.value
            assert early.value.status == 500
    assert error.method == "POST"
    assert error.path is not None and error.path.endswith("/images/create")


async def test_pull_rejects_a_malformed_reference_before_sending(docker: DockerClient) -> None:
    with pytest.raises(InvalidArgumentError, match="image reference"):
        docker.images.pull("Not A Reference")


def tiny_rootfs(data: bytes = b"lightshuttle import test\n", name: str = "hello.txt") -> bytes:
    """A one-file root filesystem tar; the same bytes for the same ``data``."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 1704067200, 0o644
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


async def remove_image_if_present(docker: DockerClient, name: str) -> None:
    with contextlib.suppress(NotFoundError):
        await docker.images.remove(name, force=True)


async def test_import_inspect_remove(docker: DockerClient, engine: Engine) -> None:
    # Podman ignores the tag of an import: the image is named ls-test-import:latest there.
    name = "ls-test-import:latest" if engine.is_podman else "ls-test-import:v1"
    await remove_image_if_present(docker, name)
    async with docker.images.import_image(
        tiny_rootfs(), repo="ls-test-import", tag="v1", changes=['CMD ["/hello"]']
    ) as progress:
        messages = [message async for message in progress]
    try:
        # both engines report the new image's id as the status of the last line
        image_id = messages[-1].status
        assert image_id is not None and image_id.startswith("sha256:")
        image = await docker.images.inspect(name)
        assert image.id == image_id
        assert repo_tag(engine, name) in (image.repo_tags or [])
        assert image.config is not None and image.config.cmd == ["/hello"]
    finally:
        await remove_image_if_present(docker, name)
    with pytest.raises(NotFoundError):
        await docker.images.inspect(name)


async def test_tag_then_remove_the_tag(docker: DockerClient, engine: Engine) -> None:
    await remove_image_if_present(docker, "ls-test-tagged:v1")
    await docker.images.tag("busybox:local", repo="ls-test-tagged", tag="v1")
    original = await docker.images.inspect("busybox:local")
    tagged = await docker.images.inspect("ls-test-tagged:v1")
    assert tagged.id == original.id
    assert repo_tag(engine, "ls-test-tagged:v1") in (tagged.repo_tags or [])
    # removing one name of an image with several only untags it
    await docker.images.remove("ls-test-tagged:v1")
    assert (await docker.images.inspect("busybox:local")).id == original.id
    with pytest.raises(NotFoundError):
        await docker.images.remove("ls-test-tagged:v1")


async def test_tag_a_missing_image_is_not_found(docker: DockerClient) -> None:
    with pytest.raises(NotFoundError):
        await docker.images.tag("ls-test-missing:none", repo="ls-test-tagged", tag="v2")


# -- list, history, prune ----------------------------------------------------------------


async def test_list_with_a_reference_filter(docker: DockerClient, engine: Engine) -> None:
    images = await docker.images.list(filters={"reference": "busybox:local"})
    tagged = [
        image for image in images if repo_tag(engine, "busybox:local") in (image.repo_tags or [])
    ]
    assert len(tagged) == 1
    summary = tagged[0]
    inspected = await docker.images.inspect("busybox:local")
    assert summary.id == inspected.id and summary.size == inspected.size
    assert inspected.created is not None
    assert summary.created == inspected.created.replace(microsecond=0)
    assert len(await docker.images.list(all_=True)) >= len(images)


async def test_list_with_a_filter_nothing_matches(docker: DockerClient) -> None:
    assert await docker.images.list(filters={"label": "lsapi.test=no-such-label"}) == []


async def test_history_lists_the_layers(docker: DockerClient, engine: Engine) -> None:
    history = await docker.images.history("busybox:local")
    assert history, "an image has at least one layer"
    size = (await docker.images.inspect("busybox:local")).size
    layers = sum(layer.size for layer in history)
    if engine.is_podman:  # Podman 4.3's image Size also counts the config and manifest
        assert 0 < layers <= size
    else:  # Docker: the layers add up to the image
        assert layers == size
    assert all(layer.created_unix > 0 for layer in history)


async def test_history_of_a_missing_image_is_not_found(docker: DockerClient) -> None:
    with pytest.raises(NotFoundError):
        await docker.images.history("lsapi-missing:none")
    with pytest.raises(NotFoundError):
        await docker.images.remove("lsapi-missing:none")
    await docker.images.remove("lsapi-missing:none", missing_ok=True)


async def test_prune_with_a_filter_nothing_matches(docker: DockerClient, engine: Engine) -> None:
    # Only images labelled for this test qualify: no image of anyone else can be touched.
    only_ours = {"label": "lsapi.test=none"}
    pruned = await docker.images.prune(filters=only_ours)
    assert not pruned.images_deleted and pruned.space_reclaimed == 0
    if engine.is_podman:  # Podman 4.3's compat API always adds dangling=true itself
        with pytest.raises(ServerError, match="dangling"):
            await docker.images.prune(dangling=False, filters=only_ours)
    else:
        pruned = await docker.images.prune(dangling=False, filters=only_ours)
        assert not pruned.images_deleted and pruned.space_reclaimed == 0


async def test_list_refuses_bad_filters_before_sending(offline: DockerClient) -> None:
    with pytest.raises(InvalidArgumentError):
        await offline.images.list(filters={"reference": 1})  # type: ignore[dict-item]

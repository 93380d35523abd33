"""Registry credentials found as the Docker CLI finds them, offline (a fake helper program).

What the Docker CLI promises and these tests hold to: ``DOCKER_AUTH_CONFIG`` first, then
``credHelpers[registry]``, then ``credsStore``, then ``auths``; a helper's "credentials not
found" is no credentials, not an error; ``<token>`` as username is an identity token; registry
names are normalised; an explicit ``auth=`` wins; no secret in a repr or an error.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lightshuttle_runtime import (
    CredentialsError,
    CredentialStore,
    DockerClient,
    RegistryAuth,
    RegistryAuthError,
    normalize_registry,
    registry_of,
)
from lightshuttle_runtime._credentials import DOCKER_HUB

from . import credential_helper
from .api.test_images import tiny_rootfs

pytestmark = pytest.mark.anyio

SECRET = "hunter2-very-secret"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """An environment with its own (empty) Docker config dir and a bin dir first on PATH."""
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    environ = {
        "DOCKER_CONFIG": str(config_dir),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
    }
    yield environ


def write_config(env: dict[str, str], config: object) -> Path:
    path = Path(env["DOCKER_CONFIG"]) / "config.json"
    path.write_text(json.dumps(config))
    return path


def bin_dir(env: dict[str, str]) -> Path:
    return Path(env["PATH"].split(os.pathsep, 1)[0])


# -- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("docker.io", DOCKER_HUB),
        ("index.docker.io", DOCKER_HUB),
        ("registry-1.docker.io", DOCKER_HUB),
        ("https://index.docker.io/v1/", DOCKER_HUB),
        ("https://registry-1.docker.io/v2/", DOCKER_HUB),
        ("", DOCKER_HUB),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("https://127.0.0.1:5443/v2/", "127.0.0.1:5443"),
        ("http://Registry.Example:80", "registry.example:80"),
    ],
)
def test_registry_names_are_normalised(name: str, key: str) -> None:
    assert normalize_registry(name) == key


@pytest.mark.parametrize(
    ("reference", "key"),
    [
        ("busybox", DOCKER_HUB),
        ("library/busybox", DOCKER_HUB),
        ("team/app", DOCKER_HUB),
        ("docker.io/library/busybox", DOCKER_HUB),
        ("localhost/app", "localhost"),
        ("localhost:5000/app", "localhost:5000"),
        ("127.0.0.1:5443/team/app", "127.0.0.1:5443"),
        ("ghcr.io/org/app", "ghcr.io"),
    ],
)
def test_the_registry_of_a_repository(reference: str, key: str) -> None:
    assert registry_of(reference) == key


def test_a_repr_shows_no_secret() -> None:
    auth = RegistryAuth("robot", SECRET, "r.example", identity_token="tok-" + SECRET)
    assert SECRET not in repr(auth) and SECRET not in str(auth)
    assert "robot" in repr(auth)
    assert auth.to_dict() == {
        "username": "robot",
        "password": SECRET,
        "serveraddress": "r.example",
        "identitytoken": "tok-" + SECRET,
    }


# -- config.json auths ---------------------------------------------------------------------------


async def test_no_config_no_credentials(env: dict[str, str]) -> None:
    store = CredentialStore(environ=env)
    assert await store.get("127.0.0.1:5000") is None
    assert await store.all() == {}


async def test_auths_base64_user_password(env: dict[str, str]) -> None:
    write_config(env, {"auths": {"https://127.0.0.1:5443/v2/": {"auth": b64(f"robot:{SECRET}")}}})
    store = CredentialStore(environ=env)
    auth = await store.get("127.0.0.1:5443")
    assert auth == RegistryAuth("robot", SECRET, "127.0.0.1:5443")
    assert await store.get("127.0.0.1:5000") is None


async def test_a_password_may_hold_colons(env: dict[str, str]) -> None:
    write_config(env, {"auths": {"r.example": {"auth": b64("robot:a:b:c")}}})
    auth = await CredentialStore(environ=env).get("r.example")
    assert auth is not None and auth.password == "a:b:c"


async def test_auths_identity_token(env: dict[str, str]) -> None:
    write_config(env, {"auths": {"r.example": {"identitytoken": SECRET}}})
    auth = await CredentialStore(environ=env).get("https://r.example")
    assert auth is not None and auth.identity_token == SECRET and not auth.password
    assert auth.to_dict() == {"serveraddress": "r.example", "identitytoken": SECRET}


async def test_docker_hub_under_any_of_its_names(env: dict[str, str]) -> None:
    write_config(env, {"auths": {"https://index.docker.io/v1/": {"auth": b64(f"me:{SECRET}")}}})
    store = CredentialStore(environ=env)
    for name in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        found = await store.get(name)
        assert found is not None and found.username == "me"
    assert (await store.get(registry_of("busybox"))) is not None


async def test_a_broken_auth_entry_is_an_error_without_the_value(env: dict[str, str]) -> None:
    write_config(env, {"auths": {"r.example": {"auth": b64(SECRET)}}})  # no ':'
    with pytest.raises(CredentialsError, match=r"r\.example") as caught:
        await CredentialStore(environ=env).get("r.example")
    assert SECRET not in str(caught.value) and b64(SECRET) not in str(caught.value)


async def test_an_invalid_config_is_an_error(env: dict[str, str]) -> None:
    path = write_config(env, {})
    path.write_text("{not json")
    with pytest.raises(CredentialsError, match="not valid JSON"):
        await CredentialStore(environ=env).get("r.example")


async def test_the_config_dir_argument_and_home_default(
    env: dict[str, str], tmp_path: Path
) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"auths": {"r.example": {"auth": b64("a:b")}}}))
    assert await CredentialStore(other, environ=env).get("r.example") is not None
    without = {key: value for key, value in env.items() if key != "DOCKER_CONFIG"}
    assert CredentialStore(environ=without).config_path.parent.name == ".docker"


# -- DOCKER_AUTH_CONFIG --------------------------------------------------------------------------


async def test_docker_auth_config_wins_over_the_file(env: dict[str, str]) -> None:
    write_config(env, {"auths": {"r.example": {"auth": b64("file:pw-file")}}})
    env["DOCKER_AUTH_CONFIG"] = json.dumps({"auths": {"r.example": {"auth": b64(f"env:{SECRET}")}}})
    store = CredentialStore(environ=env)
    assert await store.get("r.example") == RegistryAuth("env", SECRET, "r.example")
    assert set(await store.all()) == {"r.example"}


async def test_an_invalid_docker_auth_config_is_an_error(env: dict[str, str]) -> None:
    env["DOCKER_AUTH_CONFIG"] = "[1, 2]"
    with pytest.raises(CredentialsError, match="DOCKER_AUTH_CONFIG"):
        await CredentialStore(environ=env).get("r.example")


# -- credential helpers --------------------------------------------------------------------------


async def test_creds_store_helper(env: dict[str, str]) -> None:
    credential_helper.install(bin_dir(env), "lstest", {"r.example": ("robot", SECRET)})
    write_config(env, {"credsStore": "lstest", "auths": {"r.example": {}}})
    auth = await CredentialStore(environ=env).get("https://r.example/v2/")
    assert auth == RegistryAuth("robot", SECRET, "r.example")
    # the server URL went on stdin, as the key the CLI stores it under
    assert credential_helper.calls(bin_dir(env)) == ["docker-credential-lstest get r.example"]


async def test_a_helper_token_user_is_an_identity_token(env: dict[str, str]) -> None:
    credential_helper.install(bin_dir(env), "lstest", {DOCKER_HUB: ("<token>", SECRET)})
    write_config(env, {"credsStore": "lstest"})
    auth = await CredentialStore(environ=env).get("docker.io")
    assert auth is not None and auth.identity_token == SECRET and auth.username == ""


async def test_cred_helpers_come_before_creds_store_and_auths(env: dict[str, str]) -> None:
    credential_helper.install(bin_dir(env), "one", {"r.example": ("from-one", SECRET)})
    credential_helper.install(bin_dir(env), "all", {"r.example": ("from-all", "x" * 8)})
    write_config(
        env,
        {
            "credHelpers": {"https://r.example": "one"},
            "credsStore": "all",
            "auths": {"r.example": {"auth": b64("from-auths:pw")}},
        },
    )
    store = CredentialStore(environ=env)
    found = await store.get("r.example")
    assert found is not None and found.username == "from-one"


async def test_not_found_in_a_helper_falls_back_to_auths(env: dict[str, str]) -> None:
    credential_helper.install(bin_dir(env), "lstest", {})
    write_config(env, {"credsStore": "lstest", "auths": {"r.example": {"auth": b64("a:b")}}})
    store = CredentialStore(environ=env)
    found = await store.get("r.example")
    assert found is not None and found.username == "a"
    assert await store.get("other.example") is None  # "not found" is no credentials


async def test_a_missing_helper_is_an_error_naming_it(env: dict[str, str]) -> None:
    write_config(env, {"credsStore": "nosuchhelper"})
    with pytest.raises(CredentialsError, match="docker-credential-nosuchhelper") as caught:
        await CredentialStore(environ=env).get("r.example")
    assert caught.value.registry == "r.example"


async def test_a_failing_helper_is_an_error_without_the_secret(env: dict[str, str]) -> None:
    program = bin_dir(env) / "docker-credential-broken"
    program.write_text("#!/bin/sh\necho 'keychain locked' >&2\nexit 3\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    write_config(env, {"credsStore": "broken"})
    with pytest.raises(CredentialsError, match="keychain locked") as caught:
        await CredentialStore(environ=env).get("r.example")
    assert "docker-credential-broken get" in str(caught.value)


async def test_all_collects_every_source(env: dict[str, str]) -> None:
    credential_helper.install(bin_dir(env), "lstest", {"a.example": ("ua", "pa-" + SECRET)})
    credential_helper.install(bin_dir(env), "one", {"b.example": ("ub", "pb-" + SECRET)})
    write_config(
        env,
        {
            "credsStore": "lstest",
            "credHelpers": {"b.example": "one"},
            "auths": {"c.example": {"auth": b64("uc:pc")}, "a.example": {}},
        },
    )
    found = await CredentialStore(environ=env).all()
    assert {key: auth.username for key, auth in found.items()} == {
        "a.example": "ua",
        "b.example": "ub",
        "c.example": "uc",
    }


# -- store and erase (login / logout) ------------------------------------------------------------


async def test_store_in_the_file_then_erase(env: dict[str, str]) -> None:
    path = write_config(env, {"auths": {}, "psFormat": "table {{.ID}}"})
    store = CredentialStore(environ=env)
    where = await store.store("https://127.0.0.1:5443", RegistryAuth("robot", SECRET))
    assert where == str(path)
    written = json.loads(path.read_text())
    assert written["auths"] == {"127.0.0.1:5443": {"auth": b64(f"robot:{SECRET}")}}
    assert written["psFormat"] == "table {{.ID}}"  # the rest of the file is kept
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert await store.get("127.0.0.1:5443") == RegistryAuth("robot", SECRET, "127.0.0.1:5443")
    assert await store.erase("127.0.0.1:5443") is True
    assert json.loads(path.read_text())["auths"] == {}
    assert await store.erase("127.0.0.1:5443") is False


async def test_store_in_the_helper_then_erase(env: dict[str, str]) -> None:
    program = credential_helper.install(bin_dir(env), "lstest")
    path = write_config(env, {"credsStore": "lstest"})
    store = CredentialStore(environ=env)
    assert await store.store("r.example", RegistryAuth("robot", SECRET)) == (
        "docker-credential-lstest"
    )
    assert credential_helper.stored(program) == {
        "r.example": {"Username": "robot", "Secret": SECRET}
    }
    assert SECRET not in path.read_text()
    assert json.loads(path.read_text())["auths"] == {"r.example": {}}
    assert await store.get("r.example") == RegistryAuth("robot", SECRET, "r.example")
    assert await store.erase("r.example") is True
    assert credential_helper.stored(program) == {}
    assert await store.get("r.example") is None


# -- the client sends what the store finds ------------------------------------------------------


def recording_client(seen: list[httpx.Request], store: CredentialStore) -> DockerClient:
    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/build"):
            return httpx.Response(200, content=b'{"aux":{"ID":"sha256:abc"}}\n')
        return httpx.Response(200, content=b'{"status":"Done"}\n')

    return DockerClient(
        "unix:///nonexistent.sock",
        api_version="1.41",
        transport=httpx.MockTransport(handler),
        credentials=store,
    )


def header_json(request: httpx.Request, name: str) -> object:
    value = request.headers[name]
    return json.loads(base64.urlsafe_b64decode(value))


async def test_pull_sends_the_registrys_credentials(env: dict[str, str]) -> None:
    write_config(env, {"auths": {"127.0.0.1:5443": {"auth": b64(f"robot:{SECRET}")}}})
    seen: list[httpx.Request] = []
    async with recording_client(seen, CredentialStore(environ=env)) as docker:
        for reference in ("127.0.0.1:5443/team/app:1", "127.0.0.1:5000/app", "busybox"):
            async with docker.images.pull(reference) as progress:
                assert [m.status async for m in progress] == ["Done"]
        async with docker.images.pull("127.0.0.1:5443/app", auth={"username": "x"}) as progress:
            [m async for m in progress]
    assert header_json(seen[0], "X-Registry-Auth") == {
        "username": "robot",
        "password": SECRET,
        "serveraddress": "127.0.0.1:5443",
    }
    assert "X-Registry-Auth" not in seen[1].headers  # nothing known for :5000
    assert "X-Registry-Auth" not in seen[2].headers
    assert header_json(seen[3], "X-Registry-Auth") == {"username": "x"}  # explicit wins


async def test_a_build_sends_every_credential_as_registry_config(env: dict[str, str]) -> None:
    credential_helper.install(bin_dir(env), "lstest", {"a.example": ("ua", SECRET)})
    write_config(env, {"credsStore": "lstest", "auths": {"c.example": {"auth": b64("uc:pc")}}})
    seen: list[httpx.Request] = []
    context = _tiny_context()
    async with recording_client(seen, CredentialStore(environ=env)) as docker:
        async with docker.build(context, builder="classic") as records:
            [r async for r in records]
        async with docker.build(context, builder="classic", registry_config={}) as records:
            [r async for r in records]
    assert header_json(seen[0], "X-Registry-Config") == {
        "a.example": {"username": "ua", "password": SECRET, "serveraddress": "a.example"},
        "c.example": {"username": "uc", "password": "pc", "serveraddress": "c.example"},
    }
    assert "X-Registry-Config" not in seen[1].headers  # an explicit {} wins: none sent


async def test_a_build_without_credentials_sends_no_registry_config(env: dict[str, str]) -> None:
    seen: list[httpx.Request] = []
    async with (
        recording_client(seen, CredentialStore(environ=env)) as docker,
        docker.build(_tiny_context(), builder="classic") as records,
    ):
        [r async for r in records]
    assert "X-Registry-Config" not in seen[0].headers


def _tiny_context() -> bytes:
    return tiny_rootfs(b"FROM busybox:local\n", "Dockerfile")


# -- what pull/push/load answers say ------------------------------------------------------------


def test_progress_digests_on_every_engine() -> None:
    from lightshuttle_runtime.models import ProgressMessage

    digest = "sha256:" + "a" * 64
    assert ProgressMessage(aux={"Tag": "v1", "Digest": digest, "Size": 527}).digest == digest
    assert ProgressMessage(status=f"v1: digest: {digest} size: 343").digest == digest  # Podman
    assert ProgressMessage(status=f"Digest: {digest}").digest == digest  # Docker's pull
    assert ProgressMessage(status="Pushing", id="69e97d303cfe").digest is None


def test_loaded_images_of_docker_and_podman_answers() -> None:
    from lightshuttle_runtime.api import loaded_images
    from lightshuttle_runtime.models import ProgressMessage

    docker = [
        ProgressMessage(stream="Loaded image: app:1\n"),
        ProgressMessage(stream="Loaded image ID: sha256:abc\n"),
    ]
    podman = [ProgressMessage(stream="Loaded image: docker.io/library/a:1, localhost/b:2")]
    assert loaded_images(docker) == ["app:1", "sha256:abc"]
    assert loaded_images(podman) == ["docker.io/library/a:1", "localhost/b:2"]


@pytest.mark.parametrize(
    "message",
    [
        "unauthorized: authentication required",
        "Head https://r/v2/x/manifests/1: no basic auth credentials",
        "denied: requested access to the resource is denied",
        "login attempt to http://127.0.0.1:5443/v2/ failed with status: 400 Bad Request",
        "trying to reuse blob sha256:1 at destination: checking whether a blob exists in "
        "127.0.0.1:5443/x: unauthorized: authentication required",
    ],
)
def test_auth_refusals_become_registry_auth_errors(message: str) -> None:
    from lightshuttle_runtime import ServerError, StreamError
    from lightshuttle_runtime._credentials import raise_for_registry_auth

    for engine_error in (StreamError(message), ServerError(message, status=500)):
        with pytest.raises(RegistryAuthError) as caught:
            raise_for_registry_auth(engine_error, "127.0.0.1:5443", sent=False)
        assert caught.value.__cause__ is engine_error
        assert isinstance(caught.value, type(engine_error))  # except StreamError still works
        assert "none were sent" in str(caught.value) and "127.0.0.1:5443" in str(caught.value)


def test_dockers_plain_http_fallback_without_credentials_is_a_refusal() -> None:
    from lightshuttle_runtime import ServerError
    from lightshuttle_runtime._credentials import raise_for_registry_auth

    text = 'error parsing HTTP 400 response body: "Client sent an HTTP request to an HTTPS server."'
    with pytest.raises(RegistryAuthError, match="most likely wants credentials"):
        raise_for_registry_auth(ServerError(text, status=500), "127.0.0.1:5443", sent=False)
    raise_for_registry_auth(ServerError(text, status=500), "127.0.0.1:5443", sent=True)  # stays


def test_the_advice_follows_what_was_sent() -> None:
    # none sent: log in or pass auth=; auth= refused: check it (not "log in first");
    # the store's refused: log in again; a login: check what was given
    from lightshuttle_runtime import StreamError
    from lightshuttle_runtime._credentials import raise_for_registry_auth

    refused = "unauthorized: authentication required"
    cases = [
        ({"sent": False}, "Log in first"),
        ({"sent": True, "passed": True}, "passed as auth="),
        ({"sent": True}, "renew the stored credentials"),
        ({"sent": True, "logging_in": True}, "Check the username and password"),
    ]
    for flags, advice in cases:
        with pytest.raises(RegistryAuthError) as caught:
            raise_for_registry_auth(StreamError(refused), "127.0.0.1:5443", **flags)  # type: ignore[arg-type]
        assert advice in str(caught.value), (flags, str(caught.value))
        assert ("Log in first" in str(caught.value)) == (not flags["sent"]), flags
        assert ("Log in" in str(caught.value)) == (flags == {"sent": True}) or not flags["sent"]


def test_other_failures_stay_as_they_are() -> None:
    from lightshuttle_runtime import StreamError
    from lightshuttle_runtime._credentials import raise_for_registry_auth

    for message in ("dial tcp 127.0.0.1:9: connect: connection refused", "permission denied"):
        raise_for_registry_auth(StreamError(message), "r.example", sent=True)  # no raise


async def test_push_refuses_a_digest_and_save_needs_a_name() -> None:
    from lightshuttle_runtime import InvalidArgumentError

    async with DockerClient("unix:///nonexistent.sock") as docker:
        with pytest.raises(InvalidArgumentError, match="digest"):
            docker.images.push("r.example/app@sha256:" + "a" * 64)
        with pytest.raises(InvalidArgumentError, match="at least one"):
            docker.images.save()

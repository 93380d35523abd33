"""Redaction: no secret reaches the file, matching still works, replay gives values back."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import msgspec
import pytest

from lightshuttle_runtime import DockerClient
from lightshuttle_runtime.models import ContainerCreateRequest
from lightshuttle_runtime.testing import CassetteError, CassetteTransport, Redactor, lint_cassette

from ._scripted import Answer, ScriptedTransport, frame, json_answer

pytestmark = pytest.mark.anyio

TOKEN = "tok-9f8e7d6c5b4a"
PASSWORD = "correct horse battery staple"
LITERAL = "hunter2-literal-secret"
CONTAINER = "c1"
AUTH = {"username": "me", "password": PASSWORD, "serveraddress": "registry.test"}
LOG_BODY = frame(1, f"token is {LITERAL}\n".encode()) + frame(2, b"done\n")


def engine() -> ScriptedTransport:
    def inspect(request: httpx.Request) -> Answer:
        env = ["API_TOKEN=" + TOKEN, "PATH=/bin", "FROM_IMAGE=image-only-value"]
        body = {"Id": CONTAINER, "Config": {"Env": env, "Image": "busybox:local"}}
        return json_answer(msgspec.json.encode(body) + b"\n")

    return ScriptedTransport(
        {
            ("POST", "/v1.41/containers/create"): json_answer(b'{"Id":"c1","Warnings":[]}\n', 201),
            ("GET", f"/v1.41/containers/{CONTAINER}/json"): inspect,
            ("POST", "/v1.41/images/create"): json_answer(b'{"status":"Pulled"}\r\n'),
            # The literal secret straddles two chunks, inside a multiplexed frame.
            ("GET", f"/v1.41/containers/{CONTAINER}/logs"): Answer(
                chunks=[LOG_BODY[:20], LOG_BODY[20:]]
            ),
            ("POST", "/v1.41/auth"): json_answer(
                b'{"Status":"Login Succeeded","IdentityToken":"idtok-abcdef123456"}\n'
            ),
        }
    )


async def scenario(cassette: CassetteTransport) -> dict[str, object]:
    """What a test would do; returns what it saw."""
    cassette.add_secret(LITERAL)
    async with DockerClient(api_version="1.41", transport=cassette) as docker:
        config = ContainerCreateRequest(
            image="busybox:local",
            cmd=["sh", "-c", f"echo token is {LITERAL}"],
            env=["API_TOKEN=" + TOKEN, "PATH=/bin", "EMPTY="],
        )
        await docker.containers.create(config, name="web")
        inspected = await docker.containers.inspect(CONTAINER)
        async with docker.images.pull("registry.test/app:1", auth=AUTH) as progress:
            statuses = [message.status async for message in progress]
        logs = docker.containers.logs(CONTAINER, tty=False)
        async with logs:
            frames = [(item.stream, item.data) async for item in logs]
        basic = base64.b64encode(b"me:" + PASSWORD.encode()).decode()
        auth_request = httpx.Request(
            "POST",
            "http://docker/v1.41/auth",
            json=AUTH,
            headers={"Authorization": f"Basic {basic}"},
        )
        auth = await cassette.handle_async_request(auth_request)
        await auth.aread()
    return {
        "env": inspected.config.env,
        "statuses": statuses,
        "frames": frames,
        "auth": auth.json(),
    }


async def test_no_secret_reaches_the_file_and_replay_sees_the_real_values(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    scripted = engine()
    live = await scenario(CassetteTransport(path, record_mode="all", transport=scripted))
    # The engine got the real values.
    create_body = msgspec.json.decode(scripted.requests[0][2])
    assert "API_TOKEN=" + TOKEN in create_body["Env"]

    text = path.read_text()
    for secret in (TOKEN, PASSWORD, LITERAL, "idtok-abcdef123456", "image-only-value"):
        assert secret not in text
    assert base64.urlsafe_b64encode(msgspec.json.encode(AUTH)).decode() not in text
    assert "API_TOKEN=<redacted:API_TOKEN>" in text
    assert "PATH=/bin" in text  # kept: not a secret
    assert "FROM_IMAGE=<redacted>" in text  # only the engine knew it: nothing to restore
    assert lint_cassette(path, secrets=[TOKEN, PASSWORD, LITERAL]) == []

    replayed = await scenario(CassetteTransport(path))
    assert (
        replayed["frames"]
        == live["frames"]
        == [
            (1, f"token is {LITERAL}\n".encode()),
            (2, b"done\n"),
        ]
    )
    assert replayed["statuses"] == live["statuses"] == ["Pulled"]
    assert replayed["env"] == ["API_TOKEN=" + TOKEN, "PATH=/bin", "FROM_IMAGE=<redacted>"]
    assert replayed["auth"] == {"Status": "Login Succeeded", "IdentityToken": "<redacted>"}


def test_each_distinct_value_gets_its_own_placeholder() -> None:
    """Placeholders are per distinct value: a second value for a key gets its own."""
    redactor = Redactor()
    first = redactor.request_body("/v1.41/containers/create", b'{"Env":["K=one"]}')
    second = redactor.request_body("/v1.41/containers/create", b'{"Env":["K=two"]}')
    again = redactor.request_body("/v1.41/containers/create", b'{"Env":["K=one"]}')
    assert first == again == b'{"Env":["K=<redacted:K>"]}'
    assert second == b'{"Env":["K=<redacted:K#2>"]}'


def test_literal_masks_keep_lengths() -> None:
    redactor = Redactor(secrets=[LITERAL, "abcd"])
    data = f"x{LITERAL}y abcd".encode()
    masked = redactor.mask(data)
    assert len(masked) == len(data) and LITERAL.encode() not in masked
    assert b"abcd" not in masked
    assert redactor.restore(masked) == data


def test_secret_forms_are_masked() -> None:
    secret = 'pa"ss/word'
    redactor = Redactor(secrets=[secret])
    assert secret not in redactor.text("/x?p=pa%22ss%2Fword&q=" + secret)
    assert b'pa\\"ss/word' not in redactor.mask(msgspec.json.encode({"p": secret}))


def test_short_secrets_are_refused() -> None:
    with pytest.raises(CassetteError, match="at least 4 bytes"):
        Redactor(secrets=["abc"])


def test_sensitive_headers_are_replaced() -> None:
    redactor = Redactor()
    headers = redactor.headers(
        [("X-Registry-Auth", "eyJ..."), ("authorization", "Bearer x"), ("Accept", "a")]
    )
    assert headers == [
        ("X-Registry-Auth", "<redacted>"),
        ("authorization", "<redacted>"),
        ("Accept", "a"),
    ]


def test_keep_env_is_configurable() -> None:
    redactor = Redactor(keep_env=["MODE"])
    body = redactor.request_body("/containers/create", b'{"Env":["MODE=debug","PATH=/x"]}')
    assert body == b'{"Env":["MODE=debug","PATH=<redacted:PATH>"]}'


# -- Env values the test sends are masked everywhere, not only in Env lists ---------------------

EXEC_ID = "e1"
ECHOED = f"API_TOKEN={TOKEN}\nshort=abc\n".encode()
ENCODED = base64.b64encode(f"x{TOKEN}".encode())  # `echo x$API_TOKEN | base64`


def echoing_engine() -> ScriptedTransport:
    """An engine whose container prints its Env values: in its logs (framed, a value cut
    between two chunks), in an exec's output (TTY: raw), base64-encoded, and in a label."""
    logs = frame(1, ECHOED) + frame(2, ENCODED + b"\n")
    created = b'{"Id":"c1","Warnings":["label ' + TOKEN.encode() + b' ignored"]}\n'
    return ScriptedTransport(
        {
            ("POST", "/v1.41/containers/create"): json_answer(created, 201),
            ("GET", f"/v1.41/containers/{CONTAINER}/logs"): Answer(
                chunks=[logs[:15], logs[15:30], logs[30:]]
            ),
            ("POST", f"/v1.41/containers/{CONTAINER}/exec"): json_answer(b'{"Id":"e1"}\n', 201),
            ("POST", f"/v1.41/exec/{EXEC_ID}/start"): Answer(chunks=[b"tok-9f8e", b"7d6c5b4a\r\n"]),
            ("GET", "/v1.41/containers/json"): json_answer(b"[]\n"),
        }
    )


async def echoing_scenario(cassette: CassetteTransport) -> dict[str, object]:
    async with DockerClient(api_version="1.41", transport=cassette) as docker:
        created = await docker.containers.create(
            ContainerCreateRequest(
                image="busybox:local",
                env=[f"API_TOKEN={TOKEN}", "SHORT=abc"],
                labels={"token": TOKEN},
            ),
            name="web",
        )
        logs = docker.containers.logs(CONTAINER, tty=False)
        async with logs:
            frames = [(item.stream, item.data) async for item in logs]
        exec_id = await docker.exec.create(CONTAINER, ["sh", "-c", "echo $API_TOKEN"], tty=True)
        async with docker.exec.start(exec_id, tty=True) as output:
            exec_output = b"".join([item.data async for item in output])
        listed = await docker.containers.list(filters={"label": [f"token={TOKEN}"]})
    return {
        "warnings": created.warnings,
        "frames": frames,
        "exec": exec_output,
        "listed": listed,
    }


async def test_env_values_are_masked_in_every_response_and_request(tmp_path: Path) -> None:
    path = tmp_path / "echo.json"
    scripted = echoing_engine()
    live = await echoing_scenario(CassetteTransport(path, record_mode="all", transport=scripted))
    text = path.read_text()
    raw_file = path.read_bytes()
    assert TOKEN not in text and ENCODED[4:20] not in raw_file
    for chunk in msgspec.json.decode(raw_file)["interactions"][1]["response"]["chunks"]:
        if "base64" in chunk:  # the framed logs: binary, kept as base64 in the file
            decoded = base64.b64decode(chunk["base64"])
            assert TOKEN.encode()[4:] not in decoded and ENCODED[4:12] not in decoded
    mask = "<API_TOKEN" + "*" * (len(TOKEN) - 11) + ">"  # its length: frame sizes hold
    assert mask in text
    assert "short=abc" in text  # shorter than 4 bytes: only its Env entry is redacted
    assert lint_cassette(path) == []
    assert lint_cassette(path, secrets=[TOKEN]) == []

    replayed = await echoing_scenario(CassetteTransport(path))
    assert replayed == live
    assert live["frames"] == [(1, ECHOED), (2, ENCODED + b"\n")]
    assert live["exec"] == f"{TOKEN}\r\n".encode()
    assert live["warnings"] == [f"label {TOKEN} ignored"]


def test_base64_forms_cover_every_alignment() -> None:
    secret = b"0123456789abcdef"
    forms = Redactor(secrets=[secret.decode()])
    for prefix in (b"", b"a", b"ab"):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(prefix + secret + b"tail")
            masked = forms.mask(encoded)
            assert len(masked) == len(encoded)
            skip = (3 - len(prefix)) % 3  # the value's bytes that share a group with others
            inside = encode(secret[skip : skip + 12])
            assert inside in encoded and inside not in masked
            assert forms.restore(masked) == encoded


def test_registry_header_secrets_are_masked_everywhere_after() -> None:
    redactor = Redactor()
    auth = {"username": "robot", "password": "pw-0123456789", "serveraddress": "r.test"}
    config = {"r.test": {"auth": base64.b64encode(b"robot:cfg-secret-42").decode()}}
    headers = redactor.headers(
        [
            ("X-Registry-Auth", base64.urlsafe_b64encode(msgspec.json.encode(auth)).decode()),
            ("X-Registry-Config", base64.urlsafe_b64encode(msgspec.json.encode(config)).decode()),
        ]
    )
    assert [value for _, value in headers] == ["<redacted>", "<redacted>"]
    echoed = b'{"error":"denied for pw-0123456789 and cfg-secret-42"}'
    masked = redactor.response_body("/v1.41/images/create", echoed)
    assert b"pw-0123456789" not in masked and b"cfg-secret-42" not in masked
    assert len(masked) == len(echoed)
    assert redactor.restore(masked) == echoed


def test_an_auth_body_password_is_masked_everywhere_after() -> None:
    redactor = Redactor()
    body = redactor.request_body("/v1.41/auth", b'{"username":"u","password":"pw-0123456789"}')
    assert body == b'{"username":"u","password":"<redacted>"}'
    assert b"pw-0123456789" not in redactor.mask(b"log: pw-0123456789")


def test_a_malformed_registry_header_is_still_replaced() -> None:
    redactor = Redactor()
    assert redactor.headers([("X-Registry-Auth", "%%% not base64")]) == [
        ("X-Registry-Auth", "<redacted>")
    ]
    assert redactor.secrets == ()

"""The cassette lint: finds credentials and registered secrets; our own cassettes are clean."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import msgspec
import pytest

from lightshuttle_runtime.testing import (
    Body,
    Cassette,
    Chunk,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    lint_cassette,
    lint_paths,
    save_cassette,
)
from lightshuttle_runtime.testing.__main__ import main

CASSETTES = Path(__file__).parent.parent / "cassettes"
CREDENTIALS = {"username": "me", "password": "s3cret-pass", "serveraddress": "r.test"}


def write(path: Path, request: RecordedRequest, chunks: Sequence[bytes] = ()) -> Path:
    response = RecordedResponse(200, chunks=[Chunk.from_bytes(data) for data in chunks])
    save_cassette(Cassette(interactions=[Interaction(request=request, response=response)]), path)
    return path


def test_our_cassettes_hold_no_credentials() -> None:
    findings, count = lint_paths([CASSETTES])
    assert findings == []
    assert count >= len(list((CASSETTES / "handmade").glob("*.json"))) > 0


def test_a_registry_auth_header_is_found(tmp_path: Path) -> None:
    value = base64.urlsafe_b64encode(msgspec.json.encode(CREDENTIALS)).decode()
    request = RecordedRequest("POST", "/v1.41/images/create", headers=[("X-Registry-Auth", value)])
    (finding,) = lint_cassette(write(tmp_path / "a.json", request))
    assert finding.where == "interaction #0 request header X-Registry-Auth"
    assert "registry credentials (password)" in finding.what


def test_a_registry_config_in_a_body_is_found(tmp_path: Path) -> None:
    config = {"https://index.docker.io/v1/": {"auth": base64.b64encode(b"me:pw").decode()}}
    blob = base64.b64encode(msgspec.json.encode(config)).decode()
    request = RecordedRequest("GET", "/x")
    findings = lint_cassette(write(tmp_path / "b.json", request, [f"cfg={blob}\n".encode()]))
    assert [f.what for f in findings] == ["holds base64-encoded registry credentials (auth)"]


def test_an_auth_body_in_clear_is_found(tmp_path: Path) -> None:
    body = Body.from_bytes(msgspec.json.encode(CREDENTIALS))
    request = RecordedRequest("POST", "/v1.41/auth", body=body)
    (finding,) = lint_cassette(write(tmp_path / "c.json", request))
    assert finding.where == "interaction #0 request body"
    assert finding.what == "holds credentials in clear (password)"


def test_basic_and_bearer_authorization_are_found(tmp_path: Path) -> None:
    basic = "Basic " + base64.b64encode(b"me:pw").decode()
    request = RecordedRequest(
        "GET", "/x", headers=[("Authorization", basic), ("Proxy-Authorization", "Bearer abc")]
    )
    findings = lint_cassette(write(tmp_path / "d.json", request))
    assert sorted(f.what for f in findings) == [
        "holds HTTP basic credentials (user:password)",
        "holds a bearer token",
    ]


def test_registered_secrets_are_found_in_any_form(tmp_path: Path) -> None:
    secret = 'my "secret" value'
    request = RecordedRequest("GET", "/x")
    path = write(
        tmp_path / "e.json", request, [b"\xff" + secret.encode(), b'{"a":"my \\"secret\\" value"}']
    )
    findings = lint_cassette(path, secrets=[secret])
    assert [f.where for f in findings] == ["interaction #0 response body"] * 2
    assert lint_cassette(path) == []


def test_redacted_values_are_not_findings(tmp_path: Path) -> None:
    body = Body.from_bytes(b'{"username":"me","password":"<redacted>","serveraddress":"r"}')
    request = RecordedRequest(
        "POST", "/v1.41/auth", headers=[("X-Registry-Auth", "<redacted>")], body=body
    )
    assert lint_cassette(write(tmp_path / "f.json", request)) == []


def test_an_invalid_file_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{")
    (finding,) = lint_cassette(path)
    assert finding.where == "file" and "cannot be checked" in finding.what


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = write(tmp_path / "clean" / "ok.json", RecordedRequest("GET", "/_ping"), [b"OK"])
    leaky = write(tmp_path / "leaky.json", RecordedRequest("GET", "/x"), [b"token-123456"])
    assert main(["lint", str(clean.parent)]) == 0
    assert main(["lint", "--secret", "token-123456", str(clean.parent), str(leaky)]) == 1
    out, err = capsys.readouterr()
    assert f"{leaky}: interaction #0 response body: contains a registered secret" in out
    assert "2 cassette(s) checked, 1 finding(s)" in err
    with pytest.raises(SystemExit) as caught:
        main(["lint", str(tmp_path / "missing")])
    assert caught.value.code == 2


def test_the_module_runs(tmp_path: Path) -> None:
    leaky = write(tmp_path / "leaky.json", RecordedRequest("GET", "/x"), [b"token-123456"])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lightshuttle_runtime.testing",
            "lint",
            "--secret",
            "token-123456",
            str(leaky),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "contains a registered secret" in result.stdout


# -- Env values ------------------------------------------------------------------------------

TOKEN = "tok-9f8e7d6c5b4a"
REDACTED_CREATE = RecordedRequest(
    "POST",
    "/v1.41/containers/create",
    body=Body.from_bytes(b'{"Image":"busybox:local","Env":["API_TOKEN=<redacted:API_TOKEN>"]}'),
)


def frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


def leaky(path: Path, *responses: tuple[RecordedRequest, list[bytes]]) -> Path:
    """A cassette as an older recorder wrote it: the create request redacted, the answers not."""
    interactions = [Interaction(request=REDACTED_CREATE, response=RecordedResponse(201))]
    for request, chunks in responses:
        response = RecordedResponse(200, chunks=[Chunk.from_bytes(data) for data in chunks])
        interactions.append(Interaction(request=request, response=response))
    save_cassette(Cassette(interactions=interactions), path)
    return path


def test_an_env_value_printed_by_the_container_is_found(tmp_path: Path) -> None:
    logs = RecordedRequest("GET", "/v1.41/containers/c1/logs")
    body = frame(2, b"\xfe\n") + frame(1, f"HOME=/root\nAPI_TOKEN={TOKEN}\n".encode())
    path = leaky(tmp_path / "env-output.json", (logs, [body]))
    assert '"base64"' in path.read_text() and TOKEN not in path.read_text()  # not UTF-8
    (finding,) = lint_cassette(path)
    assert finding.where == "interaction #1 response body"
    assert finding.what == "holds the value of the redacted Env API_TOKEN in clear"


@pytest.mark.parametrize(
    "chunks",
    [
        [frame(2, b"\xfe"), frame(1, f"{TOKEN}\n".encode())],  # framed, not UTF-8: base64
        [f"{TOKEN}\r\n".encode()],  # the same on a TTY: text in the file
        [base64.b64encode(f"x{TOKEN}\n".encode()) + b"\n"],  # `... | base64`
    ],
    ids=["framed", "text", "base64-encoded"],
)
def test_a_value_alone_is_found_when_named(tmp_path: Path, chunks: list[bytes]) -> None:
    output = RecordedRequest("POST", "/v1.41/exec/e1/start")
    path = leaky(tmp_path / "echo.json", (output, chunks))
    assert lint_cassette(path) == []  # nothing says that this text is a secret
    (finding,) = lint_cassette(path, secrets=[TOKEN])
    assert finding.where == "interaction #1 response body"
    assert finding.what.startswith("contains a registered secret")


def test_env_lists_in_clear_are_found(tmp_path: Path) -> None:
    inspect = RecordedRequest("GET", "/v1.41/containers/c1/json")
    env = ["PATH=/bin", "MODE=debug", "API_TOKEN=<redacted:API_TOKEN>", "OTHER=<redacted>"]
    answer = msgspec.json.encode({"Id": "c1", "Config": {"Env": env}})
    path = leaky(tmp_path / "inspect.json", (inspect, [answer]))
    (finding,) = lint_cassette(path)
    assert finding.what == "holds Env values in clear (MODE)"
    assert lint_cassette(path, keep_env=["PATH", "MODE"]) == []
    assert main(["lint", "--keep-env", "PATH", "--keep-env", "MODE", str(path)]) == 0


def test_a_registry_config_header_is_found(tmp_path: Path) -> None:
    config = {"127.0.0.1:5443": {"username": "me", "identitytoken": "tok-0123456789"}}
    value = base64.urlsafe_b64encode(msgspec.json.encode(config)).decode()
    request = RecordedRequest("POST", "/v1.41/build", headers=[("X-Registry-Config", value)])
    (finding,) = lint_cassette(write(tmp_path / "c.json", request))
    assert finding.where == "interaction #0 request header X-Registry-Config"
    assert "registry credentials (identitytoken)" in finding.what


def test_a_token_in_a_response_body_is_found(tmp_path: Path) -> None:
    request = RecordedRequest("POST", "/v1.41/auth")
    answer = b'{"Status":"Login Succeeded","IdentityToken":"tok-0123456789"}'
    (finding,) = lint_cassette(write(tmp_path / "d.json", request, [answer]))
    assert finding.where == "interaction #0 response body"
    assert "IdentityToken" in finding.what

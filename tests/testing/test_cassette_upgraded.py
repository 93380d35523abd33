"""Upgraded connections (101) in cassettes: recorded both ways in order, replayed with the
client's side checked, and linted. The engine is the scripted FakeEngine (``upgrade()``:
a greeting, then an echo until the client half-closes)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from anyio.abc import ByteStream

from lightshuttle_runtime import DockerClient
from lightshuttle_runtime._transports import upgraded_stream
from lightshuttle_runtime.testing import (
    Body,
    Cassette,
    CassetteError,
    CassetteTransport,
    FakeEngine,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    SessionEvent,
    lint_cassette,
    load_cassette,
    save_cassette,
    upgrade,
)

from .test_fake_engine import read_all

pytestmark = pytest.mark.anyio

PATH = "/v1.41/exec/abc/start"
HEADERS = {"Connection": "Upgrade", "Upgrade": "tcp", "Content-Type": "application/json"}


@pytest.fixture
def sock_path() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="ls-")  # short: socket paths are ~100 bytes at most
    yield os.path.join(folder, "fake.sock")
    shutil.rmtree(folder, ignore_errors=True)


async def open_session(transport: httpx.AsyncBaseTransport) -> tuple[httpx.Response, ByteStream]:
    request = httpx.Request("POST", f"http://docker{PATH}", headers=HEADERS, content=b"{}")
    response = await transport.handle_async_request(request)
    assert response.status_code == 101
    return response, upgraded_stream(response)


async def conversation(stream: ByteStream) -> bytes:
    """Greeting, one echoed line, then more input, the half-close and the rest."""
    received = await stream.receive()
    while received != b"hi\n":
        received += await stream.receive()
    await stream.send(b"ping\n")
    while not received.endswith(b"ping\n"):
        received += await stream.receive()
    await stream.send(b"one ")
    await stream.send(b"two\n")
    await stream.send_eof()
    return received + await read_all(stream)


async def test_an_upgraded_exchange_records_and_replays(sock_path: str, tmp_path: Path) -> None:
    cassette = tmp_path / "upgraded.json"
    async with FakeEngine(sock_path) as engine:
        engine.enqueue(upgrade(b"hi\n"))
        recorder = CassetteTransport(
            cassette, record_mode="all", transport=DockerClient(f"unix://{sock_path}").transport
        )
        response, stream = await open_session(recorder)
        live = await conversation(stream)
        await stream.aclose()
        await response.aclose()
        await recorder.aclose()
    assert live == b"hi\nping\none two\n"

    recorded = load_cassette(cassette).interactions[0].response
    assert recorded is not None and recorded.session is not None
    assert [event.op for event in recorded.session if event.op != "receive"] == [
        "send",
        "send",
        "send",
        "send_eof",
    ]
    assert recorded.end == "complete"
    assert recorded.received() == live

    player = CassetteTransport(cassette)
    response, stream = await open_session(player)
    assert await conversation(stream) == live
    await stream.aclose()
    player.assert_all_played()


def tape(*events: SessionEvent, end: str = "complete") -> Cassette:
    return Cassette(
        interactions=[
            Interaction(
                request=RecordedRequest(method="POST", path=PATH, body=Body(json={})),
                response=RecordedResponse(status=101, session=list(events), end=end),  # type: ignore[arg-type]
            )
        ]
    )


def send(data: bytes, **kw: object) -> SessionEvent:
    return SessionEvent(op="send", data=Body.from_bytes(data), **kw)  # type: ignore[arg-type]


def receive(data: bytes) -> SessionEvent:
    return SessionEvent(op="receive", data=Body.from_bytes(data))


EOF = SessionEvent(op="send_eof")


async def replay(tmp_path: Path, cassette: Cassette) -> ByteStream:
    path = tmp_path / "tape.json"
    save_cassette(cassette, path)
    _response, stream = await open_session(CassetteTransport(path))
    return stream


async def test_each_answer_waits_for_what_was_sent_before_it(tmp_path: Path) -> None:
    stream = await replay(tmp_path, tape(send(b"abc"), receive(b"ABC"), EOF, receive(b"done")))
    with anyio.move_on_after(0.2) as scope:
        await stream.receive()
    assert scope.cancelled_caught, "an answer came before the client sent what it answers"
    await stream.send(b"ab")  # another chunking than recorded: matched as a stream
    await stream.send(b"c")
    assert await stream.receive() == b"ABC"
    with anyio.move_on_after(0.2) as scope:
        await stream.receive()
    assert scope.cancelled_caught, "the answer after the half-close came before it"
    await stream.send_eof()
    assert await stream.receive() == b"done"
    with pytest.raises(anyio.EndOfStream):
        await stream.receive()


async def test_other_bytes_than_recorded_are_an_error(tmp_path: Path) -> None:
    stream = await replay(tmp_path, tape(send(b"abc"), receive(b"ABC")))
    with pytest.raises(CassetteError, match="other bytes than recorded"):
        await stream.send(b"abd")


async def test_more_bytes_than_recorded_are_an_error(tmp_path: Path) -> None:
    stream = await replay(tmp_path, tape(send(b"abc"), receive(b"ABC")))
    with pytest.raises(CassetteError, match="more than recorded"):
        await stream.send(b"abcdef")


async def test_a_half_close_elsewhere_is_an_error(tmp_path: Path) -> None:
    stream = await replay(tmp_path, tape(send(b"abc"), EOF))
    with pytest.raises(CassetteError, match="half-closed"):
        await stream.send_eof()


async def test_a_large_send_is_kept_as_a_digest_and_still_checked(tmp_path: Path) -> None:
    big = bytes(range(256)) * 64
    event = SessionEvent(op="send", data=Body.digest_of(big))
    stream = await replay(tmp_path, tape(event, receive(b"ok")))
    await stream.send(big)
    assert await stream.receive() == b"ok"
    other = await replay(tmp_path, tape(event))
    with pytest.raises(CassetteError, match="other bytes"):
        await other.send(big[:-1] + b"!")


async def test_a_failed_write_fails_again(tmp_path: Path) -> None:
    stream = await replay(tmp_path, tape(send(b"abc", failed=True)))
    with pytest.raises(anyio.BrokenResourceError):
        await stream.send(b"abc")


async def test_the_connection_ends_as_recorded(tmp_path: Path) -> None:
    broken = await replay(
        tmp_path,
        Cassette(
            interactions=[
                Interaction(
                    request=RecordedRequest(method="POST", path=PATH, body=Body(json={})),
                    response=RecordedResponse(
                        status=101,
                        session=[receive(b"x")],
                        end="error",
                        error={"exception": "ReadError", "message": "reset"},  # type: ignore[arg-type]
                    ),
                )
            ]
        ),
    )
    assert await broken.receive() == b"x"
    with pytest.raises(anyio.BrokenResourceError):
        await broken.receive()

    closed = await replay(tmp_path, tape(receive(b"x"), end="closed"))
    assert await closed.receive() == b"x"
    with anyio.move_on_after(0.2) as scope:
        await closed.receive()  # the recording client closed first: nothing more comes
    assert scope.cancelled_caught


def test_the_format_refuses_inconsistent_steps() -> None:
    with pytest.raises(ValueError, match="data"):
        SessionEvent(op="send_eof", data=Body(text="x"))
    with pytest.raises(ValueError, match="data"):
        SessionEvent(op="send")
    with pytest.raises(ValueError, match="session"):
        RecordedResponse(status=200, session=[])


def test_lint_finds_a_secret_in_an_upgraded_session(tmp_path: Path) -> None:
    leaked = tape(send(b"echo hunter2-secret\n"), receive(b"aHVudGVyMi1zZWNyZXQ=\n"))
    path = tmp_path / "leak.json"
    save_cassette(leaked, path)
    places = [str(finding) for finding in lint_cassette(path, secrets=["hunter2-secret"])]
    assert any("upgraded connection, sent" in place for place in places), places
    assert any("upgraded connection, received" in place for place in places), places

"""The cassette file format: lossless, readable, strict about mistakes."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightshuttle_runtime.testing import (
    Body,
    Cassette,
    CassetteFormatError,
    CassetteNotFoundError,
    Chunk,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    load_cassette,
    save_cassette,
)


@given(st.binary(max_size=300))
def test_any_bytes_survive_a_chunk(data: bytes) -> None:
    chunk = Chunk.from_bytes(data, 0.5)
    again = msgspec.json.decode(msgspec.json.encode(chunk), type=Chunk)
    assert again.to_bytes() == data


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b'{"Id":"abc","Warnings":[]}\n', "json"),
        (b'[{"Id":"abc"}]', "json"),
        (b'{"status":"Pulling"}\r\n', "json"),
        (b'{"a":"\\u003cb\\u003e"}\n', "text"),  # Go's HTML escaping: JSON, but not re-encodable
        (b'{"a": 1}', "text"),  # not compact: kept as written
        (b"OK", "text"),
        (b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n", "text"),
        (b"\xff\xfe\x00", "base64"),
    ],
)
def test_bytes_take_the_most_readable_lossless_form(data: bytes, field: str) -> None:
    body = Body.from_bytes(data)
    assert {name for name in ("text", "base64", "json") if name in msgspec.to_builtins(body)} == {
        field
    }
    assert msgspec.json.decode(msgspec.json.encode(body), type=Body).to_bytes() == data


def sample() -> Cassette:
    return Cassette(
        interactions=[
            Interaction(
                request=RecordedRequest(
                    "POST",
                    "/v1.41/containers/create",
                    query=[("name", "web")],
                    headers=[("Content-Type", "application/json"), ("X-A", "1"), ("X-A", "2")],
                    body=Body.from_bytes(b'{"Image":"busybox:local","Env":["A=<redacted:A>"]}'),
                ),
                response=RecordedResponse(
                    201,
                    reason="Created",
                    headers=[("Content-Type", "application/json")],
                    chunks=[Chunk.from_bytes(b'{"Id":"abc","Warnings":[]}\n', 0.0012)],
                ),
            )
        ]
    )


def test_files_round_trip_and_read_well(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "sample.json"
    save_cassette(sample(), path)
    text = path.read_text()
    assert load_cassette(path) == sample()
    assert text.endswith("}\n") and text.startswith('{\n  "version": 1,\n')
    lines = text.splitlines()
    assert '          ["X-A", "1"],' in lines  # one header, one line: one-line diffs
    assert '            "Env": ["A=<redacted:A>"]' in lines  # short flat arrays stay flat
    assert '              "Id": "abc",' in lines  # JSON bodies are written out as JSON
    save_cassette(sample(), path)
    assert path.read_text() == text  # deterministic


def test_a_hand_written_cassette_loads(tmp_path: Path) -> None:
    path = tmp_path / "hand.json"
    path.write_text(
        """{"version": 1, "interactions": [
          {"request": {"method": "GET", "path": "/_ping"},
           "response": {"status": 200, "chunks": [{"text": "OK"}]}}]}"""
    )
    (interaction,) = load_cassette(path).interactions
    assert interaction.response is not None
    assert interaction.response.body() == b"OK"
    assert interaction.response.end == "complete"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "not a cassette file"),
        ('{"version": 2, "interactions": []}', "format version 2 is not supported"),
        ('{"interactions": []}', "not a cassette file"),
        (
            '{"version": 1, "interactions": [{"request": {"method": "GET", "path": "/x"}, '
            '"response": {"status": 200, "chunk": []}}]}',
            r"unknown field `chunk` - at `\$.interactions\[0\].response`",
        ),
        (
            '{"version": 1, "interactions": [{"request": {"method": "GET", "path": "/x"}, '
            '"response": {"status": 200, "chunks": [{"text": "a", "base64": "YQ=="}]}}]}',
            "exactly one of",
        ),
        (
            '{"version": 1, "interactions": [{"request": {"method": "GET", "path": "/x?a=1"}, '
            '"response": {"status": 200}}]}',
            "use `query`",
        ),
        (
            '{"version": 1, "interactions": [{"request": {"method": "GET", "path": "/x"}}]}',
            "exactly one of `response` and `error`",
        ),
        (
            '{"version": 1, "interactions": [{"request": {"method": "GET", "path": "/x"}, '
            '"response": {"status": 200, "end": "error"}}]}',
            "`error` is required",
        ),
        (
            '{"version": 1, "interactions": [{"request": {"method": "GET", "path": "/x"}, '
            '"response": {"status": 200, "chunks": [{"base64": "%%%"}]}}]}',
            "not valid base64",
        ),
    ],
)
def test_mistakes_are_reported_with_their_place(
    tmp_path: Path, document: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(document)
    with pytest.raises(CassetteFormatError, match=message) as caught:
        load_cassette(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_is_its_own_error(tmp_path: Path) -> None:
    with pytest.raises(CassetteNotFoundError):
        load_cassette(tmp_path / "nope.json")


def test_digest_bodies_have_no_bytes() -> None:
    body = Body.digest_of(b"x" * 10)
    assert body.is_digest and body.length == 10
    with pytest.raises(Exception, match="length \\+ sha256 only"):
        body.to_bytes()


def test_the_documented_example_is_a_valid_cassette() -> None:
    import textwrap

    import lightshuttle_runtime.testing as testing

    doc = testing.__doc__ or ""
    section = doc[doc.index("The cassette file (format version 1)") :]
    lines = section.splitlines()
    start = lines.index("    {")
    end = lines.index("    }", start)
    example = textwrap.dedent("\n".join(lines[start : end + 1]))
    cassette = Cassette.from_json(example)
    create, ping = cassette.interactions
    assert create.response is not None and create.response.body() == (
        b'{"Id":"4a08c04d","Warnings":[]}\n'
    )
    assert ping.error is not None and ping.error.exception == "ConnectError"

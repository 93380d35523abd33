"""BuildProgress: every builder's build records read into the same typed events; the build
stream's bytes in any split give the same events; truncation and garbage give typed errors."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lightshuttle_runtime import BuildStepError, DecodeError, LogStream, StreamTruncatedError
from lightshuttle_runtime._streams._build_progress import BuildProgress
from lightshuttle_runtime.api._build import _EventDecoder
from lightshuttle_runtime.models import (
    BuildEvent,
    BuildFailed,
    BuildMessage,
    BuildOutput,
    ImageBuilt,
    StepCached,
    StepCompleted,
    StepFailed,
    StepLog,
    StepStarted,
)

DATA = Path(__file__).parent / "data"


def events_of(records: list[dict[str, object]]) -> list[BuildEvent]:
    progress = BuildProgress()
    return [e for r in records for e in progress.feed(msgspec.convert(r, BuildMessage))]


def capture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def decode(chunks: list[bytes]) -> list[BuildEvent]:
    decoder = _EventDecoder()
    return [e for chunk in chunks for e in decoder.feed(chunk)] + decoder.close()


def kinds(events: list[BuildEvent], step_part: str) -> list[str]:
    return [type(e).__name__ for e in events if step_part in getattr(e, "step", "")]


def test_buildkit_steps_logs_and_failure() -> None:
    events = decode([capture("buildkit-docker20-failing-run.jsonl")])
    step = "[2/2] RUN echo before && exit 3"
    assert kinds(events, step) == ["StepStarted", "StepLog", "StepFailed", "BuildFailed"]
    failed = next(e for e in events if isinstance(e, StepFailed))
    assert failed.log == ("before",) and failed.error.endswith("exit code: 3")
    log = next(e for e in events if isinstance(e, StepLog))
    assert (log.stream, log.data) == (LogStream.STDOUT, b"before\n")
    last = events[-1]
    assert isinstance(last, BuildFailed) and last.step == step
    with pytest.raises(BuildStepError) as caught:
        BuildProgress.raise_for(last)
    assert caught.value.step == step and caught.value.log == ("before",)
    assert f"step {step!r} failed" in str(caught.value) and "  before" in str(caught.value)


def test_buildkit_completed_steps_have_durations_and_the_image_id() -> None:
    events = decode([capture("buildkit-docker28-cache-mount.jsonl")])
    run = "[stage-0 2/3] RUN --mount=type=cache,target=/cache"
    assert kinds(events, run) == ["StepStarted", "StepLog", "StepCompleted"]
    done = next(e for e in events if isinstance(e, StepCompleted) and run in e.step)
    assert done.duration is not None and done.duration.total_seconds() > 0
    assert isinstance(events[-1], ImageBuilt) and events[-1].image_id.startswith("sha256:")


def test_a_second_buildkit_build_reports_its_steps_cached() -> None:
    events = decode([capture("buildkit-docker28-cache-mount-again.jsonl")])
    cached = [e.step for e in events if isinstance(e, StepCached)]
    assert any("2/3] RUN --mount=type=cache" in s for s in cached)
    assert any("3/3] RUN echo two" in s for s in cached)
    assert not [e for e in events if isinstance(e, StepStarted) and "RUN" in e.step]


def test_docker_classic_builder_lines() -> None:
    events = events_of(
        [
            {"stream": "Step 1/3 : FROM busybox:local"},
            {"stream": "\n"},
            {"stream": " ---> 2c9b1f5d8a4e\n"},
            {"stream": "Step 2/3 : RUN echo hi"},
            {"stream": "\n"},
            {"stream": " ---> Using cache\n"},
            {"stream": " ---> 1a2b3c\n"},
            {"stream": "Step 3/3 : RUN echo a; echo b; exit 2"},
            {"stream": "\n"},
            {"stream": " ---> Running in 7d1e\n"},
            {"stream": "a\n"},
            {"stream": "b\n"},
            {"error": "returned a non-zero code: 2", "errorDetail": {"code": 2, "message": "x"}},
        ]
    )
    assert events == [
        StepStarted(step="[1/3] FROM busybox:local", digest="[1/3] FROM busybox:local"),
        BuildOutput(text=" ---> 2c9b1f5d8a4e\n"),
        StepCompleted(step="[1/3] FROM busybox:local", digest="[1/3] FROM busybox:local"),
        StepStarted(step="[2/3] RUN echo hi", digest="[2/3] RUN echo hi"),
        StepCached(step="[2/3] RUN echo hi", digest="[2/3] RUN echo hi"),
        BuildOutput(text=" ---> 1a2b3c\n"),
        StepStarted(
            step="[3/3] RUN echo a; echo b; exit 2", digest="[3/3] RUN echo a; echo b; exit 2"
        ),
        BuildOutput(text=" ---> Running in 7d1e\n"),
        StepLog(
            step="[3/3] RUN echo a; echo b; exit 2",
            digest="[3/3] RUN echo a; echo b; exit 2",
            stream=LogStream.STDOUT,
            data=b"a\n",
        ),
        StepLog(
            step="[3/3] RUN echo a; echo b; exit 2",
            digest="[3/3] RUN echo a; echo b; exit 2",
            stream=LogStream.STDOUT,
            data=b"b\n",
        ),
        StepFailed(
            step="[3/3] RUN echo a; echo b; exit 2",
            digest="[3/3] RUN echo a; echo b; exit 2",
            error="x",
            log=("a", "b"),
        ),
        BuildFailed(message="x", code=2, step="[3/3] RUN echo a; echo b; exit 2", log=("a", "b")),
    ]


def test_podman_buildah_lines() -> None:
    events = events_of(
        [
            {"stream": "STEP 1/2: FROM busybox:local\n"},
            {"stream": "STEP 2/2: RUN echo hi\n"},
            {"stream": "--> Using cache 5d4b7110f3f9527d\n"},
            {"stream": "--> 5d4b7110f3f\n"},
            {"stream": "COMMIT ls:1\n"},
            {"aux": {"ID": "sha256:5d4b"}},
            {"stream": "Successfully tagged ls:1\n"},
        ]
    )
    assert [type(e).__name__ for e in events] == [
        "StepStarted",
        "StepCompleted",
        "StepStarted",
        "StepCached",
        "BuildOutput",
        "BuildOutput",
        "ImageBuilt",
        "BuildOutput",
    ]
    assert events[3] == StepCached(step="[2/2] RUN echo hi", digest="[2/2] RUN echo hi")


def test_an_error_before_any_step_names_none() -> None:
    (event,) = events_of([{"error": "dockerfile parse error line 3", "errorDetail": {}}])
    assert event == BuildFailed(message="dockerfile parse error line 3")


def test_the_log_tail_keeps_the_last_20_lines_and_a_partial_one() -> None:
    lines = [{"stream": "Step 1/1 : RUN x"}] + [{"stream": f"{n}\n"} for n in range(30)]
    events = events_of([*lines, {"stream": "partial"}, {"error": "boom"}])
    failed = events[-1]
    assert isinstance(failed, BuildFailed)
    assert failed.log == (*(str(n) for n in range(11, 30)), "partial")


CAPTURES = sorted(p.name for p in DATA.glob("buildkit-*.jsonl"))


@pytest.mark.parametrize("name", CAPTURES)
@given(cuts=st.lists(st.integers(min_value=0, max_value=8000), max_size=12))
def test_any_split_gives_the_same_events(name: str, cuts: list[int]) -> None:
    body = capture(name)
    points = sorted({min(c, len(body)) for c in cuts})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    assert decode(chunks) == decode([body])


@pytest.mark.parametrize("name", CAPTURES)
@given(data=st.data())
def test_a_stream_cut_inside_a_record_is_truncated(name: str, data: st.DataObject) -> None:
    body = capture(name)
    # Not at a record's end: neither right after a newline nor right before its separator.
    cut = data.draw(
        st.integers(1, len(body) - 1).filter(
            lambda c: body[c - 1] != ord("\n") and not body[c:].startswith((b"\n", b"\r\n"))
        )
    )
    with pytest.raises((StreamTruncatedError, DecodeError)):
        decode([body[:cut]])


def test_a_garbage_trace_is_a_decode_error() -> None:
    body = b'{"id":"moby.buildkit.trace","aux":"CgUKA2Fi"}\n'  # a vertex cut short
    with pytest.raises(DecodeError, match="runs past the end"):
        decode([body])

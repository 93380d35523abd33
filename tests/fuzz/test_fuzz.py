"""Bounded fuzzing in the test suite: each target for ``LS_FUZZ_SECONDS`` (default 2 s).

The seed of the run is printed on failure with the input that failed; ``LS_FUZZ_SEED`` replays
a run. A longer hunt: ``LS_FUZZ_SECONDS=300 pytest tests/fuzz``, or atheris (coverage-guided)
with ``python -m tests.fuzz <target> -max_total_time=300``.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections.abc import AsyncIterator

import anyio
import pytest

from lightshuttle_runtime import DockerClient, DockerError
from lightshuttle_runtime.testing import (
    Behaviour,
    Close,
    FakeEngine,
    ReceivedRequest,
    Send,
)

from .mutator import SEEDS, fuzz, mutate
from .targets import TARGETS

SECONDS = float(os.environ.get("LS_FUZZ_SECONDS", "2"))
SEED = int(os.environ.get("LS_FUZZ_SEED", str(random.randrange(2**32))))


@pytest.mark.parametrize("name", list(TARGETS))
def test_fuzz_target(name: str) -> None:
    run = fuzz(TARGETS[name], SEEDS[name], seconds=SECONDS, seed=SEED)
    assert run.inputs > len(SEEDS[name]), f"only {run.inputs} inputs in {run.seconds:.1f} s"


@pytest.mark.parametrize("name", list(TARGETS))
def test_seeds_pass_unmutated(name: str) -> None:
    for data in SEEDS[name]:
        TARGETS[name](b"\x00\x00\x00\x00" + data)


# -- the whole client against arbitrary answers ------------------------------------------------


@pytest.fixture
async def answering() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A FakeEngine that answers each request with the next bytes of a list, then closes."""
    folder = tempfile.mkdtemp(prefix="ls-fuzz-")
    path = os.path.join(folder, "engine.sock")
    answers: list[bytes] = []

    def answer(_request: ReceivedRequest) -> Behaviour:
        return Behaviour((Send(answers.pop(0)), Close()))

    try:
        async with FakeEngine(path, answer):
            yield path, answers
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.anyio
async def test_fuzz_the_client_with_arbitrary_answers(
    answering: tuple[str, list[bytes]],
) -> None:
    """Whatever the engine sends, an ordinary call and a follow stream end in a result or a
    DockerError, within the request timeout; nothing else escapes, nothing hangs."""
    path, answers = answering
    rng = random.Random(SEED)
    seeds = [*SEEDS["http"]]
    deadline = anyio.current_time() + SECONDS / 2
    count = 0
    async with DockerClient(f"unix://{path}", api_version="1.41", timeout=1.0) as docker:
        while anyio.current_time() < deadline:
            data = mutate(rng, rng.choice(seeds), seeds)
            answers.append(data)
            count += 1
            with anyio.fail_after(5):
                try:
                    if count % 2:
                        await docker.containers.inspect("c0ffee")
                    else:
                        async with docker.containers.logs("c0ffee", tty=False, follow=True) as s:
                            async for _frame in s:
                                pass
                except DockerError:
                    pass
                except Exception as exc:
                    raise AssertionError(f"{type(exc).__name__} for answer {data!r}") from exc
    assert count > 10

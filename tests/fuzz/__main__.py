"""Run one fuzz target under atheris (coverage-guided): ``python -m tests.fuzz http [-flags]``.

Targets: http, frames, logs, json (see targets.py). libFuzzer flags follow the name, e.g.
``-max_total_time=300`` or ``-runs=100000``. Needs ``pip install atheris`` (not a test
dependency: CI runs the time-bounded loop of test_fuzz.py instead).
"""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"http", "frames", "logs", "json"}:
        sys.exit("usage: python -m tests.fuzz {http,frames,logs,json} [libFuzzer flags]")
    import atheris  # type: ignore[import-untyped]

    with atheris.instrument_imports():
        from lightshuttle_runtime import _http11
        from lightshuttle_runtime._streams import _json_lines, _multiplexed, _timestamps

        from .targets import TARGETS
    del _http11, _json_lines, _multiplexed, _timestamps
    name = sys.argv.pop(1)
    atheris.Setup(sys.argv, TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()

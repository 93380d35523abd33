"""What ``import lightshuttle_runtime`` (and the CLI's cheap commands) load: only what a call needs.

Not a timing test: each check runs a fresh interpreter and names the modules that must stay
off the import path — heavy standard-library modules, httpcore (which loads trio when trio is
installed), the build, archive and tar code, the testing kit, the CLI. A module that httpx
itself imports is not ours to keep off, so each check looks only at what is loaded *after*
``import httpx``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

#: Heavy or rarely needed modules (ours and the standard library's) that a plain import must
#: not add to what httpx loads.
HEAVY = (
    "ssl",
    "subprocess",
    "tarfile",
    "zipfile",
    "gzip",
    "email",
    "urllib.request",
    "http.client",
    "logging",
    "asyncio",
    "concurrent.futures",
    "tempfile",
    "shutil",
    "argparse",
    "httpcore",
    "h11",
    "trio",
    "lightshuttle_runtime._cli",
    "lightshuttle_runtime._tar",
    "lightshuttle_runtime._context",
    "lightshuttle_runtime._dockerignore",
    "lightshuttle_runtime._credentials",
    "lightshuttle_runtime._interactive",
    "lightshuttle_runtime.api",
    "lightshuttle_runtime.models",
    "lightshuttle_runtime.runtime",
    "lightshuttle_runtime.testing",
    "lightshuttle_runtime._streams",
    "lightshuttle_runtime._transports._ssh",
    "lightshuttle_runtime._transports._ssh_httpx",
    "lightshuttle_runtime._transports._httpx",
    "lightshuttle_runtime._transports._remote",
)

_PROBE = """
import json, sys
import httpx
before = set(sys.modules)
{code}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def added_modules(code: str) -> list[str]:
    """The modules a fresh interpreter loads running ``code`` after ``import httpx``."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(code=code)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    added: list[str] = json.loads(done.stdout.splitlines()[-1])
    return added


def heavy_among(added: list[str], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(m for m in added if any(m == h or m.startswith(h + ".") for h in heavy))


def test_import_adds_nothing_heavy() -> None:
    assert heavy_among(added_modules("import lightshuttle_runtime")) == []


def test_public_names_still_resolve() -> None:
    # the lazy exports answer every name in __all__ (each loads its module on first use)
    code = (
        "import lightshuttle_runtime as l\n"
        "missing = [n for n in l.__all__ if not hasattr(l, n)]\n"
        "assert not missing, missing\n"
    )
    added_modules(code)


def test_client_construction_adds_nothing_heavy() -> None:
    # a client of the Unix socket: its native transport, no httpcore, no API area yet
    code = (
        "import lightshuttle_runtime\n"
        "lightshuttle_runtime.DockerClient('unix:///nonexistent.sock')\n"
    )
    assert heavy_among(added_modules(code)) == []


@pytest.mark.parametrize("command", ["ps", "version"])
def test_cli_cheap_commands_skip_build_registry_and_interactive_code(command: str) -> None:
    # building the parser and parsing `ps`/`version` loads no code of the build, the
    # credentials, exec/attach sessions, archives or the testing kit (the registry and
    # interactive command modules add their parsers, their imports stay inside the commands)
    code = f"from lightshuttle_runtime import _cli\n_cli.build_parser().parse_args([{command!r}])\n"
    never = (
        "tarfile",
        "subprocess",
        "httpcore",
        "trio",
        "lightshuttle_runtime._tar",
        "lightshuttle_runtime._context",
        "lightshuttle_runtime._dockerignore",
        "lightshuttle_runtime._credentials",
        "lightshuttle_runtime._interactive",
        "lightshuttle_runtime._cli_build",
        "lightshuttle_runtime.testing",
        "lightshuttle_runtime.api._build",
        "lightshuttle_runtime.api._archive",
        "lightshuttle_runtime._streams._build_progress",
        "lightshuttle_runtime._streams._buildkit",
    )
    assert heavy_among(added_modules(code), never) == []


def test_every_error_class_and_the_readme_names_are_top_level() -> None:
    # README's Errors section promises every client error class at the top level, and the
    # save/load example imports loaded_images from there; dir() shows the public names only
    code = (
        "import inspect, lightshuttle_runtime as l\n"
        "from lightshuttle_runtime import _errors, _credentials\n"
        "from lightshuttle_runtime._streams import _build_progress\n"
        "errors = [n for m in (_errors, _credentials, _build_progress)\n"
        "          for n, o in vars(m).items() if inspect.isclass(o)\n"
        "          and issubclass(o, BaseException) and o.__module__ == m.__name__]\n"
        "assert errors and not [n for n in errors if n not in l.__all__], errors\n"
        "from lightshuttle_runtime import loaded_images\n"
        "from lightshuttle_runtime.api import loaded_images as api_loaded_images\n"
        "assert loaded_images is api_loaded_images\n"
        "assert dir(l) == sorted(l.__all__), set(dir(l)) ^ set(l.__all__)\n"
        "assert 'TYPE_CHECKING' not in dir(l) and 'lazy_exports' not in dir(l)\n"
    )
    added_modules(code)

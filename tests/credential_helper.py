"""A small credential helper for the tests: ``docker-credential-<name>`` speaking the protocol.

:func:`install` writes an executable ``docker-credential-<name>`` into a directory (put it on
``PATH``). It keeps its credentials in a JSON file (``{server: {"Username", "Secret"}}``) next to
itself and implements ``get`` (server URL on stdin; ``credentials not found in native
keychain`` and exit 1 when it has none), ``store`` (``{"ServerURL", "Username", "Secret"}`` on
stdin), ``erase`` (server URL on stdin) and ``list`` (``{server: username}``). Every call is
appended to ``calls.log`` (action and server only, never a secret) so a test can see what ran.
"""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

_SOURCE = r"""
import json, sys
from pathlib import Path

here = Path(__file__).resolve().parent
store_file = here / (Path(__file__).name + ".json")
log = here / "calls.log"
action = sys.argv[1] if len(sys.argv) > 1 else ""
data = sys.stdin.read()
store = json.loads(store_file.read_text()) if store_file.exists() else {}
if action in ("get", "erase"):
    server = data.strip()
elif action == "store":
    entry = json.loads(data)
    server = entry["ServerURL"]
else:
    server = ""
with log.open("a") as out:
    out.write(f"{Path(__file__).name} {action} {server}\n")
if action == "get":
    if server not in store:
        print("credentials not found in native keychain")
        sys.exit(1)
    found = store[server]
    print(json.dumps({"ServerURL": server, **found}))
elif action == "store":
    store[server] = {"Username": entry["Username"], "Secret": entry["Secret"]}
    store_file.write_text(json.dumps(store))
elif action == "erase":
    if server not in store:
        print("credentials not found in native keychain")
        sys.exit(1)
    del store[server]
    store_file.write_text(json.dumps(store))
elif action == "list":
    print(json.dumps({server: found["Username"] for server, found in store.items()}))
elif action == "fail":
    pass
else:
    print(f"unknown action {action!r}")
    sys.exit(1)
"""


def install(
    directory: Path, name: str = "lstest", credentials: Mapping[str, tuple[str, str]] = {}
) -> Path:
    """Write ``docker-credential-<name>`` into ``directory`` holding ``credentials``
    (``{server: (username, secret)}``); returns the program's path."""
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / f"docker-credential-{name}"
    program.write_text(f"#!{sys.executable}\n{_SOURCE}")
    program.chmod(program.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    stored = {
        server: {"Username": user, "Secret": secret}
        for server, (user, secret) in credentials.items()
    }
    (directory / f"{program.name}.json").write_text(json.dumps(stored))
    return program


def stored(program: Path) -> dict[str, dict[str, str]]:
    """What the helper at ``program`` holds now."""
    data: dict[str, dict[str, str]] = json.loads(Path(f"{program}.json").read_text())
    return data


def calls(directory: Path) -> list[str]:
    """The helper calls made so far: ``"docker-credential-NAME ACTION SERVER"`` lines."""
    log = directory / "calls.log"
    return log.read_text().splitlines() if log.exists() else []

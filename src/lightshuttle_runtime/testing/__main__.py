"""``python -m lightshuttle_runtime.testing lint [--secret VALUE]... PATH...``

Exit status: 0 nothing found, 1 findings (each printed on one line), 2 bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ._lint import lint_paths
from ._redaction import DEFAULT_KEEP_ENV

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m lightshuttle_runtime.testing",
        description="Tools for lightshuttle_runtime cassettes.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    lint = commands.add_parser(
        "lint",
        help="fail when a cassette holds a credential, an Env value or a given secret",
        description="Check cassette files (directories are searched for *.json) for decodable "
        "registry credentials, Env values in clear (in Env lists, and KEY=value text for a key "
        "the cassette redacted) and literal secrets in any form.",
    )
    lint.add_argument("paths", nargs="+", help="cassette files or directories")
    lint.add_argument(
        "--secret", action="append", default=[], metavar="VALUE", help="a literal to look for"
    )
    lint.add_argument(
        "--secrets-env",
        action="append",
        default=[],
        metavar="VAR",
        help="an environment variable whose value is a literal to look for",
    )
    lint.add_argument(
        "--keep-env",
        action="append",
        metavar="NAME",
        help="an Env name whose values may stay in clear (repeatable; default: "
        f"{', '.join(sorted(DEFAULT_KEEP_ENV))}, as the Redactor keeps)",
    )
    args = parser.parse_args(argv)
    missing = [path for path in args.paths if not os.path.exists(path)]
    if missing:
        parser.error(f"no such file or directory: {', '.join(missing)}")
    secrets = list(args.secret) + [
        os.environ[var] for var in args.secrets_env if os.environ.get(var)
    ]
    keep = DEFAULT_KEEP_ENV if args.keep_env is None else frozenset(args.keep_env)
    findings, count = lint_paths(args.paths, secrets=secrets, keep_env=keep)
    for finding in findings:
        print(finding)
    print(f"{count} cassette(s) checked, {len(findings)} finding(s)", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m lightshuttle_runtime``: the ``lightshuttle-runtime`` command line."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())

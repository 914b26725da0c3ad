"""Entry point: ``python -m ops <command> --env NAME`` (run with the project's ``.venv/bin/python``)."""

import sys

try:
    from .cli import main
except ModuleNotFoundError as error:  # another interpreter: one line saying how to run it, no traceback
    print(
        f"unilake ops: {sys.executable} has no {error.name!r} module; run the CLI with the project's virtualenv: "
        "`make setup` once, then `.venv/bin/python -m ops ...` from the repository root",
        file=sys.stderr,
    )
    raise SystemExit(2) from None

raise SystemExit(main())

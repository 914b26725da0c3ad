"""Entry point: ``python -m ops <command> --env NAME``."""

from .cli import main

raise SystemExit(main())

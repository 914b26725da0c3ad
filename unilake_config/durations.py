"""Durations written the way people write them in YAML: ``30s``, ``5m``, ``2h``, ``7d``."""

from __future__ import annotations

import functools
import re
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_PATTERN = re.compile(r"^\s*(\d+)\s*(ms|s|m|h|d)\s*$")


def parse_seconds(value: object, *, zero: bool = False) -> int:
    """Parse ``"30s"``/``"5m"``/``"3d"`` (or a bare number of seconds) into whole seconds; 0 only with ``zero``."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '30s', '5m', '2h' or '7d'")
    if isinstance(value, int):
        seconds: float = value
    elif isinstance(value, str) and (match := _PATTERN.match(value)):
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise ValueError(f"{value!r} is not a duration such as '30s', '5m', '2h' or '7d'")
    if seconds < 0 or (seconds == 0 and not zero) or seconds != int(seconds):
        kind = "a whole number of seconds, 0 or more" if zero else "a positive whole number of seconds"
        raise ValueError(f"{value!r} must be {kind}")
    return int(seconds)


def format_seconds(seconds: int) -> str:
    """The shortest exact spelling of a duration: 90 -> '90s', 300 -> '5m', 86400 -> '1d'."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Seconds = Annotated[int, BeforeValidator(parse_seconds), PlainSerializer(format_seconds)]
"""A duration field: accepts '30s', '5m', '2h', '7d' or an integer of seconds; holds seconds."""

SecondsOrZero = Annotated[
    int, BeforeValidator(functools.partial(parse_seconds, zero=True)), PlainSerializer(format_seconds)
]
"""A duration field where 0 (``0s``) is allowed, for a feature that 0 turns off."""

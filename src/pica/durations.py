"""Durations in settings: a number of seconds, or a number with a unit suffix (`120s`, `5m`,
`12h`, `60d`), so that pica.toml and PICA_* variables can say `395d` and tests can say `20s`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([smhd]?)\s*")


def parse_duration(text: str) -> timedelta:
    """Raise ValueError unless `text` is a positive duration as above."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration (seconds, or a number with s, m, h or d)")
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    return timedelta(seconds=seconds)

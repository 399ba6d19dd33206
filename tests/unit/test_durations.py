"""Durations in settings: seconds or a unit suffix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pica.durations import parse_duration
from pica.settings import SettingsError, build


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("120", 120), ("120s", 120), ("5m", 300), ("12h", 43200), ("60d", 5184000), ("1.5s", 1.5)],
)
def test_durations_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0", "0s", "-5s", "5 weeks", "5w", "d"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_acm_settings_take_durations() -> None:
    settings = build({"acm_certificate_validity": 60, "acm_renewal_window": "20s"})
    assert settings.acm_certificate_validity_duration == timedelta(seconds=60)
    assert settings.acm_renewal_window_duration == timedelta(seconds=20)
    assert build({}).acm_certificate_validity_duration == timedelta(days=395)
    assert build({}).acm_renewal_window_duration == timedelta(days=60)
    with pytest.raises(SettingsError, match="acm_renewal_window"):
        build({"acm_renewal_window": "soon"})

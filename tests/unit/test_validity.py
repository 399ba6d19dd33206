"""Validity arithmetic exactly as the ACM PCA `Validity` type documents it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pica.authority.model import Validity, ValidityType
from pica.authority.validity import BACKDATE, end_of, window
from pica.errors import InvalidArgs

NOW = datetime(2020, 10, 12, 12, 34, 54, tzinfo=UTC)


def v(value: int, kind: ValidityType) -> Validity:
    return Validity(value=value, type=kind)


def test_days_example_from_the_aws_docs() -> None:
    assert end_of(v(90, ValidityType.DAYS), NOW) == datetime(2021, 1, 10, 12, 34, 54, tzinfo=UTC)


def test_months_clamp_to_the_last_day_of_the_month() -> None:
    start = datetime(2021, 1, 31, tzinfo=UTC)
    assert end_of(v(1, ValidityType.MONTHS), start) == datetime(2021, 2, 28, tzinfo=UTC)
    assert end_of(v(13, ValidityType.MONTHS), start) == datetime(2022, 2, 28, tzinfo=UTC)


def test_years_from_a_leap_day() -> None:
    start = datetime(2024, 2, 29, tzinfo=UTC)
    assert end_of(v(1, ValidityType.YEARS), start) == datetime(2025, 2, 28, tzinfo=UTC)
    assert end_of(v(4, ValidityType.YEARS), start) == datetime(2028, 2, 29, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (491231235959, datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (500101000000, datetime(1950, 1, 1, tzinfo=UTC)),
        (20501231235959, datetime(2050, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_end_date_utc_and_generalized_time(value: int, expected: datetime) -> None:
    assert end_of(v(value, ValidityType.END_DATE), NOW) == expected


@pytest.mark.parametrize("value", [1231, 491331235959, 20501232000000, 123456789012345])
def test_end_date_rejects_malformed_values(value: int) -> None:
    with pytest.raises(InvalidArgs):
        end_of(v(value, ValidityType.END_DATE), NOW)


def test_absolute_example_from_the_aws_docs() -> None:
    assert end_of(v(2524608000, ValidityType.ABSOLUTE), NOW) == datetime(2050, 1, 1, tzinfo=UTC)


def test_absolute_rfc5280_forever_is_accepted_but_beyond_is_not() -> None:
    assert end_of(v(253402300799, ValidityType.ABSOLUTE), NOW).year == 9999
    with pytest.raises(InvalidArgs):
        end_of(v(253402300800, ValidityType.ABSOLUTE), NOW)
    with pytest.raises(InvalidArgs):
        end_of(v(10**20, ValidityType.ABSOLUTE), NOW)


def test_relative_types_past_year_9999_are_rejected() -> None:
    for kind in (ValidityType.DAYS, ValidityType.MONTHS, ValidityType.YEARS):
        with pytest.raises(InvalidArgs):
            end_of(v(10**7, kind), NOW)


def test_default_not_before_is_backdated_one_hour() -> None:
    result = window(v(1, ValidityType.DAYS), None, NOW)
    assert result.not_before == NOW - BACKDATE
    assert result.not_after == NOW + timedelta(days=1)


def test_validity_not_before_must_be_absolute_and_before_the_end() -> None:
    start = int((NOW + timedelta(days=1)).timestamp())
    result = window(v(10, ValidityType.DAYS), v(start, ValidityType.ABSOLUTE), NOW)
    assert result.not_before == NOW + timedelta(days=1)
    with pytest.raises(InvalidArgs):
        window(v(10, ValidityType.DAYS), v(1, ValidityType.DAYS), NOW)
    with pytest.raises(InvalidArgs):
        window(v(1, ValidityType.DAYS), v(start + 86400 * 5, ValidityType.ABSOLUTE), NOW)


def test_an_end_in_the_past_is_rejected() -> None:
    with pytest.raises(InvalidArgs):
        window(v(int(NOW.timestamp()) - 1, ValidityType.ABSOLUTE), None, NOW)

"""Validity periods exactly as the ACM PCA `Validity` type defines them.

END_DATE takes UTCTime (YYMMDDHHMMSS, YY >= 50 meaning 19YY) or GeneralizedTime
(YYYYMMDDHHMMSS); ABSOLUTE takes Unix seconds; DAYS/MONTHS/YEARS count from issuance, with
calendar arithmetic for months and years (a day that does not exist in the target month is
clamped to the month's last day). The default notBefore is one hour before issuance, as AWS does,
to absorb clock skew.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pica.authority.model import Validity, ValidityType
from pica.errors import InvalidArgs

BACKDATE = timedelta(minutes=60)
_MAX = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


@dataclass(frozen=True)
class ValidityWindow:
    not_before: datetime
    not_after: datetime


def _add_months(start: datetime, months: int) -> datetime:
    total = start.month - 1 + months
    year = start.year + total // 12
    month = total % 12 + 1
    if year > 9999:
        raise InvalidArgs("The validity period extends beyond the year 9999.")
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def _end_date(value: int) -> datetime:
    text = str(value)
    try:
        if len(text) == 12:
            yy = int(text[:2])
            year = 1900 + yy if yy >= 50 else 2000 + yy
            parsed = datetime.strptime(f"{year}{text[2:]}", "%Y%m%d%H%M%S")
        elif len(text) == 14:
            parsed = datetime.strptime(text, "%Y%m%d%H%M%S")
        else:
            raise ValueError("wrong length")
    except ValueError as exc:
        raise InvalidArgs(
            f"Validity value {value} of type END_DATE must be a date in the form YYMMDDHHMMSS "
            "or YYYYMMDDHHMMSS."
        ) from exc
    return parsed.replace(tzinfo=UTC)


def _absolute(value: int, what: str) -> datetime:
    try:
        moment = datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidArgs(f"{what} value {value} of type ABSOLUTE is out of range.") from exc
    if moment > _MAX:
        raise InvalidArgs(f"{what} value {value} of type ABSOLUTE is out of range.")
    return moment


def end_of(validity: Validity, now: datetime) -> datetime:
    """The notAfter a `Validity` names, relative to `now` for the relative types."""
    try:
        if validity.type is ValidityType.END_DATE:
            return _end_date(validity.value)
        if validity.type is ValidityType.ABSOLUTE:
            return _absolute(validity.value, "Validity")
        if validity.type is ValidityType.DAYS:
            end = now + timedelta(days=validity.value)
        elif validity.type is ValidityType.MONTHS:
            end = _add_months(now, validity.value)
        else:
            end = _add_months(now, validity.value * 12)
    except OverflowError as exc:
        raise InvalidArgs("The validity period extends beyond the year 9999.") from exc
    if end > _MAX:
        raise InvalidArgs("The validity period extends beyond the year 9999.")
    return end


def window(validity: Validity, not_before: Validity | None, now: datetime) -> ValidityWindow:
    """Resolve Validity and ValidityNotBefore into a checked window."""
    if not_before is None:
        start = now.replace(microsecond=0) - BACKDATE
    else:
        if not_before.type is not ValidityType.ABSOLUTE:
            raise InvalidArgs("ValidityNotBefore must be of type ABSOLUTE.")
        start = _absolute(not_before.value, "ValidityNotBefore")
    end = end_of(validity, now.replace(microsecond=0))
    if end <= now:
        raise InvalidArgs(f"The validity end {end.isoformat()} is not in the future.")
    if start >= end:
        raise InvalidArgs("ValidityNotBefore must be earlier than the end of the validity period.")
    return ValidityWindow(not_before=start, not_after=end)

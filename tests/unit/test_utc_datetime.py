"""UtcDateTime on SQLite: its direct processors store and read exactly what SQLAlchemy's own
DATETIME does, so databases written before (or by Alembic's migrations) read the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from pica.adapters.storage.tables import UtcDateTime

_DIALECT = sqlite.dialect()
_SQLALCHEMY = DateTime(timezone=True).dialect_impl(_DIALECT)
_STORE = _SQLALCHEMY.bind_processor(_DIALECT)
_LOAD = _SQLALCHEMY.result_processor(_DIALECT, None)
_BIND = UtcDateTime().bind_processor(_DIALECT)
_READ = UtcDateTime().result_processor(_DIALECT, None)

_OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=13))])


_MOMENTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_OFFSETS
)


@given(_MOMENTS)
def test_stored_text_is_sqlalchemys(moment: datetime) -> None:
    assert _STORE is not None and _BIND is not None and _READ is not None
    expected = _STORE(moment.astimezone(UTC).replace(tzinfo=None))
    assert _BIND(moment) == expected
    assert _READ(expected) == moment.astimezone(UTC)


@pytest.mark.parametrize(
    "stored",
    ["2026-01-02 03:04:05.000006", "2026-01-02 03:04:05", "2026-01-02 03:04:05.5", "2026-01-02"],
)
def test_text_sqlalchemy_reads_reads_the_same(stored: str) -> None:
    assert _LOAD is not None and _READ is not None
    assert _READ(stored) == _LOAD(stored).replace(tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    assert _BIND is not None
    with pytest.raises(ValueError, match="naive"):
        _BIND(datetime(2026, 1, 1))
    assert _BIND(None) is None
    assert _READ is not None and _READ(None) is None

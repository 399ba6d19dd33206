"""The live-server tests' polling helper: returns the first truthy value, fails at the deadline."""

from __future__ import annotations

import time

import pytest

from tests.support.polling import wait_until


def test_returns_the_first_truthy_value_without_waiting_longer() -> None:
    answers = iter([None, 0, "", "ready", "later"])
    started = time.monotonic()
    assert wait_until(lambda: next(answers), interval=0.01) == "ready"
    assert time.monotonic() - started < 1


def test_fails_at_the_deadline_naming_what_it_waited_for() -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"timed out after 0\.1 s waiting for the CRL"):
        wait_until(lambda: None, timeout=0.1, interval=0.01, what="the CRL")
    assert 0.1 <= time.monotonic() - started < 1

"""SignInLimit: each source gets a burst of attempts, then one per refill period."""

from __future__ import annotations

from pica.wire.console.sign_in_limit import SignInLimit


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_attempt_per_refill_period() -> None:
    clock = FakeMonotonic()
    limit = SignInLimit(capacity=3, refill_seconds=10.0, clock=clock)
    assert [limit.allow("10.0.0.1") for _ in range(4)] == [True, True, True, False]
    clock.now += 9.0
    assert not limit.allow("10.0.0.1")
    clock.now += 1.5
    assert limit.allow("10.0.0.1")
    assert not limit.allow("10.0.0.1")


def test_sources_are_counted_apart() -> None:
    clock = FakeMonotonic()
    limit = SignInLimit(capacity=1, refill_seconds=60.0, clock=clock)
    assert limit.allow("10.0.0.1")
    assert not limit.allow("10.0.0.1")
    assert limit.allow("10.0.0.2")


def test_refused_attempts_do_not_refill_the_bucket() -> None:
    clock = FakeMonotonic()
    limit = SignInLimit(capacity=1, refill_seconds=10.0, clock=clock)
    assert limit.allow("a")
    for _ in range(5):
        clock.now += 1.0
        assert not limit.allow("a")
    clock.now += 5.0  # 10 s since the last allowed attempt
    assert limit.allow("a")

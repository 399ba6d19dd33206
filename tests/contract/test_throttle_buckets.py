"""The `RateLimiter` port on both engines: the buckets' arithmetic, and one bucket shared by two
independent openings of the same database (two processes, or two nodes on PostgreSQL)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from pica.adapters.storage.sql_store import SqlStore
from pica.adapters.storage.throttle_records import buckets_for

# The buckets are an adapter on the SQL engine (buckets_for), not a port the memory store fakes.
pytestmark = pytest.mark.sql_only("throttle buckets live on the SQL engine, not behind a port")

KEY = ("111122223333", "acm-pca", "IssueCertificate")


def test_a_full_bucket_passes_its_rate_then_refuses(store: SqlStore) -> None:
    buckets = buckets_for(store.engine)
    answers = [buckets.take(KEY, 5) for _ in range(8)]
    assert answers[:5] == [True] * 5
    assert answers[5:] == [False] * 3


def test_refusals_spend_nothing_and_the_bucket_refills_at_the_rate(store: SqlStore) -> None:
    buckets = buckets_for(store.engine)
    while buckets.take(KEY, 10):
        pass
    for _ in range(20):  # refused calls do not dig the bucket deeper
        buckets.take(KEY, 10)
    time.sleep(0.25)  # 2.5 tokens back
    passed = sum(buckets.take(KEY, 10) for _ in range(5))
    assert 2 <= passed <= 3


def test_buckets_are_per_account_service_and_operation(store: SqlStore) -> None:
    buckets = buckets_for(store.engine)
    assert buckets.take(KEY, 1)
    assert not buckets.take(KEY, 1)
    assert buckets.take(("444455556666", "acm-pca", "IssueCertificate"), 1)
    assert buckets.take(("111122223333", "acm", "IssueCertificate"), 1)
    assert buckets.take(("111122223333", "acm-pca", "GetCertificate"), 1)


def test_a_rate_below_one_still_lets_one_call_through(store: SqlStore) -> None:
    buckets = buckets_for(store.engine)
    assert buckets.take(KEY, 0.5)
    assert not buckets.take(KEY, 0.5)


def test_two_openings_of_the_database_share_one_bucket(database_url: str) -> None:
    first, second = SqlStore(database_url), SqlStore(database_url)
    try:
        first.migrate()
        a, b = buckets_for(first.engine), buckets_for(second.engine)
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: (a if i % 2 else b).take(KEY, 20), range(60)))
        # 20 tokens, plus what refilled while the 60 calls ran (well under a second).
        assert 20 <= sum(answers) <= 30
    finally:
        first.dispose()
        second.dispose()

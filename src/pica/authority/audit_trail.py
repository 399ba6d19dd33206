"""The audit trail: an append-only, hash-chained record of every administrative action and
every use of a CA key, refusals included.

Recording is cheap on purpose. An action that succeeds appends its record (one INSERT) in the
transaction that performs it (`ca_access.load_ca` does it for the audited actions, so the
record exists exactly when the action committed); a refusal rolls its transaction back and is
recorded on its own afterwards (`record_refusal`). Neither computes a hash nor takes a lock
beyond its own transaction's.

Chaining happens apart, in each server process about once a second (`seal_pending`): under the
chain head's row lock (one sealer at a time on any number of nodes), committed records not yet
sealed get the next positions in insertion order, each hash covering its content, its position
and the previous record's hash; the head keeps the last position and hash. `verify` walks the
chain and names the first record that was edited (its hash), removed or reordered (a position
gap or a broken link), and a chain cut short (the head). Records are open to undetected change
only in the second before they are sealed; keep the head hash `pica audit verify` prints
somewhere else to detect the whole tail being replaced.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pica.authority.ca_access import Caller
from pica.authority.ports import Clock, Store
from pica.authority.sharing import (
    AUDIT_GENESIS_HASH,
    AuditRecord,
    AuditSeal,
    StoredAuditRecord,
)

# Records sealed per write transaction. Each transaction holds the write lock while it reads,
# hashes and updates its batch (~20 µs a record on SQLite), and issuance waits behind it; the
# sealing loop runs the next batch at once, so small batches cost no throughput and keep that
# wait to ~2 ms (a batch of 1000 made the p99 of IssueCertificate at ~700/s).
SEAL_BATCH = 100


def record_hash(position: int, prev_hash: str, record: AuditRecord) -> str:
    """SHA-256 over a canonical JSON array of the position, the link and every field."""
    canonical = json.dumps(
        [
            position,
            prev_hash,
            record.at.isoformat(timespec="microseconds"),
            record.request_id,
            record.account_id,
            record.access_key_id,
            record.action,
            record.resource,
            record.result,
            record.detail,
        ],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    unsealed: int
    head_position: int
    head_hash: str
    problem: str | None = None


@dataclass(frozen=True)
class AuditFilter:
    resource: str | None = None
    account_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None


class AuditTrail:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def record_refusal(
        self, caller: Caller, action: str, resource: str | None, error_code: str
    ) -> None:
        with self._store.transaction() as tx:
            tx.append_audit(
                AuditRecord(
                    at=self._clock.now(),
                    action=action,
                    result=error_code,
                    account_id=caller.account_id,
                    access_key_id=caller.access_key_id,
                    request_id=caller.request_id,
                    resource=resource,
                )
            )

    def record_system(self, action: str, resource: str | None, result: str, account: str) -> None:
        """An action pica takes by itself (CRL publication), on behalf of the CA's owner."""
        with self._store.transaction() as tx:
            tx.append_audit(
                AuditRecord(
                    at=self._clock.now(),
                    action=action,
                    result=result,
                    account_id=account,
                    resource=resource,
                )
            )

    def seal_pending(self, batch: int = SEAL_BATCH) -> int:
        """Chain the records committed since the last seal; how many were sealed."""
        with self._store.transaction(read_only=True) as tx:
            if not tx.has_unsealed_audit():
                return 0  # the common case takes no write lock
        with self._store.transaction() as tx:
            position, prev_hash = tx.lock_audit_head()
            pending = tx.unsealed_audit(batch)
            seals = []
            for stored in pending:
                position += 1
                digest = record_hash(position, prev_hash, stored.record)
                seals.append(AuditSeal(stored.record_id, position, prev_hash, digest))
                prev_hash = digest
            if pending:
                tx.seal_audit(seals)
                tx.set_audit_head(position, prev_hash)
        return len(pending)

    def verify(self) -> Verification:
        with self._store.transaction(read_only=True) as tx:
            head = tx.audit_head() or (0, AUDIT_GENESIS_HASH)
            unsealed = sum(1 for _ in tx.list_audit() if _.position is None)
            expected, prev, checked = 1, AUDIT_GENESIS_HASH, 0
            problem = None
            # Leaving the loop early drops the stream, which closes its cursor.
            for stored in tx.audit_chain():
                problem = _chain_problem(stored, expected, prev)
                if problem is not None:
                    break
                prev = stored.hash or ""
                expected += 1
                checked += 1
        if problem is None and (expected - 1, prev) != head:
            problem = (
                f"the chain ends at position {expected - 1} but its head names position "
                f"{head[0]}: records were removed from the end, or the head was changed"
            )
        return Verification(problem is None, checked, unsealed, head[0], head[1], problem)

    def list(self, filters: AuditFilter) -> Iterator[StoredAuditRecord]:
        with self._store.transaction(read_only=True) as tx:
            yield from tx.list_audit(
                resource=filters.resource,
                account_id=filters.account_id,
                action=filters.action,
                since=filters.since,
                until=filters.until,
                limit=filters.limit,
            )


def _chain_problem(stored: StoredAuditRecord, expected: int, prev: str) -> str | None:
    assert stored.position is not None
    if stored.position != expected:
        return (
            f"position {expected} is missing (the next record is at {stored.position}): a "
            "record was deleted"
        )
    if stored.prev_hash != prev:
        return (
            f"the record at position {expected} (id {stored.record_id}) does not link to the "
            "one before it: records were reordered or one was replaced"
        )
    if record_hash(stored.position, prev, stored.record) != stored.hash:
        return f"the record at position {expected} (id {stored.record_id}) was edited"
    return None

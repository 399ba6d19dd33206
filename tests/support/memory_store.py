"""`MemoryStore`: the `Store` and `AcmStore` ports in plain dicts, for in-process service tests.

Why a fake and not SQLite: a service test wants the domain's rules, not a database file, a
migration run and a write lock per test. The fake is kept honest by the contract suites
(tests/contract), which run every port-semantics test against it as against `SqlStore` on SQLite
and PostgreSQL; what it must match:
- a transaction sees its own writes; it commits when the block exits normally and rolls back
  when it raises (copy-on-begin: the block works on a copy of every table, swapped in on commit);
- writers run one at a time (a lock, like SQLite's BEGIN IMMEDIATE); a read-only transaction
  reads the last committed state without waiting and refuses writes with RuntimeError;
- `Conflict` on every uniqueness violation, leaving the transaction usable and unchanged;
- the CA and ACM certificate optimistic version checks (`ConcurrentModification`);
- the idempotency replacement rule (`pica.authority.idempotency.replaceable_before`);
- the orders and pages the SQL adapter gives (ARN order, newest first, insertion order, ...).
Times are stored as given (the SQL adapter normalises them to UTC; tests pass UTC).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pica.authority import idempotency
from pica.authority.acm.model import AcmCertificate, CertificateStatus, CertificateType
from pica.authority.console_ports import ConsoleSession
from pica.authority.model import (
    AccessKey,
    Account,
    CaStatus,
    CertificateAuthority,
    CrlState,
    IssuedCertificate,
    RevocationReason,
    RevokedEntry,
    SealedKey,
    Tag,
)
from pica.authority.sharing import (
    AUDIT_GENESIS_HASH,
    AuditEntry,
    AuditRecord,
    AuditReport,
    AuditReportStatus,
    AuditSeal,
    Permission,
    StoredAuditRecord,
)
from pica.errors import ConcurrentModification, Conflict

if TYPE_CHECKING:
    from pica.authority.ports import AcmStore, AcmTransaction, Store, Transaction


@dataclass
class _Tables:
    """Every table; values are immutable records (or tuples), so a shallow copy of each dict is
    a full snapshot."""

    accounts: dict[str, Account] = field(default_factory=dict)
    access_keys: dict[str, tuple[AccessKey, SealedKey]] = field(default_factory=dict)
    cas: dict[str, CertificateAuthority] = field(default_factory=dict)
    certificates: dict[tuple[str, int], IssuedCertificate] = field(default_factory=dict)
    crl_state: dict[str, CrlState] = field(default_factory=dict)
    bucket_owners: dict[str, str] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    tags: dict[str, tuple[Tag, ...]] = field(default_factory=dict)
    permissions: dict[tuple[str, str, str], Permission] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)
    policy_principals: dict[str, frozenset[str]] = field(default_factory=dict)
    requesters: dict[tuple[str, int], str] = field(default_factory=dict)
    # report id -> (report, lease_until)
    audit_reports: dict[str, tuple[AuditReport, datetime | None]] = field(default_factory=dict)
    audit_trail: dict[int, StoredAuditRecord] = field(default_factory=dict)
    audit_next_id: dict[str, int] = field(default_factory=lambda: {"id": 1})
    audit_head: dict[str, tuple[int, str]] = field(default_factory=dict)
    console_sessions: dict[str, ConsoleSession] = field(default_factory=dict)
    acm_certificates: dict[str, AcmCertificate] = field(default_factory=dict)
    acm_tags: dict[str, tuple[Tag, ...]] = field(default_factory=dict)
    acm_days_before_expiry: dict[str, int] = field(default_factory=dict)

    def copy(self) -> _Tables:
        return _Tables(**{f.name: dict(getattr(self, f.name)) for f in fields(self)})


class MemoryStore:
    """The `Store`/`AcmStore` ports over `_Tables`; share one per test (thread-safe)."""

    def __init__(self) -> None:
        self._committed = _Tables()
        self._write_lock = threading.Lock()

    def recent_ca(self, arn: str) -> CertificateAuthority | None:
        return self._committed.cas.get(arn)

    @contextmanager
    def transaction(
        self, *, read_only: bool = False, snapshot: bool = True
    ) -> Iterator[MemoryTransaction]:
        del snapshot  # every read sees the committed tables of its start
        if read_only:
            # The committed tables are never mutated in place (commit swaps them), so a
            # reader may use them as they are.
            yield MemoryTransaction(self._committed, read_only=True)
            return
        with self._write_lock:
            working = self._committed.copy()
            yield MemoryTransaction(working, read_only=False)
            self._committed = working

    def key_refs_in_use(self) -> frozenset[str]:
        """As `SqlStore.key_refs_in_use`: the key-encryption keys that sealed something here."""
        tables = self._committed
        refs = {ca.sealed_key.key_ref for ca in tables.cas.values() if ca.sealed_key is not None}
        refs |= {sealed.key_ref for _, sealed in tables.access_keys.values()}
        refs |= {c.sealed_key.key_ref for c in tables.acm_certificates.values() if c.sealed_key}
        return frozenset(refs)


def _live(lease_until: datetime | None, now: datetime) -> bool:
    return lease_until is not None and lease_until >= now


class MemoryTransaction:
    """One unit of work on a private copy of the tables; implements `AcmTransaction`."""

    def __init__(self, tables: _Tables, *, read_only: bool) -> None:
        self._t = tables
        self._read_only = read_only

    def _writable(self) -> None:
        if self._read_only:
            raise RuntimeError("write attempted in a read-only transaction")

    # --- accounts and access keys -------------------------------------------------------------

    def insert_account(self, account: Account) -> None:
        self._writable()
        if account.account_id in self._t.accounts:
            raise Conflict(f"account {account.account_id} already exists")
        self._t.accounts[account.account_id] = account

    def get_account(self, account_id: str) -> Account | None:
        return self._t.accounts.get(account_id)

    def list_accounts(self) -> list[Account]:
        return sorted(self._t.accounts.values(), key=lambda a: a.account_id)

    def insert_access_key(self, key: AccessKey, sealed_secret: SealedKey) -> None:
        self._writable()
        if key.access_key_id in self._t.access_keys:
            raise Conflict(f"access key {key.access_key_id} already exists")
        self._t.access_keys[key.access_key_id] = (key, sealed_secret)

    def get_access_key(self, access_key_id: str) -> tuple[AccessKey, SealedKey] | None:
        return self._t.access_keys.get(access_key_id)

    def list_access_keys(self, account_id: str | None = None) -> list[AccessKey]:
        keys = [k for k, _ in self._t.access_keys.values()]
        if account_id is not None:
            keys = [k for k in keys if k.account_id == account_id]
        return sorted(keys, key=lambda k: (k.account_id, k.created_at, k.access_key_id))

    def delete_access_key(self, access_key_id: str) -> bool:
        self._writable()
        return self._t.access_keys.pop(access_key_id, None) is not None

    # --- certificate authorities --------------------------------------------------------------

    def insert_ca(self, ca: CertificateAuthority) -> None:
        self._writable()
        if ca.arn in self._t.cas:
            raise Conflict(f"CA {ca.arn} already exists")
        self._t.cas[ca.arn] = ca

    def get_ca(self, arn: str, *, for_update: bool = False) -> CertificateAuthority | None:
        if for_update:
            self._writable()
        return self._t.cas.get(arn)

    def update_ca(self, ca: CertificateAuthority) -> None:
        self._writable()
        stored = self._t.cas.get(ca.arn)
        if stored is None or stored.version != ca.version - 1:
            raise ConcurrentModification(
                f"CA {ca.arn} changed (or vanished) since version {ca.version - 1} was read"
            )
        self._t.cas[ca.arn] = ca

    def list_cas(
        self, account_id: str, *, limit: int, after_arn: str | None = None
    ) -> list[CertificateAuthority]:
        cas = sorted(
            (ca for ca in self._t.cas.values() if ca.account_id == account_id),
            key=lambda ca: ca.arn,
        )
        if after_arn is not None:
            cas = [ca for ca in cas if ca.arn > after_arn]
        return cas[:limit]

    def count_cas(self, account_id: str) -> int:
        return sum(1 for ca in self._t.cas.values() if ca.account_id == account_id)

    def delete_ca(self, arn: str) -> None:
        self._writable()
        for key in [k for k in self._t.certificates if k[0] == arn]:
            del self._t.certificates[key]
        self._t.tags.pop(arn, None)
        self._t.crl_state.pop(arn, None)
        # What the schema deletes by ON DELETE CASCADE: the sharing and oversight rows.
        for granted in [k for k in self._t.permissions if k[0] == arn]:
            del self._t.permissions[granted]
        self._t.policies.pop(arn, None)
        self._t.policy_principals.pop(arn, None)
        for requested in [k for k in self._t.requesters if k[0] == arn]:
            del self._t.requesters[requested]
        for report_id in [i for i, (r, _) in self._t.audit_reports.items() if r.ca_arn == arn]:
            del self._t.audit_reports[report_id]
        self._t.cas.pop(arn, None)

    def list_cas_due_for_purge(self, now: datetime, limit: int) -> list[str]:
        due = [
            ca
            for ca in self._t.cas.values()
            if ca.status is CaStatus.DELETED
            and ca.restorable_until is not None
            and ca.restorable_until <= now
        ]
        due.sort(key=lambda ca: (ca.restorable_until, ca.arn))
        return [ca.arn for ca in due[:limit]]

    def find_cas_by_key_hash(self, algorithm: str, key_hash: bytes) -> list[CertificateAuthority]:
        attribute = {"sha1": "public_key_sha1", "sha256": "public_key_sha256"}.get(algorithm)
        if attribute is None:
            return []
        return [ca for ca in self._t.cas.values() if getattr(ca, attribute) == key_hash]

    def find_ca_by_id(self, ca_id: str) -> CertificateAuthority | None:
        found = [ca for ca in self._t.cas.values() if ca.ca_id == ca_id]
        return found[0] if len(found) == 1 else None

    # --- certificates -------------------------------------------------------------------------

    def insert_certificate(
        self, cert: IssuedCertificate, *, while_ca_at: int | None = None
    ) -> bool:
        self._writable()
        if while_ca_at is not None:
            ca = self._t.cas.get(cert.ca_arn)
            if ca is None or ca.version != while_ca_at:
                return False
        key = (cert.ca_arn, cert.serial)
        if key in self._t.certificates:
            raise Conflict(f"certificate {cert.arn} already exists")
        self._t.certificates[key] = cert
        return True

    def get_certificate(self, ca_arn: str, serial: int) -> IssuedCertificate | None:
        return self._t.certificates.get((ca_arn, serial))

    def revoke_certificate(
        self, ca_arn: str, serial: int, revoked_at: datetime, reason: RevocationReason
    ) -> bool:
        self._writable()
        cert = self._t.certificates.get((ca_arn, serial))
        if cert is None or cert.revoked_at is not None:
            return False
        self._t.certificates[(ca_arn, serial)] = replace(
            cert, revoked_at=revoked_at, revocation_reason=reason
        )
        return True

    def revoked_entries(
        self, ca_arn: str, *, expiring_after: datetime, partition: str | None = None
    ) -> Iterator[RevokedEntry]:
        for cert in list(self._t.certificates.values()):
            if (
                cert.ca_arn == ca_arn
                and cert.revoked_at is not None
                and cert.not_after >= expiring_after
                and (partition is None or cert.crl_partition == partition)
            ):
                yield RevokedEntry(cert.serial, cert.revoked_at, cert.revocation_reason)

    # --- CRL state and buckets ----------------------------------------------------------------

    def get_crl_state(self, ca_arn: str) -> CrlState | None:
        return self._t.crl_state.get(ca_arn)

    def _crl_state(self, ca_arn: str) -> CrlState:
        return self._t.crl_state.setdefault(ca_arn, CrlState(ca_arn))

    def _update_crl_state(self, ca_arn: str, **changes: Any) -> None:
        state = self._t.crl_state.get(ca_arn)
        if state is not None:
            self._t.crl_state[ca_arn] = replace(state, **changes)

    def mark_crl_dirty(self, ca_arn: str, at: datetime) -> None:
        self._writable()
        state = self._crl_state(ca_arn)
        if state.dirty_since is None:
            self._t.crl_state[ca_arn] = replace(state, dirty_since=at)

    def _crl_due(self, now: datetime) -> list[str]:
        return sorted(
            state.ca_arn
            for state in self._t.crl_state.values()
            if (
                state.dirty_since is not None
                or (state.next_refresh_at is not None and state.next_refresh_at <= now)
            )
            and (state.lease_until is None or state.lease_until < now)
        )

    def has_crl_work(self, now: datetime) -> bool:
        return bool(self._crl_due(now))

    def claim_crl_work(self, now: datetime, lease_until: datetime, limit: int) -> list[str]:
        self._writable()
        due = self._crl_due(now)[:limit]
        for arn in due:
            self._update_crl_state(arn, lease_until=lease_until)
        return due

    def start_crl_publication(self, ca_arn: str, retry_at: datetime) -> None:
        self._writable()
        self._update_crl_state(ca_arn, dirty_since=None, next_refresh_at=retry_at)

    def record_crl_publication(
        self,
        ca_arn: str,
        *,
        crl_number: int,
        this_update: datetime,
        next_update: datetime,
        next_refresh_at: datetime | None,
    ) -> None:
        self._writable()
        self._update_crl_state(
            ca_arn,
            crl_number=crl_number,
            this_update=this_update,
            next_update=next_update,
            next_refresh_at=next_refresh_at,
            lease_until=None,
        )

    def reschedule_crl_publication(self, ca_arn: str, next_refresh_at: datetime | None) -> None:
        self._writable()
        self._update_crl_state(ca_arn, next_refresh_at=next_refresh_at, lease_until=None)

    def get_bucket_owner(self, bucket: str) -> str | None:
        return self._t.bucket_owners.get(bucket)

    def claim_bucket(self, bucket: str, account_id: str, at: datetime) -> str:
        self._writable()
        return self._t.bucket_owners.setdefault(bucket, account_id)

    def next_issue_sequence(self, ca_arn: str) -> int:
        self._writable()
        state = self._crl_state(ca_arn)
        self._t.crl_state[ca_arn] = replace(state, issued_count=state.issued_count + 1)
        return state.issued_count

    # --- idempotency --------------------------------------------------------------------------

    def get_idempotent_result(self, scope: str, token: str) -> tuple[str, datetime] | None:
        return self._t.idempotency.get((scope, token))

    def put_idempotent_result(self, scope: str, token: str, result: str, at: datetime) -> None:
        self._writable()
        stored = self._t.idempotency.get((scope, token))
        if stored is not None and stored[1] > idempotency.replaceable_before(at):
            raise Conflict(f"idempotency token {token!r} is already in use for {scope}")
        self._t.idempotency[(scope, token)] = (result, at)

    # --- tags ---------------------------------------------------------------------------------

    def get_tags(self, ca_arn: str) -> list[Tag]:
        return list(self._t.tags.get(ca_arn, ()))

    def put_tags(self, ca_arn: str, tags: list[Tag]) -> None:
        self._writable()
        _unique_keys(tags, ca_arn)
        self._t.tags[ca_arn] = tuple(tags)

    # --- permissions and policies -------------------------------------------------------------

    def insert_permission(self, permission: Permission) -> None:
        self._writable()
        key = (permission.ca_arn, permission.principal, permission.source_account or "")
        if key in self._t.permissions:
            raise Conflict(f"a permission for {permission.principal} already exists")
        self._t.permissions[key] = permission

    def get_permission(
        self, ca_arn: str, principal: str, source_account: str | None
    ) -> Permission | None:
        return self._t.permissions.get((ca_arn, principal, source_account or ""))

    def list_permissions(self, ca_arn: str) -> list[Permission]:
        keys = sorted(k for k in self._t.permissions if k[0] == ca_arn)
        return [self._t.permissions[k] for k in keys]

    def delete_permission(self, ca_arn: str, principal: str, source_account: str | None) -> bool:
        self._writable()
        key = (ca_arn, principal, source_account or "")
        return self._t.permissions.pop(key, None) is not None

    def get_policy(self, ca_arn: str) -> str | None:
        return self._t.policies.get(ca_arn)

    def put_policy(
        self, ca_arn: str, policy: str, shared_with: frozenset[str], at: datetime
    ) -> None:
        self._writable()
        self._t.policies[ca_arn] = policy
        self._t.policy_principals[ca_arn] = frozenset(shared_with)

    def delete_policy(self, ca_arn: str) -> bool:
        self._writable()
        self._t.policy_principals.pop(ca_arn, None)
        return self._t.policies.pop(ca_arn, None) is not None

    def list_cas_shared_with(
        self, account_id: str, *, limit: int, after_arn: str | None = None
    ) -> list[str]:
        arns = sorted(
            arn
            for arn, principals in self._t.policy_principals.items()
            if principals & {account_id, "*"}
            and arn in self._t.cas
            and self._t.cas[arn].account_id != account_id
            and (after_arn is None or arn > after_arn)
        )
        return arns[:limit]

    def record_requester(self, ca_arn: str, serial: int, account_id: str) -> None:
        self._writable()
        if (ca_arn, serial) in self._t.requesters:
            raise Conflict(f"the requester of {ca_arn} serial {serial} is recorded")
        self._t.requesters[(ca_arn, serial)] = account_id

    # --- audit reports ------------------------------------------------------------------------

    def insert_audit_report(self, report: AuditReport) -> None:
        self._writable()
        if report.report_id in self._t.audit_reports:
            raise Conflict(f"audit report {report.report_id} already exists")
        self._t.audit_reports[report.report_id] = (report, None)

    def get_audit_report(self, ca_arn: str, report_id: str) -> AuditReport | None:
        found = self._t.audit_reports.get(report_id)
        return found[0] if found is not None and found[0].ca_arn == ca_arn else None

    def last_audit_report_at(self, ca_arn: str) -> datetime | None:
        times = [r.created_at for r, _ in self._t.audit_reports.values() if r.ca_arn == ca_arn]
        return max(times, default=None)

    def claim_audit_reports(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[AuditReport]:
        self._writable()
        due = sorted(
            (
                report
                for report, lease in self._t.audit_reports.values()
                if report.status is AuditReportStatus.CREATING and not _live(lease, now)
            ),
            key=lambda report: report.created_at,
        )[:limit]
        for report in due:
            self._t.audit_reports[report.report_id] = (report, lease_until)
        return due

    def finish_audit_report(self, report_id: str, status: AuditReportStatus) -> None:
        self._writable()
        found = self._t.audit_reports.get(report_id)
        if found is not None:
            self._t.audit_reports[report_id] = (replace(found[0], status=status), None)

    def audit_entries(self, ca_arn: str) -> Iterator[AuditEntry]:
        certs = sorted(
            (c for c in self._t.certificates.values() if c.ca_arn == ca_arn),
            key=lambda c: (c.issued_at, c.serial),
        )
        for c in certs:
            yield AuditEntry(
                serial=c.serial,
                certificate_der=c.certificate_der,
                not_before=c.not_before,
                not_after=c.not_after,
                issued_at=c.issued_at,
                template_arn=c.template_arn,
                revoked_at=c.revoked_at,
                revocation_reason=c.revocation_reason,
                requester_account=self._t.requesters.get((ca_arn, c.serial)),
            )

    # --- the audit trail ----------------------------------------------------------------------

    def append_audit(self, record: AuditRecord) -> None:
        self._writable()
        record_id = self._t.audit_next_id["id"]
        self._t.audit_next_id["id"] = record_id + 1
        self._t.audit_trail[record_id] = StoredAuditRecord(record_id, record)

    def has_unsealed_audit(self) -> bool:
        return any(r.position is None for r in self._t.audit_trail.values())

    def lock_audit_head(self) -> tuple[int, str]:
        # The write lock held by every writing transaction already serialises sealers.
        self._writable()
        return self._t.audit_head.setdefault("trail", (0, AUDIT_GENESIS_HASH))

    def unsealed_audit(self, limit: int) -> list[StoredAuditRecord]:
        unsealed = [r for _, r in sorted(self._t.audit_trail.items()) if r.position is None]
        return unsealed[:limit]

    def seal_audit(self, seals: Sequence[AuditSeal]) -> None:
        self._writable()
        for seal in seals:
            stored = self._t.audit_trail.get(seal.record_id)
            if stored is None or stored.position is not None:
                continue
            if any(r.position == seal.position for r in self._t.audit_trail.values()):
                raise Conflict(f"audit chain position {seal.position} is taken")
            self._t.audit_trail[seal.record_id] = replace(
                stored, position=seal.position, prev_hash=seal.prev_hash, hash=seal.hash
            )

    def set_audit_head(self, position: int, hash: str) -> None:
        self._writable()
        if "trail" in self._t.audit_head:
            self._t.audit_head["trail"] = (position, hash)

    def audit_head(self) -> tuple[int, str] | None:
        return self._t.audit_head.get("trail")

    def audit_chain(self) -> Iterator[StoredAuditRecord]:
        sealed = [r for r in self._t.audit_trail.values() if r.position is not None]
        yield from sorted(sealed, key=lambda r: r.position or 0)

    def list_audit(
        self,
        *,
        resource: str | None = None,
        account_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[StoredAuditRecord]:
        matched = 0
        for _, stored in sorted(self._t.audit_trail.items()):
            record = stored.record
            if (
                (resource is not None and record.resource != resource)
                or (account_id is not None and record.account_id != account_id)
                or (action is not None and record.action != action)
                or (since is not None and record.at < since)
                or (until is not None and record.at >= until)
            ):
                continue
            if limit is not None and matched >= limit:
                return
            matched += 1
            yield stored

    # --- console ------------------------------------------------------------------------------

    def insert_console_session(self, session: ConsoleSession) -> None:
        self._writable()
        if session.session_hash in self._t.console_sessions:
            raise Conflict("console session already exists")
        self._t.console_sessions[session.session_hash] = session

    def get_console_session(self, session_hash: str) -> ConsoleSession | None:
        return self._t.console_sessions.get(session_hash)

    def delete_console_session(self, session_hash: str) -> bool:
        self._writable()
        return self._t.console_sessions.pop(session_hash, None) is not None

    def delete_expired_console_sessions(self, now: datetime) -> int:
        self._writable()
        ended = [h for h, s in self._t.console_sessions.items() if s.expires_at <= now]
        for session_hash in ended:
            del self._t.console_sessions[session_hash]
        return len(ended)

    def list_issued_certificates(self, ca_arn: str, *, limit: int) -> list[IssuedCertificate]:
        certs = [c for c in self._t.certificates.values() if c.ca_arn == ca_arn]
        # Newest first, then by serial (the SQL adapter orders serials by their canonical
        # text, which sorts as the numbers do).
        certs.sort(key=lambda c: c.serial)
        certs.sort(key=lambda c: c.issued_at, reverse=True)
        return certs[:limit]

    # --- ACM certificates ---------------------------------------------------------------------

    def insert_acm_certificate(self, certificate: AcmCertificate) -> None:
        self._writable()
        if certificate.arn in self._t.acm_certificates:
            raise Conflict(f"ACM certificate {certificate.arn} already exists")
        self._t.acm_certificates[certificate.arn] = certificate

    def get_acm_certificate(self, arn: str) -> AcmCertificate | None:
        return self._t.acm_certificates.get(arn)

    def update_acm_certificate(self, certificate: AcmCertificate) -> None:
        self._writable()
        stored = self._t.acm_certificates.get(certificate.arn)
        if stored is None or stored.version != certificate.version - 1:
            raise ConcurrentModification(
                f"The certificate {certificate.arn} was changed by another request; retry."
            )
        self._t.acm_certificates[certificate.arn] = certificate

    def delete_acm_certificate(self, arn: str) -> bool:
        self._writable()
        self._t.acm_tags.pop(arn, None)
        return self._t.acm_certificates.pop(arn, None) is not None

    def list_acm_certificates(self, account_id: str) -> list[AcmCertificate]:
        mine = [c for c in self._t.acm_certificates.values() if c.account_id == account_id]
        return sorted(mine, key=lambda c: (c.created_at, c.arn))

    def get_acm_tags(self, arn: str) -> list[Tag]:
        return list(self._t.acm_tags.get(arn, ()))

    def put_acm_tags(self, arn: str, tags: list[Tag]) -> None:
        self._writable()
        _unique_keys(tags, arn)
        self._t.acm_tags[arn] = tuple(tags)

    def get_acm_days_before_expiry(self, account_id: str) -> int | None:
        return self._t.acm_days_before_expiry.get(account_id)

    def put_acm_days_before_expiry(self, account_id: str, days: int, at: datetime) -> None:
        self._writable()
        self._t.acm_days_before_expiry[account_id] = days

    def _acm_due(self, now: datetime) -> list[AcmCertificate]:
        return sorted(
            (
                c
                for c in self._t.acm_certificates.values()
                if c.type is CertificateType.PRIVATE
                and c.status is CertificateStatus.ISSUED
                and c.exported
                and c.next_renewal_at is not None
                and c.next_renewal_at <= now
                and not _live(c.lease_until, now)
            ),
            key=lambda c: c.next_renewal_at or now,
        )

    def _acm_stale(self, created_before: datetime) -> list[AcmCertificate]:
        return [
            c
            for c in self._t.acm_certificates.values()
            if c.status is CertificateStatus.PENDING_VALIDATION and c.created_at < created_before
        ]

    def has_acm_renewal_work(self, now: datetime, created_before: datetime) -> bool:
        return bool(self._acm_due(now) or self._acm_stale(created_before))

    def claim_acm_renewals(self, now: datetime, lease_until: datetime, limit: int) -> list[str]:
        self._writable()
        due = self._acm_due(now)[:limit]
        for c in due:
            self._t.acm_certificates[c.arn] = replace(c, lease_until=lease_until)
        return [c.arn for c in due]

    def fail_stale_acm_requests(self, created_before: datetime, reason: str) -> int:
        self._writable()
        stale = self._acm_stale(created_before)
        for c in stale:
            self._t.acm_certificates[c.arn] = replace(
                c, status=CertificateStatus.FAILED, failure_reason=reason, version=c.version + 1
            )
        return len(stale)


def _unique_keys(tags: list[Tag], owner: str) -> None:
    keys = [tag.key for tag in tags]
    if len(set(keys)) != len(keys):
        raise Conflict(f"duplicate tag keys for {owner}")


if TYPE_CHECKING:
    # mypy proves the fake satisfies every port the SQL adapter does.
    def _store_conforms(store: MemoryStore) -> Store:
        return store

    def _acm_store_conforms(store: MemoryStore) -> AcmStore:
        return store

    def _transaction_conforms(transaction: MemoryTransaction) -> Transaction:
        return transaction

    def _acm_transaction_conforms(transaction: MemoryTransaction) -> AcmTransaction:
        return transaction

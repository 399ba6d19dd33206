"""The ports the domain declares; adapters implement them and the composition root plugs them in.

A request runs in one `Store.transaction()` (one commit per request). Every method raises
`pica.errors.Conflict` when a uniqueness constraint is violated and otherwise only returns domain
types from `pica.authority.model`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)

from pica.authority.console_ports import ConsoleRecords
from pica.authority.model import (
    AccessKey,
    Account,
    CertificateAuthority,
    CrlState,
    IssuedCertificate,
    KeyAlgorithm,
    KeyReference,
    RevocationReason,
    RevokedEntry,
    SealedKey,
    Tag,
)
from pica.authority.sharing_ports import SharingRecords

if TYPE_CHECKING:
    from pica.authority.acm.model import AcmCertificate
    from pica.authority.algorithms import SignatureScheme
    from pica.authority.lint_record import SignedWithFindings


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...


class AccountRecords(Protocol):
    """Accounts and their access keys (each secret sealed by the key store)."""

    def insert_account(self, account: Account) -> None: ...
    def get_account(self, account_id: str) -> Account | None: ...
    def list_accounts(self) -> list[Account]: ...
    def insert_access_key(self, key: AccessKey, sealed_secret: SealedKey) -> None: ...
    def get_access_key(self, access_key_id: str) -> tuple[AccessKey, SealedKey] | None:
        """The key and its sealed secret, or None."""
        ...

    def list_access_keys(self, account_id: str | None = None) -> list[AccessKey]: ...
    def delete_access_key(self, access_key_id: str) -> bool: ...


class CaRecords(Protocol):
    """Certificate authorities, one record each, versioned for optimistic locking."""

    def insert_ca(self, ca: CertificateAuthority) -> None: ...
    def get_ca(self, arn: str, *, for_update: bool = False) -> CertificateAuthority | None: ...
    def update_ca(self, ca: CertificateAuthority) -> None:
        """Replace the stored CA whose version is `ca.version - 1` (optimistic lock).

        Raises `pica.errors.ConcurrentModification` if the stored version moved on.
        """
        ...

    def list_cas(
        self, account_id: str, *, limit: int, after_arn: str | None = None
    ) -> list[CertificateAuthority]:
        """The account's CAs ordered by ARN, those with ARN > `after_arn`, at most `limit`."""
        ...

    def count_cas(self, account_id: str) -> int: ...
    def delete_ca(self, arn: str) -> None:
        """Remove a CA and everything it owns (permanent deletion after the restore window)."""
        ...

    def list_cas_due_for_purge(self, now: datetime, limit: int) -> list[str]: ...

    def find_cas_by_key_hash(self, algorithm: str, key_hash: bytes) -> list[CertificateAuthority]:
        """CAs whose public key hashes to `key_hash` ("sha1" or "sha256"); OCSP's issuer lookup."""
        ...

    def find_ca_by_id(self, ca_id: str) -> CertificateAuthority | None:
        """The one CA whose ARN ends in `/<ca_id>` (CRL URLs name CAs by id only), found by an
        exact match on an indexed column: `ca_id` is compared, never used as a pattern."""
        ...


class CertificateRecords(Protocol):
    """The certificates each CA issued, and their revocation."""

    def insert_certificate(
        self, cert: IssuedCertificate, *, while_ca_at: int | None = None
    ) -> bool:
        """Store `cert`; raises Conflict when (ca_arn, serial) already exists.

        With `while_ca_at`, only while the CA is still at that version: False (nothing stored)
        when it has changed or vanished since. Issuance decides on the CA it read before the
        write transaction; this confirms that decision in the insert itself."""
        ...

    def get_certificate(self, ca_arn: str, serial: int) -> IssuedCertificate | None: ...

    def revoke_certificate(
        self, ca_arn: str, serial: int, revoked_at: datetime, reason: RevocationReason
    ) -> bool:
        """Mark a certificate revoked; False when it already was (nothing is changed then)."""
        ...

    def revoked_entries(
        self, ca_arn: str, *, expiring_after: datetime, partition: str | None = None
    ) -> Iterator[RevokedEntry]:
        """Revoked certificates with not_after >= `expiring_after`, streamed (consume it inside
        the transaction). `partition` None means every partition."""
        ...


class CrlRecords(Protocol):
    """CRL publication state per CA (dirty marks, leases, the issue sequence that places
    certificates in partitions) and the owners of CRL buckets."""

    def get_crl_state(self, ca_arn: str) -> CrlState | None: ...

    def mark_crl_dirty(self, ca_arn: str, at: datetime) -> None:
        """Ask for a new CRL: set dirty_since (keeping an earlier one), creating the row."""
        ...

    def has_crl_work(self, now: datetime) -> bool:
        """Whether `claim_crl_work` would lease anything now (read-only: every node asks this
        every second, and only a yes takes the write lock)."""
        ...

    def claim_crl_work(self, now: datetime, lease_until: datetime, limit: int) -> list[str]:
        """Lease CAs whose CRL is dirty or due for refresh and not leased by another node."""
        ...

    def start_crl_publication(self, ca_arn: str, retry_at: datetime) -> None:
        """Clear dirty_since (revocations after this set it again) and, so that a crashed
        publication is retried, set next_refresh_at to `retry_at`."""
        ...

    def record_crl_publication(
        self,
        ca_arn: str,
        *,
        crl_number: int,
        this_update: datetime,
        next_update: datetime,
        next_refresh_at: datetime | None,
    ) -> None:
        """Store what was published and release the lease (dirty_since is left alone)."""
        ...

    def reschedule_crl_publication(self, ca_arn: str, next_refresh_at: datetime | None) -> None:
        """Release the lease and set when to try again (None: not until dirty), leaving what
        was last published as it is."""
        ...

    # CRL buckets: the account that first named a bucket owns it
    def get_bucket_owner(self, bucket: str) -> str | None: ...
    def claim_bucket(self, bucket: str, account_id: str, at: datetime) -> str:
        """Record `account_id` as the owner of `bucket` unless it has one; the owner after."""
        ...

    def next_issue_sequence(self, ca_arn: str) -> int:
        """Atomically count one more certificate for the CA; the count before this one."""
        ...


class IdempotencyRecords(Protocol):
    """Idempotency tokens and their results, scoped (account, operation, resource); the replay
    rule is `pica.authority.idempotency`."""

    def get_idempotent_result(self, scope: str, token: str) -> tuple[str, datetime] | None:
        """The recorded result and when it was recorded."""
        ...

    def put_idempotent_result(self, scope: str, token: str, result: str, at: datetime) -> None:
        """Record (or replace an expired) result. Raises Conflict if a live one exists."""
        ...


class TagRecords(Protocol):
    """The tags of each CA, in order."""

    def get_tags(self, ca_arn: str) -> list[Tag]: ...
    def put_tags(self, ca_arn: str, tags: list[Tag]) -> None:
        """Replace the CA's whole tag set with `tags` (in this order)."""
        ...


class Transaction(
    AccountRecords,
    CaRecords,
    CertificateRecords,
    CrlRecords,
    IdempotencyRecords,
    TagRecords,
    SharingRecords,
    ConsoleRecords,
    Protocol,
):
    """What the domain may read and write inside one atomic unit of work: every record family.
    A service that needs fewer may name the narrower Protocol it uses."""


class Store(Protocol):
    def transaction(
        self, *, read_only: bool = False, snapshot: bool = True
    ) -> AbstractContextManager[Transaction]:
        """Begin; commit when the block exits normally, roll back when it raises.

        `read_only=True` promises no writes, so the adapter need not take a write lock (SQLite
        then lets readers run beside a writer). With it, `snapshot=False` says the reads need
        not see one common state (each may see what was committed when it ran, as under
        READ COMMITTED anyway) and stream no rows: the adapter may then run them outside a
        database transaction (PostgreSQL: no BEGIN and COMMIT round trips). The hot paths'
        lookups use it; their write phase re-checks what it relies on.
        """
        ...

    def recent_ca(self, arn: str) -> CertificateAuthority | None:
        """The CA as this process last read it from committed data, at whatever version it
        had then (None: not read lately). It may be stale: only for a decision the write
        confirms (`insert_certificate(..., while_ca_at=...)`), redone on the committed record
        when it fails."""
        ...


class KeyStore(Protocol):
    """Seals secrets (CA private keys, access-key secrets) so none is stored in plaintext.

    `context` binds a ciphertext to what it protects (the CA ARN, the access key id): opening
    it under another context fails, so ciphertexts cannot be swapped between rows.
    """

    def seal(self, plaintext: bytes, context: str) -> SealedKey: ...
    def open(self, sealed: SealedKey, context: str) -> bytes: ...


class Signer(Protocol):
    """Signs with one private key that stays in the key store (in its memory, or in a token).

    `sign` returns the signature as X.509 carries it: PKCS#1 v1.5 or PSS octets for RSA, a DER
    ECDSA-Sig-Value for ECDSA, the raw ML-DSA signature; the message is what the scheme signs
    (hashed by the signer for RSA and ECDSA). `pica.authority.signing` turns it into
    certificates, CSRs, CRLs and OCSP responses.
    """

    def sign(self, data: bytes, scheme: SignatureScheme) -> bytes: ...

    def key_in_memory(self) -> CertificateIssuerPrivateKeyTypes | None:
        """The key object, when it lives in this process's memory (the encrypted-file store
        opens it once): cryptography's builder then signs a certificate with it in one step,
        instead of a throwaway draft and a signature of its TBS. None for a key in a token."""
        ...


@dataclass(frozen=True)
class GeneratedKey:
    """A key pair the key store made: the public half, and how to name the private half."""

    public_key: CertificatePublicKeyTypes
    reference: KeyReference


class SigningKeyStore(Protocol):
    """Where CA keys are made and used; the domain only ever holds their references.

    The encrypted-file store (`adapters/keystore/file_signer.py`) keeps the key sealed on the
    CA row and its opened form in the adapter's cache; a PKCS#11 store generates it in the token.
    """

    def generate(self, key_algorithm: KeyAlgorithm, owner: str) -> GeneratedKey:
        """A new key bound to `owner` (the CA ARN). InvalidArgs when this store cannot hold
        a key of `key_algorithm`."""
        ...

    def signer(self, reference: KeyReference) -> Signer:
        """What signs with the referenced key (opened once, then cached by the store)."""
        ...

    def ephemeral(self, key_algorithm: KeyAlgorithm) -> tuple[CertificatePublicKeyTypes, Signer]:
        """A key that lives as long as this process and is never stored (a delegated OCSP
        responder's), and its signer."""
        ...

    def discard(self, reference: KeyReference) -> None:
        """The CA is gone for good (or was never stored): forget its key, destroy it where the
        store holds it."""
        ...


class ObjectStore(Protocol):
    """Where CRLs (and later audit reports) are published: a local directory or an S3 bucket.

    Keys are S3 object keys (`crl/<CA_ID>.crl`); buckets are the names the CA configuration
    gives. Adapters translate their library's errors into `pica.errors.RequestFailed`.
    """

    def put_object(
        self, bucket: str, key: str, body: bytes, *, content_type: str, public_read: bool
    ) -> None:
        """Write (replace) an object atomically: readers see the old or the new body."""
        ...

    def put_object_chunks(
        self, bucket: str, key: str, chunks: Iterable[bytes], *, content_type: str
    ) -> None:
        """Write (replace) a private object made of `chunks` (an audit report) atomically,
        without holding the whole body in memory."""
        ...

    def get_object(self, bucket: str, key: str) -> bytes | None:
        """The object's body, or None when there is no such object (or bucket)."""
        ...

    def object_url(self, bucket: str, key: str) -> str:
        """The http(s) URL at which clients fetch the object (written into CRL DPs)."""
        ...


class FindingsObserver(Protocol):
    """Told of each certificate signed in spite of lint findings (`lint_findings = "record"`),
    after it is stored. The log implements it today; the audit trail and metrics will."""

    def signed_with_findings(self, event: SignedWithFindings) -> None: ...


# --- ACM certificates (issue 11) ------------------------------------------------------------


class AcmTransaction(Transaction, Protocol):
    """The unit of work of the ACM services: everything a Transaction offers plus ACM's rows."""

    def insert_acm_certificate(self, certificate: AcmCertificate) -> None:
        """Raises Conflict when the ARN exists."""
        ...

    def get_acm_certificate(self, arn: str) -> AcmCertificate | None: ...
    def update_acm_certificate(self, certificate: AcmCertificate) -> None:
        """Replace the stored certificate whose version is `certificate.version - 1`.

        Raises `pica.errors.ConcurrentModification` if the stored version moved on.
        """
        ...

    def delete_acm_certificate(self, arn: str) -> bool:
        """Remove the certificate and its tags; False when there was none."""
        ...

    def list_acm_certificates(self, account_id: str) -> list[AcmCertificate]:
        """The account's certificates, oldest first (created_at, then ARN)."""
        ...

    def get_acm_tags(self, arn: str) -> list[Tag]: ...
    def put_acm_tags(self, arn: str, tags: list[Tag]) -> None:
        """Replace the certificate's whole tag set with `tags` (in this order)."""
        ...

    def get_acm_days_before_expiry(self, account_id: str) -> int | None:
        """The account's ExpiryEvents.DaysBeforeExpiry, None when never configured."""
        ...

    def put_acm_days_before_expiry(self, account_id: str, days: int, at: datetime) -> None: ...
    def has_acm_renewal_work(self, now: datetime, created_before: datetime) -> bool:
        """Whether `claim_acm_renewals` would lease anything now, or `fail_stale_acm_requests`
        mark anything (read-only: every node asks this every second)."""
        ...

    def claim_acm_renewals(self, now: datetime, lease_until: datetime, limit: int) -> list[str]:
        """Lease exported PRIVATE ISSUED certificates whose next_renewal_at has come and that no
        other node holds a lease on; of racing nodes exactly one takes each."""
        ...

    def fail_stale_acm_requests(self, created_before: datetime, reason: str) -> int:
        """Mark FAILED (with `reason`) the PENDING_VALIDATION certificates created before
        `created_before`: requests whose process died mid-issuance. The number marked."""
        ...


class AcmStore(Store, Protocol):
    def transaction(
        self, *, read_only: bool = False, snapshot: bool = True
    ) -> AbstractContextManager[AcmTransaction]:
        """As `Store.transaction`, with the ACM rows in reach."""
        ...


class AcmRenewalPermission(Protocol):
    """May ACM (the service principal acm.amazonaws.com) renew certificates from this CA?

    AWS requires the CA to have granted that principal IssueCertificate, GetCertificate and
    ListPermissions (ACM PCA CreatePermission). The permission store answers it once it exists.
    """

    def may_renew(self, tx: Transaction, ca: CertificateAuthority) -> bool: ...

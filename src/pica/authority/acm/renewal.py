"""RenewCertificate and managed renewal of ACM private certificates.

A certificate is renewed when AWS calls it eligible (a PRIVATE certificate that was exported;
pica has no integrated services, so none is ever "in use") and its CA lets ACM renew (the
`AcmRenewalPermission` port). Renewal keeps the ARN and the names, and gets a new key pair,
serial and validity from the same CA through the same issuance path.

Managed renewal: every process polls `run_due` about once a second. A certificate is due from
`next_renewal_at` (the renewal window before NotAfter); the store leases due certificates with a
conditional UPDATE, so of all workers and nodes exactly one renews a given certificate, and a
node that dies mid-renewal leaves a lease that expires so another one retries. A failed renewal
records RenewalSummary FAILED with the reason and is retried with exponential backoff.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

from pica.authority.acm.arns import check_certificate_arn
from pica.authority.acm.certificates import renewal_due, save_changes
from pica.authority.acm.issuer import AcmIssuer, IssueRefused
from pica.authority.acm.keys import generate_key, seal_key
from pica.authority.acm.model import (
    AcmCertificate,
    CertificateStatus,
    CertificateType,
    RenewalStatus,
    RenewalSummary,
)
from pica.authority.ca_access import Caller, service_may
from pica.authority.model import CertificateAuthority
from pica.authority.ports import (
    AcmRenewalPermission,
    AcmStore,
    AcmTransaction,
    Clock,
    KeyStore,
    Transaction,
)
from pica.authority.sharing import ACM_PRINCIPAL
from pica.errors import InvalidRequest, NotFound, RequestInProgress

log = logging.getLogger("pica.acm.renewal")

LEASE = timedelta(seconds=60)
RETRY_FIRST = timedelta(seconds=15)
RETRY_MAX = timedelta(hours=6)
POLL_SECONDS = 1.0
CLAIM_LIMIT = 20
# A request still PENDING_VALIDATION this long after it was made lost its process mid-issuance
# (issuance takes well under a second); it is marked FAILED rather than left pending forever.
STALE_REQUEST = timedelta(minutes=10)


def retry_delay(attempts: int) -> timedelta:
    """15 s after the first failure, doubling, at most six hours."""
    delay: timedelta = RETRY_FIRST * (2 ** min(attempts - 1, 20))
    return min(delay, RETRY_MAX)


# What AWS requires a CA to have granted ACM before ACM renews its certificates.
RENEWAL_ACTIONS = ("IssueCertificate", "GetCertificate", "ListPermissions")


class PermissionGrants:
    """ACM may renew from a CA whose owner granted acm.amazonaws.com IssueCertificate,
    GetCertificate and ListPermissions (ACM PCA CreatePermission), as AWS requires; the
    permission store answers (`ca_access.service_may`)."""

    def may_renew(self, tx: Transaction, ca: CertificateAuthority) -> bool:
        return all(
            service_may(tx, ca, ACM_PRINCIPAL, action, ca.account_id) for action in RENEWAL_ACTIONS
        )


class AcmRenewals:
    def __init__(
        self,
        store: AcmStore,
        key_store: KeyStore,
        issuer: AcmIssuer,
        clock: Clock,
        permission: AcmRenewalPermission,
        renewal_window: timedelta,
    ) -> None:
        self._store = store
        self._key_store = key_store
        self._issuer = issuer
        self._clock = clock
        self._permission = permission
        self._window = renewal_window

    def renew(self, caller: Caller, arn: str) -> None:
        """RenewCertificate: renew an eligible certificate now (the outcome is recorded in its
        RenewalSummary, as for managed renewal)."""
        check_certificate_arn(arn)
        now = self._clock.now()
        with self._store.transaction() as tx:
            certificate = tx.get_acm_certificate(arn)
            if certificate is None or certificate.account_id != caller.account_id:
                raise NotFound(f"Certificate {arn} not found.")
            if certificate.type is not CertificateType.PRIVATE:
                raise InvalidRequest(
                    f"Certificate {arn} is not a private certificate and cannot be renewed."
                )
            if certificate.status is not CertificateStatus.ISSUED:
                raise InvalidRequest(
                    f"Certificate {arn} is {certificate.effective_status(now)} and cannot be "
                    "renewed."
                )
            if not certificate.renewal_eligible:
                raise InvalidRequest(
                    f"Certificate {arn} is not eligible for renewal: export it first."
                )
            if certificate.lease_until is not None and certificate.lease_until > now:
                raise RequestInProgress(f"Certificate {arn} is being renewed.")
            self._mark_pending(tx, certificate, lease_until=now + LEASE)
        self._renew(arn)

    def run_due(self, limit: int = CLAIM_LIMIT) -> int:
        """Renew the certificates whose renewal window has begun (the number taken), and fail
        requests left pending by a process that died mid-issuance."""
        now = self._clock.now()
        with self._store.transaction(read_only=True) as tx:
            if not tx.has_acm_renewal_work(now, now - STALE_REQUEST):
                return 0  # the common case takes no write lock
        with self._store.transaction() as tx:
            stale = tx.fail_stale_acm_requests(now - STALE_REQUEST, "PCA_REQUEST_FAILED")
            if stale:
                log.warning("%d ACM certificate requests were left pending: now FAILED", stale)
            claimed = tx.claim_acm_renewals(now, now + LEASE, limit)
            for arn in claimed:
                certificate = tx.get_acm_certificate(arn)
                assert certificate is not None
                self._mark_pending(tx, certificate)
        for arn in claimed:
            try:
                self._renew(arn)
            except Exception:
                # The lease runs out and a later poll retries.
                log.exception("renewing ACM certificate %s failed", arn)
        return len(claimed)

    def _mark_pending(
        self, tx: AcmTransaction, certificate: AcmCertificate, **changes: object
    ) -> None:
        summary = RenewalSummary(RenewalStatus.PENDING_AUTO_RENEWAL, self._clock.now())
        tx.update_acm_certificate(
            dataclasses.replace(
                certificate,
                renewal=summary,
                version=certificate.version + 1,
                **changes,  # type: ignore[arg-type]
            )
        )

    def _renew(self, arn: str) -> None:
        with self._store.transaction(read_only=True) as tx:
            certificate = tx.get_acm_certificate(arn)
            if certificate is None or certificate.ca_arn is None:
                return  # deleted meanwhile
            ca = tx.get_ca(certificate.ca_arn)
            allowed = ca is not None and self._permission.may_renew(tx, ca)
        if ca is None:
            self._failed(arn, "PCA_RESOURCE_NOT_FOUND")
            return
        if not allowed:
            self._failed(arn, "PCA_ACCESS_DENIED")
            return
        key = generate_key(certificate.key_algorithm)
        try:
            issued = self._issuer.issue(
                Caller(certificate.account_id),
                certificate.ca_arn,
                certificate.subject_alternative_names,
                key,
            )
        except IssueRefused as refused:
            log.info("renewal of %s failed: %s (%s)", arn, refused.reason, refused.message)
            self._failed(arn, refused.reason)
            return
        now = self._clock.now()
        save_changes(
            self._store,
            arn,
            sealed_key=seal_key(self._key_store, key, arn),
            certificate_pem=issued.certificate_pem,
            chain_pem=issued.chain_pem,
            serial=issued.serial,
            not_before=issued.not_before,
            not_after=issued.not_after,
            issued_at=now,
            renewal=RenewalSummary(RenewalStatus.SUCCESS, now),
            next_renewal_at=renewal_due(issued.not_before, issued.not_after, self._window),
            renewal_attempts=0,
            lease_until=None,
        )
        log.info("renewed ACM certificate %s (serial %x)", arn, issued.serial)

    def _failed(self, arn: str, reason: str) -> None:
        now = self._clock.now()
        with self._store.transaction() as tx:
            current = tx.get_acm_certificate(arn)
            if current is None:
                return
            attempts = current.renewal_attempts + 1
            tx.update_acm_certificate(
                dataclasses.replace(
                    current,
                    renewal=RenewalSummary(RenewalStatus.FAILED, now, reason),
                    renewal_attempts=attempts,
                    next_renewal_at=now + retry_delay(attempts),
                    lease_until=None,
                    version=current.version + 1,
                )
            )

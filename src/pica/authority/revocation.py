"""RevokeCertificate, and the CRL publisher that turns revocations into published CRLs.

A revocation is committed and visible to OCSP at once; it marks the CA's CRL dirty. Each pica
process runs the publisher every second (and is woken right after a revocation it handled): it
leases the CAs whose CRL is dirty or due for refresh, so many revocations arriving together are
covered by one new CRL, and only one node publishes a given CA at a time. A CRL is refreshed at
half its lifetime, as AWS does, so a valid one is always in place before nextUpdate.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.serialization import Encoding

from pica.authority import lifecycle
from pica.authority.authorities import parse_certificate_pem
from pica.authority.ca_access import Caller, is_purged, load_ca
from pica.authority.crl import build_crl
from pica.authority.issuance import issuer_key_identifier
from pica.authority.lifecycle import Action
from pica.authority.model import CaStatus, RevocationReason
from pica.authority.ports import Clock, ObjectStore, SigningKeyStore, Store, Transaction
from pica.authority.revocation_urls import RevocationUrls
from pica.authority.sharing import AUDIT_SUCCESS, AuditRecord
from pica.authority.write_turns import WRITE_TURN, Steps, run_steps
from pica.errors import InvalidRequest, NotFound, PicaError, RequestAlreadyProcessed

log = logging.getLogger("pica.crl")

LEASE = timedelta(seconds=60)
RETRY_AFTER_FAILURE = timedelta(seconds=15)
CRL_CONTENT_TYPE = "application/pkix-crl"
_SERIAL = re.compile(r"[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2})*|[0-9a-fA-F]+")
# CA ids are the uuid4s pica puts in ARNs (lower-case hex).
_CA_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_serial(text: str) -> int:
    """A serial as AWS accepts it: hex, with or without colons, any case, leading zeros."""
    cleaned = text.strip()
    if not cleaned or _SERIAL.fullmatch(cleaned) is None:
        raise InvalidRequest(f"The certificate serial {text!r} is not a hexadecimal serial number.")
    serial = int(cleaned.replace(":", ""), 16)
    if serial == 0 or serial.bit_length() > 160:
        raise InvalidRequest(f"The certificate serial {text!r} is not a valid serial number.")
    return serial


class RevocationService:
    def __init__(self, store: Store, clock: Clock, wake: Callable[[], None] | None = None) -> None:
        self._store = store
        self._clock = clock
        self._wake = wake  # tells this process's publisher there is work (optional)

    def revoke(
        self, caller: Caller, ca_arn: str, serial_text: str, reason: RevocationReason
    ) -> None:
        run_steps(self.revoke_steps(caller, ca_arn, serial_text, reason))

    def revoke_steps(
        self, caller: Caller, ca_arn: str, serial_text: str, reason: RevocationReason
    ) -> Steps[None]:
        """`revoke` as steps: one write turn, then its one transaction."""
        serial = parse_serial(serial_text)
        now = self._clock.now()
        yield WRITE_TURN
        with self._store.transaction() as tx:
            ca = load_ca(tx, caller, ca_arn, now, action="RevokeCertificate")
            lifecycle.require(Action.REVOKE, ca.effective_status(now), ca_arn)
            certificate = tx.get_certificate(ca_arn, serial)
            if certificate is None:
                raise NotFound(
                    f"Could not find a certificate with serial {serial:x} issued by {ca_arn}."
                )
            if ca.serial == serial and ca.type.value == "ROOT":
                # AWS's wording: the Terraform provider tolerates this refusal on destroy by
                # matching "Self-signed certificate can not be revoked".
                raise InvalidRequest("Self-signed certificate can not be revoked.")
            if not tx.revoke_certificate(ca_arn, serial, now, reason):
                raise RequestAlreadyProcessed(
                    f"The certificate with serial {serial:x} has already been revoked."
                )
            if ca.revocation_configuration.crl.enabled:
                tx.mark_crl_dirty(ca_arn, now)
        if self._wake is not None:
            self._wake()


class CrlPublisher:
    def __init__(
        self,
        store: Store,
        objects: ObjectStore,
        keys: SigningKeyStore,
        clock: Clock,
        urls: RevocationUrls,
    ) -> None:
        self._store = store
        self._objects = objects
        self._keys = keys
        self._clock = clock
        self._urls = urls

    def publish_due(self, limit: int = 20) -> int:
        """Publish every CRL that is dirty or due; the number of CAs handled."""
        now = self._clock.now()
        with self._store.transaction(read_only=True) as tx:
            if not tx.has_crl_work(now):
                return 0  # the common case takes no write lock
        with self._store.transaction() as tx:
            claimed = tx.claim_crl_work(now, now + LEASE, limit)
            for arn in claimed:
                tx.start_crl_publication(arn, retry_at=now + LEASE)
        for arn in claimed:
            try:
                self.publish(arn)
            except Exception as exc:
                level = logging.WARNING if isinstance(exc, PicaError) else logging.ERROR
                log.log(level, "publishing the CRL of %s failed; retrying", arn, exc_info=True)
                # Dirty was cleared when the publication started; coming due again is the retry.
                with self._store.transaction() as tx:
                    tx.reschedule_crl_publication(arn, self._clock.now() + RETRY_AFTER_FAILURE)
                    _audit_publication(tx, arn, self._clock.now(), "Failed")
        return len(claimed)

    def publish(self, arn: str) -> None:
        now = self._clock.now()
        with self._store.transaction(read_only=True) as tx:
            ca = tx.get_ca(arn)
            state = tx.get_crl_state(arn)
            bucket = None if ca is None else ca.revocation_configuration.crl.s3_bucket_name
            owner = None if bucket is None else tx.get_bucket_owner(bucket)
        if ca is None or state is None:
            return
        status = ca.effective_status(now)
        crl = ca.revocation_configuration.crl
        if (
            not crl.enabled
            or status not in (CaStatus.ACTIVE, CaStatus.DISABLED)
            or ca.certificate_pem is None
            or ca.sealed_key is None
        ):
            # Nothing to publish (disabled, expired, deleted): stop refreshing until dirty again.
            with self._store.transaction() as tx:
                tx.reschedule_crl_publication(arn, None)
            return
        lifetime = timedelta(days=crl.expiration_in_days or 7)
        this_update = now.replace(microsecond=0)
        next_update = this_update + lifetime
        # Keep an expired certificate on one more CRL after it expires (AWS behaviour).
        keep_after = state.this_update or this_update
        crl_number = max(state.crl_number + 1, int(now.timestamp() * 1000))
        partitions = self._urls.partitions(ca, state.issued_count)
        assert crl.s3_bucket_name is not None
        if owner != ca.account_id:
            # A bucket another account owns (shared before owners were recorded): never write
            # there. With no owner recorded yet, this CA's account becomes the owner.
            with self._store.transaction() as tx:
                owner = tx.claim_bucket(crl.s3_bucket_name, ca.account_id, now)
            if owner != ca.account_id:
                log.warning(
                    "not publishing the CRL of %s: bucket %s belongs to account %s",
                    arn,
                    crl.s3_bucket_name,
                    owner,
                )
                with self._store.transaction() as tx:
                    tx.reschedule_crl_publication(arn, None)
                return
        ca_certificate = parse_certificate_pem(ca.certificate_pem)
        signer = self._keys.signer(ca.key_reference)
        for partition in partitions:
            with self._store.transaction(read_only=True) as tx:
                document = build_crl(
                    issuer=ca_certificate.subject,
                    issuer_key_identifier=issuer_key_identifier(
                        ca_certificate, ca_certificate.public_key()
                    ),
                    signer=signer,
                    signing_algorithm=ca.configuration.signing_algorithm,
                    crl_number=crl_number,
                    this_update=this_update,
                    next_update=next_update,
                    revoked=tx.revoked_entries(arn, expiring_after=keep_after, partition=partition),
                    distribution_point=self._urls.crl_url(ca, partition) if partition else None,
                )
            self._objects.put_object(
                crl.s3_bucket_name,
                self._urls.crl_key(ca, partition),
                document.public_bytes(Encoding.DER),
                content_type=CRL_CONTENT_TYPE,
                public_read=crl.s3_object_acl is None or crl.s3_object_acl.value == "PUBLIC_READ",
            )
        with self._store.transaction() as tx:
            tx.record_crl_publication(
                arn,
                crl_number=crl_number,
                this_update=this_update,
                next_update=next_update,
                next_refresh_at=this_update + lifetime / 2,
            )
            _audit_publication(tx, arn, now, AUDIT_SUCCESS, ca.account_id, crl_number)
        log.info("published CRL %d of %s (%d partition(s))", crl_number, arn, len(partitions))

    def crl_for_path(self, path: str) -> bytes | None:
        """The CRL a GET of `path` names: `<key>` (CNAME style) or `<bucket>/<key>`.

        Only what pica publishes is served: the key a live CA writes its CRL (or a partition)
        to, read from the bucket that CA names and its account owns. Any other object in a
        bucket — one pica did not write, a key no CA publishes at — is not reachable here,
        whatever pica's object store credentials could read. The CA is found by the uuid in
        the key, checked before any lookup, so a GET costs a few indexed reads at most.
        """
        path = path.lstrip("/")
        if not path.endswith(".crl"):
            return None
        found = self._published(None, path)
        if found is not None:
            return found
        bucket, _, key = path.partition("/")
        return self._published(bucket, key) if key else None

    def _published(self, bucket: str | None, key: str) -> bytes | None:
        """The CRL at `key` if a CA publishes it there (in `bucket`, when one is named)."""
        segments = key[: -len(".crl")].split("/")
        candidates = [s for s in segments[-2:] if _CA_ID.fullmatch(s)]
        now = self._clock.now()
        for ca_id in candidates:
            with self._store.transaction(read_only=True) as tx:
                ca = tx.find_ca_by_id(ca_id)
                if ca is None or is_purged(ca, now):
                    continue
                crl = ca.revocation_configuration.crl
                if not crl.enabled or crl.s3_bucket_name is None:
                    continue
                if bucket is not None and bucket != crl.s3_bucket_name:
                    continue
                state = tx.get_crl_state(ca.arn)
                issued = 0 if state is None else state.issued_count
                if key not in (
                    self._urls.crl_key(ca, p) for p in self._urls.partitions(ca, issued)
                ):
                    continue
                if tx.get_bucket_owner(crl.s3_bucket_name) != ca.account_id:
                    continue
            try:
                return self._objects.get_object(crl.s3_bucket_name, key)
            except PicaError:
                return None
        return None


def _audit_publication(
    tx: Transaction,
    arn: str,
    at: datetime,
    result: str,
    account: str | None = None,
    crl_number: int | None = None,
) -> None:
    """A CRL signature is a use of the CA key: the audit trail records it (pica acts alone,
    on behalf of the CA's owner), in the transaction that records the publication."""
    tx.append_audit(
        AuditRecord(
            at=at,
            action="PublishCrl",
            result=result,
            account_id=account,
            resource=arn,
            detail=None if crl_number is None else f"crlNumber={crl_number}",
        )
    )

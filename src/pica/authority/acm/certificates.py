"""The ACM certificate operations: request, describe, list, get, export, import, delete, tags,
and the account's expiry-events configuration.

RequestCertificate is answered once the certificate is decided: the record is committed as
PENDING_VALIDATION (with its sealed key and tags), the CA is asked through the issuance path,
and the record becomes ISSUED or FAILED before the answer leaves. Describe calls made meanwhile
see PENDING_VALIDATION; the `certificate_validated` waiter succeeds on its first call.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from pica.authority import tagging
from pica.authority.acm import listing
from pica.authority.acm.arns import check_certificate_arn, new_certificate_arn
from pica.authority.acm.facts import certificate_facts
from pica.authority.acm.imports import check_import
from pica.authority.acm.issuer import AcmIssuer, IssueRefused, check_common_name
from pica.authority.acm.keys import export_key, generate_key, seal_key
from pica.authority.acm.model import (
    REQUESTABLE_KEY_ALGORITHMS,
    AcmCertificate,
    AcmKeyAlgorithm,
    CertificateStatus,
    CertificateType,
)
from pica.authority.ca_access import Caller
from pica.authority.model import Tag
from pica.authority.ports import AcmStore, AcmTransaction, Clock, KeyStore
from pica.errors import Conflict, InvalidArgs, InvalidRequest, NotFound, RequestInProgress

log = logging.getLogger("pica.acm")

IDEMPOTENCY_WINDOW = timedelta(hours=1)
DEFAULT_DAYS_BEFORE_EXPIRY = 45  # AWS's default for ExpiryEvents


@dataclass(frozen=True)
class CertificateRequest:
    domain_name: str
    subject_alternative_names: tuple[str, ...] = ()
    ca_arn: str | None = None
    key_algorithm: AcmKeyAlgorithm = AcmKeyAlgorithm.RSA_2048
    idempotency_token: str | None = None
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class ExportedCertificate:
    certificate: str
    chain: str | None
    private_key: str


def names_of(domain_name: str, alternatives: tuple[str, ...]) -> tuple[str, ...]:
    """DomainName first, then each other name once, in the order given."""
    return tuple(dict.fromkeys((domain_name, *alternatives)))


def renewal_due(not_before: datetime, not_after: datetime, window: timedelta) -> datetime:
    """When managed renewal starts: `window` before NotAfter, but never in the first half of
    the validity (a window longer than the validity would otherwise renew without end)."""
    return max(not_after - window, not_before + (not_after - not_before) / 2)


def save_changes(store: AcmStore, arn: str, **changes: object) -> None:
    """Apply `changes` to the stored certificate as it is now (re-read in this transaction, so
    an export or tag change made meanwhile is kept); a deleted one stays deleted."""
    with store.transaction() as tx:
        current = tx.get_acm_certificate(arn)
        if current is None:
            return
        tx.update_acm_certificate(
            dataclasses.replace(current, version=current.version + 1, **changes)  # type: ignore[arg-type]
        )


class AcmCertificateService:
    def __init__(
        self,
        store: AcmStore,
        key_store: KeyStore,
        issuer: AcmIssuer,
        clock: Clock,
        *,
        partition: str,
        region: str,
        renewal_window: timedelta,
    ) -> None:
        self._store = store
        self._key_store = key_store
        self._issuer = issuer
        self._clock = clock
        self._partition = partition
        self._region = region
        self._renewal_window = renewal_window

    # --- RequestCertificate ---------------------------------------------------------------

    def request(self, caller: Caller, request: CertificateRequest) -> str:
        if request.ca_arn is None:
            raise InvalidArgs(
                "pica issues private certificates only: name the issuing private CA with "
                "CertificateAuthorityArn."
            )
        if request.key_algorithm not in REQUESTABLE_KEY_ALGORITHMS:
            raise InvalidArgs(
                f"The key algorithm {request.key_algorithm} is not supported for requested "
                "certificates; use one of "
                + ", ".join(str(a) for a in REQUESTABLE_KEY_ALGORITHMS)
                + "."
            )
        check_common_name(request.domain_name)
        tagging.check_tags(list(request.tags))
        scope = f"{caller.account_id}:RequestCertificate"
        token = request.idempotency_token
        now = self._clock.now()
        if token is not None:
            with self._store.transaction(read_only=True) as tx:
                replayed = self._replay(tx, scope, token, now)
            if replayed is not None:
                return replayed

        names = names_of(request.domain_name, request.subject_alternative_names)
        key = generate_key(request.key_algorithm)
        arn = new_certificate_arn(self._partition, self._region, caller.account_id)
        record = AcmCertificate(
            arn=arn,
            account_id=caller.account_id,
            type=CertificateType.PRIVATE,
            status=CertificateStatus.PENDING_VALIDATION,
            domain_name=request.domain_name,
            subject_alternative_names=names,
            key_algorithm=request.key_algorithm,
            created_at=now,
            ca_arn=request.ca_arn,
            sealed_key=seal_key(self._key_store, key, arn),
        )
        try:
            with self._store.transaction() as tx:
                if token is not None:
                    replayed = self._replay(tx, scope, token, now)
                    if replayed is not None:
                        return replayed
                tx.insert_acm_certificate(record)
                tx.put_acm_tags(arn, list(request.tags))
                if token is not None:
                    tx.put_idempotent_result(scope, token, arn, now)
        except Conflict:
            if token is not None:  # lost a race on the token: the winner's ARN is the answer
                with self._store.transaction(read_only=True) as tx:
                    replayed = self._replay(tx, scope, token, now)
                if replayed is not None:
                    return replayed
            raise

        try:
            issued = self._issuer.issue(caller, request.ca_arn, names, key)
        except IssueRefused as refused:
            log.info("ACM certificate %s failed: %s (%s)", arn, refused.reason, refused.message)
            self._save(arn, status=CertificateStatus.FAILED, failure_reason=refused.reason)
            return arn
        self._save(
            arn,
            status=CertificateStatus.ISSUED,
            certificate_pem=issued.certificate_pem,
            chain_pem=issued.chain_pem,
            serial=issued.serial,
            not_before=issued.not_before,
            not_after=issued.not_after,
            issued_at=self._clock.now(),
            next_renewal_at=renewal_due(issued.not_before, issued.not_after, self._renewal_window),
        )
        return arn

    @staticmethod
    def _replay(tx: AcmTransaction, scope: str, token: str, now: datetime) -> str | None:
        found = tx.get_idempotent_result(scope, token)
        if found is not None and now - found[1] < IDEMPOTENCY_WINDOW:
            return found[0]
        return None

    def _save(self, arn: str, **changes: object) -> None:
        save_changes(self._store, arn, **changes)

    # --- reading --------------------------------------------------------------------------

    def _owned(self, tx: AcmTransaction, caller: Caller, arn: str) -> AcmCertificate:
        check_certificate_arn(arn)
        found = tx.get_acm_certificate(arn)
        if found is None or found.account_id != caller.account_id:
            raise NotFound(f"Certificate {arn} not found.")
        return found

    def describe(self, caller: Caller, arn: str) -> AcmCertificate:
        with self._store.transaction(read_only=True) as tx:
            return self._owned(tx, caller, arn)

    def list_certificates(
        self,
        caller: Caller,
        filters: listing.ListFilter,
        max_items: int | None,
        next_token: str | None,
    ) -> listing.CertificatePage:
        with self._store.transaction(read_only=True) as tx:
            certificates = tx.list_acm_certificates(caller.account_id)
        return listing.page(
            caller.account_id, certificates, filters, self._clock.now(), max_items, next_token
        )

    @staticmethod
    def _require_issued(certificate: AcmCertificate) -> str:
        if certificate.status is CertificateStatus.PENDING_VALIDATION:
            raise RequestInProgress(f"Certificate {certificate.arn} is not yet issued.")
        if certificate.certificate_pem is None:
            raise InvalidRequest(
                f"Certificate {certificate.arn} has no certificate: its status is "
                f"{certificate.status}."
            )
        return certificate.certificate_pem

    def get(self, caller: Caller, arn: str) -> tuple[str, str | None]:
        """The certificate and its chain (PEM)."""
        certificate = self.describe(caller, arn)
        return self._require_issued(certificate), certificate.chain_pem

    def export(self, caller: Caller, arn: str, passphrase: bytes) -> ExportedCertificate:
        """The certificate, chain and private key (encrypted PKCS#8 under `passphrase`); marks
        the certificate exported, which makes it eligible for managed renewal. The key is
        encrypted outside any write transaction (PBKDF2 takes a while)."""
        with self._store.transaction(read_only=True) as tx:
            certificate = self._owned(tx, caller, arn)
        if certificate.type is not CertificateType.PRIVATE:
            raise InvalidRequest(
                f"Certificate {arn} is not a private certificate: only private certificates "
                "can be exported."
            )
        pem = self._require_issued(certificate)
        assert certificate.sealed_key is not None
        private_key = export_key(self._key_store, certificate.sealed_key, arn, passphrase)
        if not certificate.exported:
            save_changes(self._store, arn, exported=True)
        return ExportedCertificate(pem, certificate.chain_pem, private_key)

    # --- ImportCertificate ----------------------------------------------------------------

    def import_certificate(
        self,
        caller: Caller,
        certificate: bytes,
        private_key: bytes,
        chain: bytes | None,
        arn: str | None,
        tags: tuple[Tag, ...],
    ) -> str:
        material = check_import(certificate, private_key, chain)
        facts = certificate_facts(material.certificate_pem)
        tagging.check_tags(list(tags))
        if arn is not None and tags:
            raise InvalidArgs("Tags cannot be applied when a certificate is re-imported.")
        now = self._clock.now()
        domain = facts.common_name or (facts.dns_names[0] if facts.dns_names else "")
        with self._store.transaction() as tx:
            existing = None
            if arn is not None:
                existing = self._owned(tx, caller, arn)
                if existing.type is not CertificateType.IMPORTED:
                    raise InvalidRequest(
                        f"Certificate {arn} was not imported: only imported certificates can be "
                        "re-imported."
                    )
            target = arn or new_certificate_arn(self._partition, self._region, caller.account_id)
            record = AcmCertificate(
                arn=target,
                account_id=caller.account_id,
                type=CertificateType.IMPORTED,
                status=CertificateStatus.ISSUED,
                domain_name=domain,
                subject_alternative_names=names_of(domain, facts.dns_names) if domain else (),
                key_algorithm=material.key_algorithm,
                created_at=existing.created_at if existing else now,
                sealed_key=seal_key(self._key_store, material.key, target),
                certificate_pem=material.certificate_pem,
                chain_pem=material.chain_pem,
                serial=facts.serial,
                not_before=facts.not_before,
                not_after=facts.not_after,
                imported_at=now,
                version=existing.version + 1 if existing else 1,
            )
            if existing is None:
                tx.insert_acm_certificate(record)
                tx.put_acm_tags(target, list(tags))
            else:
                tx.update_acm_certificate(record)
        return target

    # --- DeleteCertificate and tags -------------------------------------------------------

    def delete(self, caller: Caller, arn: str) -> None:
        with self._store.transaction() as tx:
            self._owned(tx, caller, arn)
            tx.delete_acm_certificate(arn)

    def add_tags(self, caller: Caller, arn: str, tags: list[Tag]) -> None:
        with self._store.transaction() as tx:
            self._owned(tx, caller, arn)
            tx.put_acm_tags(arn, tagging.merged(tx.get_acm_tags(arn), tags))

    def remove_tags(self, caller: Caller, arn: str, tags: list[Tag]) -> None:
        with self._store.transaction() as tx:
            self._owned(tx, caller, arn)
            tx.put_acm_tags(arn, tagging.without(tx.get_acm_tags(arn), tags))

    def list_tags(self, caller: Caller, arn: str) -> list[Tag]:
        with self._store.transaction(read_only=True) as tx:
            self._owned(tx, caller, arn)
            return tx.get_acm_tags(arn)

    # --- account configuration ------------------------------------------------------------

    def days_before_expiry(self, caller: Caller) -> int:
        with self._store.transaction(read_only=True) as tx:
            days = tx.get_acm_days_before_expiry(caller.account_id)
        return DEFAULT_DAYS_BEFORE_EXPIRY if days is None else days

    def put_days_before_expiry(self, caller: Caller, days: int | None) -> None:
        if days is None:
            return
        with self._store.transaction() as tx:
            tx.put_acm_days_before_expiry(caller.account_id, days, self._clock.now())

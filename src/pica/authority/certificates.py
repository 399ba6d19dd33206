"""IssueCertificate and GetCertificate.

Issuance is synchronous: when IssueCertificate answers, the certificate is signed and committed,
so GetCertificate (and the `certificate_issued` waiter) succeed on the first call. The same
IdempotencyToken within five minutes returns the first certificate's ARN and signs nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from pica.authority import lifecycle, validity
from pica.authority.algorithms import check_pairing
from pica.authority.arns import certificate_serial
from pica.authority.authorities import IDEMPOTENCY_WINDOW, ca_public_key, parse_certificate_pem
from pica.authority.ca_access import Caller, load_ca
from pica.authority.ca_certificate import path_length, same_public_key
from pica.authority.csr import load_csr
from pica.authority.issuance import (
    IssuerIdentity,
    certificate_builder,
    issuer_key_identifier,
    new_serial,
    sign,
)
from pica.authority.keys import PrivateKeyCache
from pica.authority.lifecycle import Action
from pica.authority.lint.finding import Finding
from pica.authority.lint.gate import LintGate
from pica.authority.lint_record import SignedWithFindings
from pica.authority.model import (
    ApiPassthrough,
    CaStatus,
    CaType,
    CertificateAuthority,
    IssuedCertificate,
    SigningAlgorithm,
    UsageMode,
    Validity,
)
from pica.authority.name_constraints import issuance_violation
from pica.authority.pem import der_to_pem, join_pem
from pica.authority.ports import Clock, FindingsObserver, Store, Transaction
from pica.authority.profiles import Profile, compose
from pica.authority.revocation_urls import RevocationUrls
from pica.authority.templates import Template, template_for
from pica.errors import Conflict, InvalidArgs, InvalidState, NameConstraintViolation, NotFound

log = logging.getLogger(__name__)

SHORT_LIVED_MAX = timedelta(days=7)
_SERIAL_ATTEMPTS = 5


@dataclass(frozen=True)
class IssueRequest:
    ca_arn: str
    csr: bytes
    signing_algorithm: SigningAlgorithm
    validity: Validity
    template_arn: str | None = None
    validity_not_before: Validity | None = None
    idempotency_token: str | None = None
    api_passthrough: ApiPassthrough | None = None


@dataclass(frozen=True)
class CertificateWithChain:
    certificate: str
    chain: str


@dataclass(frozen=True)
class _Issued:
    """What one issuance transaction stored, and the lint findings it let through."""

    record: IssuedCertificate
    findings: tuple[Finding, ...]


class _Replay(Exception):
    """Raised inside the transaction to roll it back and answer with a recorded result."""

    def __init__(self, arn: str) -> None:
        self.arn = arn


def _check_root_self_issue(
    ca: CertificateAuthority, csr: x509.CertificateSigningRequest, status: CaStatus
) -> None:
    if ca.type is not CaType.ROOT:
        raise InvalidArgs(
            "Root CA certificate templates can only be used by a ROOT certificate authority."
        )
    if status not in (CaStatus.PENDING_CERTIFICATE, CaStatus.ACTIVE, CaStatus.EXPIRED):
        lifecycle.require(Action.ISSUE, status, ca.arn)
    if not same_public_key(csr.public_key(), ca_public_key(ca)):
        raise InvalidArgs(
            "A root CA certificate template can only sign the certificate authority's own CSR."
        )


def _check_ca_template(ca: CertificateAuthority, template: Template) -> None:
    """A CA certificate must fit under the issuing CA's own path length constraint."""
    if ca.usage_mode is UsageMode.SHORT_LIVED_CERTIFICATE:
        raise InvalidArgs(
            "A certificate authority in SHORT_LIVED_CERTIFICATE mode cannot issue CA certificates."
        )
    assert ca.certificate_pem is not None
    limit = path_length(parse_certificate_pem(ca.certificate_pem))
    requested = template.path_length or 0
    if limit is not None and requested >= limit:
        raise InvalidArgs(
            f"The template {template.arn} requests path length {requested}, but the issuing "
            f"certificate authority's path length constraint is {limit}."
        )


def _check_name_constraints(ca: CertificateAuthority, profile: Profile) -> None:
    """AWS enforces the name constraints of every CA above a certificate it signs: so does pica,
    in every lint_findings mode (they are AWS's rule, not lint)."""
    assert ca.certificate_pem is not None
    violation = issuance_violation(
        certificate_pem=ca.certificate_pem,
        chain_pem=ca.certificate_chain_pem,
        subject=profile.subject,
        extensions=profile.extensions,
    )
    if violation is not None:
        raise NameConstraintViolation(
            str(violation),
            name=f"{violation.name.form} {violation.name.text}",
            constraint=violation.constraint,
            ca=violation.ca,
        )


class CertificateService:
    def __init__(
        self,
        store: Store,
        keys: PrivateKeyCache,
        clock: Clock,
        urls: RevocationUrls,
        gate: LintGate,
        findings_observers: Sequence[FindingsObserver] = (),
    ) -> None:
        self._store = store
        self._keys = keys
        self._clock = clock
        self._urls = urls
        self._gate = gate
        self._findings_observers = tuple(findings_observers)

    def _revocation_extensions(
        self, tx: Transaction, ca: CertificateAuthority, now: datetime
    ) -> tuple[str | None, tuple[x509.Extension[x509.ExtensionType], ...]]:
        """The CRL partition and the CDP/AIA extensions for one more certificate of `ca`."""
        partition = None
        crl = ca.revocation_configuration.crl
        if crl.enabled:
            if self._urls.is_partitioned(ca):
                sequence = tx.next_issue_sequence(ca.arn)
                partition = self._urls.partition_name(ca, sequence // self._urls.partition_size)
            state = tx.get_crl_state(ca.arn)
            if state is None or (state.this_update is None and state.dirty_since is None):
                # AWS writes a CA's first CRL once a certificate refers to it.
                tx.mark_crl_dirty(ca.arn, now)
        return partition, self._urls.extensions(ca, partition)

    def issue(self, caller: Caller, request: IssueRequest) -> str:
        template = template_for(request.template_arn)
        csr = load_csr(request.csr)
        scope = f"{caller.account_id}:IssueCertificate:{request.ca_arn}"
        try:
            with self._store.transaction() as tx:
                issued = self._issue_in(tx, caller, request, template, csr, scope)
        except _Replay as replay:
            return replay.arn
        except Conflict:
            # Lost a race on the idempotency token: the winner's certificate is the answer.
            if request.idempotency_token is not None:
                with self._store.transaction(read_only=True) as tx:
                    found = tx.get_idempotent_result(scope, request.idempotency_token)
                if found is not None:
                    return found[0]
            raise
        if issued.findings:
            self._record_findings(issued)
        return issued.record.arn

    def _record_findings(self, issued: _Issued) -> None:
        """Tell the observers, after the commit: the certificate exists whatever they do."""
        record = issued.record
        event = SignedWithFindings(
            ca_arn=record.ca_arn,
            certificate_arn=record.arn,
            serial=record.serial,
            template_arn=record.template_arn,
            findings=issued.findings,
        )
        for observer in self._findings_observers:
            try:
                observer.signed_with_findings(event)
            except Exception:
                log.exception("recording the lint findings of %s failed", record.arn)

    def _issue_in(
        self,
        tx: Transaction,
        caller: Caller,
        request: IssueRequest,
        template: Template,
        csr: x509.CertificateSigningRequest,
        scope: str,
    ) -> _Issued:
        now = self._clock.now()
        ca = load_ca(
            tx, caller, request.ca_arn, now, action="IssueCertificate", template_arn=template.arn
        )
        status = ca.effective_status(now)
        if template.self_signed:
            _check_root_self_issue(ca, csr, status)
        else:
            lifecycle.require(Action.ISSUE, status, ca.arn)
        check_pairing(ca.configuration.key_algorithm, request.signing_algorithm)
        token = request.idempotency_token
        if token is not None:
            found = tx.get_idempotent_result(scope, token)
            if found is not None and now - found[1] < IDEMPOTENCY_WINDOW:
                raise _Replay(found[0])

        window = validity.window(request.validity, request.validity_not_before, now)
        ca_certificate: x509.Certificate | None = None
        if not template.self_signed:
            assert ca.certificate_pem is not None and ca.not_after and ca.not_before
            ca_certificate = parse_certificate_pem(ca.certificate_pem)
            if window.not_after > ca.not_after:
                raise InvalidArgs(
                    f"The certificate validity ends at {window.not_after.isoformat()}, after its "
                    f"issuing certificate authority's certificate ({ca.not_after.isoformat()})."
                )
            if window.not_before < ca.not_before:
                if request.validity_not_before is not None:
                    raise InvalidArgs(
                        "ValidityNotBefore is earlier than the issuing certificate authority's "
                        "certificate validity."
                    )
                window = validity.ValidityWindow(ca.not_before, window.not_after)
            if template.is_ca:
                _check_ca_template(ca, template)
        # AWS does not check the validity of root CA certificates, short-lived mode included.
        if (
            ca.usage_mode is UsageMode.SHORT_LIVED_CERTIFICATE
            and not template.self_signed
            and window.not_after - max(window.not_before, now) > SHORT_LIVED_MAX
        ):
            raise InvalidArgs(
                "A certificate authority in SHORT_LIVED_CERTIFICATE mode can only issue "
                "certificates valid for 7 days or less."
            )

        assert ca.sealed_key is not None
        private_key = self._keys.get(ca.arn, ca.sealed_key)
        partition: str | None = None
        revocation_extensions: tuple[x509.Extension[x509.ExtensionType], ...] = ()
        if not template.self_signed:
            partition, revocation_extensions = self._revocation_extensions(tx, ca, now)
        profile = compose(
            template=template,
            csr=csr,
            api_passthrough=request.api_passthrough,
            ca_extensions=revocation_extensions,
        )
        if ca_certificate is not None:
            _check_name_constraints(ca, profile)
            issuer = IssuerIdentity(
                ca_certificate.subject,
                private_key,
                issuer_key_identifier(ca_certificate, ca_certificate.public_key()),
            )
        else:
            # A self-signed root names itself as issuer, whatever shaped its subject.
            issuer = IssuerIdentity(
                profile.subject, private_key, issuer_key_identifier(None, csr.public_key())
            )
        findings: tuple[Finding, ...] = ()
        for attempt in range(_SERIAL_ATTEMPTS):
            serial = new_serial()
            builder = certificate_builder(
                issuer=issuer,
                subject=profile.subject,
                public_key=csr.public_key(),
                serial=serial,
                window=window,
                extensions=profile.extensions,
            )
            if attempt == 0:
                findings = self._gate.check(
                    builder,
                    issuer=ca_certificate,
                    signing_algorithm=request.signing_algorithm,
                    shaped=template.shaped_by_caller,
                    is_ca=template.is_ca,
                )
            certificate = sign(builder, private_key, request.signing_algorithm)
            record = IssuedCertificate(
                ca_arn=ca.arn,
                serial=serial,
                certificate_der=certificate.public_bytes(Encoding.DER),
                not_before=window.not_before,
                not_after=window.not_after,
                issued_at=now,
                template_arn=template.arn,
                crl_partition=partition,
            )
            try:
                tx.insert_certificate(record)
            except Conflict:
                if attempt == _SERIAL_ATTEMPTS - 1:
                    raise
                continue
            break
        if caller.account_id != ca.account_id:
            tx.record_requester(ca.arn, record.serial, caller.account_id)
        if token is not None:
            tx.put_idempotent_result(scope, token, record.arn, now)
        return _Issued(record, findings)

    def get(self, caller: Caller, ca_arn: str, certificate_arn: str) -> CertificateWithChain:
        now = self._clock.now()
        with self._store.transaction(read_only=True) as tx:
            ca = load_ca(tx, caller, ca_arn, now, action="GetCertificate")
            status = ca.effective_status(now)
            if status not in lifecycle.ALLOWED[Action.GET_CERTIFICATE]:
                raise InvalidState(
                    f"The certificate authority {ca_arn} is not in the correct state to have "
                    "issued certificates."
                )
            serial = certificate_serial(ca_arn, certificate_arn)
            record = tx.get_certificate(ca_arn, serial)
        if record is None:
            raise NotFound(f"Could not find certificate {certificate_arn}.")
        pem = der_to_pem(record.certificate_der)
        if ca.certificate_pem is None:
            # The root's own certificate, issued before it was installed, is its own chain.
            return CertificateWithChain(pem, pem)
        return CertificateWithChain(pem, join_pem(ca.certificate_pem, ca.certificate_chain_pem))

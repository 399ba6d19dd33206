"""IssueCertificate and GetCertificate.

Issuance is synchronous: when IssueCertificate answers, the certificate is signed and committed,
so GetCertificate (and the `certificate_issued` waiter) succeed on the first call. The same
IdempotencyToken within five minutes returns the first certificate's ARN and signs nothing new.

The module holds the two phases of issuance together (`CertificateService`), which is why it
runs past 400 lines; the CA-dependent checks live in `issuance_checks`, the per-CA-version
issuer cache in `issuers`, building and signing in `issuance`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from pica.authority import idempotency, issuance_checks, lifecycle, validity
from pica.authority.algorithms import check_pairing, signature_scheme
from pica.authority.arns import certificate_serial
from pica.authority.authorities import parse_certificate_pem
from pica.authority.ca_access import Caller, authorize_ca, is_purged, load_ca, record_success
from pica.authority.ca_certificate import path_length
from pica.authority.csr import LoadedCsr, load_csr
from pica.authority.issuance import (
    IssuerIdentity,
    certificate_parts,
    issuer_key_identifier,
    new_serial,
    sign,
)
from pica.authority.issuers import Issuer, IssuerCache
from pica.authority.lifecycle import Action
from pica.authority.lint.finding import Finding
from pica.authority.lint.gate import LintGate
from pica.authority.lint_record import SignedWithFindings
from pica.authority.model import (
    ApiPassthrough,
    CertificateAuthority,
    CrlState,
    IssuedCertificate,
    SigningAlgorithm,
    UsageMode,
    Validity,
)
from pica.authority.pem import der_to_pem, join_pem
from pica.authority.ports import Clock, FindingsObserver, SigningKeyStore, Store
from pica.authority.profiles import compose
from pica.authority.revocation_urls import RevocationUrls
from pica.authority.signing import signs_builders
from pica.authority.templates import Template, template_for
from pica.authority.write_turns import WRITE_TURN, Steps, run_steps
from pica.errors import (
    ConcurrentModification,
    Conflict,
    InvalidArgs,
    InvalidState,
    NotFound,
    PicaError,
)

log = logging.getLogger(__name__)

SHORT_LIVED_MAX = timedelta(days=7)
_SERIAL_ATTEMPTS = 5
# CAs remembered as having a published CRL; the set starts over when full.
_CRL_PUBLISHED_CAPACITY = 10_000
# A CA that changes between the two phases sends issuance back to phase 1, this many times.
_CA_CHANGE_ATTEMPTS = 5


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


class _CaChanged(Exception):
    """The CA changed between the read phase and the write phase: start over."""


@dataclass
class _Draft:
    """One certificate signed outside the write transaction, and what it was built from, so
    the write phase can check its assumptions and, rarely, sign it again under the lock."""

    ca: CertificateAuthority
    caller: Caller
    request: IssueRequest
    template: Template
    csr: LoadedCsr
    window: validity.ValidityWindow
    issuer: IssuerIdentity
    ca_certificate: x509.Certificate | None
    now: datetime
    # CRL partitioning: the partition the certificate names (None: not partitioned) and
    # whether the read phase found the CA's CRL already published (then nothing to mark).
    partition: str | None
    crl_published: bool
    record: IssuedCertificate | None = None
    findings: tuple[Finding, ...] = ()


class CertificateService:
    """IssueCertificate in two phases (design.md, "The hot path").

    1. A read-only transaction (no write lock) loads the CA, the idempotency record and the
       CRL state; then, outside any transaction, the checks, the profile, the lint gate and
       the signature. No transaction at all when the caller owns the CA, sends no token,
       the CA's CRL is not partitioned and this process has read the CA before: the record
       read then is used (`_recent_ca`), and phase 2 reads the CRL state if this process
       has not yet seen the CA's CRL published.
    2. One short write transaction takes the CRL sequence number, stores the certificate
       only while the CA is still at the version phase 1 decided on (a changed CA sends the
       request back to phase 1, which then reads it afresh), stores the idempotency record,
       and commits before the answer.

    Phase 1 guesses the CRL partition from the issue count it read; when the sequence number
    taken in phase 2 falls in another partition (a partition boundary crossed meanwhile), the
    certificate is signed again inside the transaction, as it is when the random serial
    collides. A lost race on an idempotency token rolls phase 2 back and answers with the
    winner's certificate, so one certificate is stored per token.
    """

    def __init__(
        self,
        store: Store,
        keys: SigningKeyStore,
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
        self._issuers = IssuerCache()
        # CAs whose CRL this process has seen published: a CA's CRL, once published, stays
        # so for the CA's life (its state row goes only with the purged CA), so phase 1 need
        # not read the state again to know there is no first CRL to ask for.
        self._crl_published: set[str] = set()

    def issue(self, caller: Caller, request: IssueRequest) -> str:
        return run_steps(self.issue_steps(caller, request))

    def issue_steps(self, caller: Caller, request: IssueRequest) -> Steps[str]:
        """`issue` as steps: yields a write turn between the two phases."""
        template = template_for(request.template_arn)
        csr = load_csr(request.csr)
        scope = idempotency.scope(caller.account_id, "IssueCertificate", request.ca_arn)
        for attempt in range(_CA_CHANGE_ATTEMPTS):
            # The first attempt may decide on the CA as last read; a retry reads it afresh.
            draft = self._draft(caller, request, template, csr, scope, recent=attempt == 0)
            if isinstance(draft, str):
                return draft  # an idempotent replay
            yield WRITE_TURN
            try:
                issued = self._store_draft(draft, scope)
            except _CaChanged:
                continue
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
        raise ConcurrentModification(
            f"The certificate authority {request.ca_arn} kept changing while the certificate "
            "was being issued; try again."
        )

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

    # --- phase 1: read, check, compose, lint, sign; no write lock held --------------------------

    def _draft(
        self,
        caller: Caller,
        request: IssueRequest,
        template: Template,
        csr: LoadedCsr,
        scope: str,
        *,
        recent: bool,
    ) -> _Draft | str:
        """The signed certificate ready to store, or the ARN an idempotent replay answers."""
        now = self._clock.now()
        if recent:
            ca = self._recent_ca(caller, request, template, now)
            if ca is not None:
                try:
                    return self._compose(caller, request, template, csr, now, ca, None, None)
                except PicaError:
                    pass  # decided on a record that may be stale: decide on the committed one
        token = request.idempotency_token
        crl_state: CrlState | None = None
        with self._store.transaction(read_only=True, snapshot=False) as tx:
            # The audit record is written by the write phase, with the certificate.
            ca = authorize_ca(
                tx,
                caller,
                request.ca_arn,
                now,
                action="IssueCertificate",
                template_arn=template.arn,
            )
            found = None if token is None else tx.get_idempotent_result(scope, token)
            if not template.self_signed and ca.revocation_configuration.crl.enabled:
                crl_state = tx.get_crl_state(ca.arn)
        return self._compose(caller, request, template, csr, now, ca, found, crl_state)

    def _recent_ca(
        self, caller: Caller, request: IssueRequest, template: Template, now: datetime
    ) -> CertificateAuthority | None:
        """The CA as this process last read it, when phase 1 needs nothing else from the store:
        the caller owns it (no policy to read), no idempotency token, no CRL state to read
        (no CRL, or one not partitioned: whether its first CRL is published is what phase 2
        reads when this process has not seen it published yet).

        Phase 1 then runs no transaction at all. A stale record is harmless: the insert stores
        the certificate only while the CA is at the version decided on, and an error decided on
        it is decided again on the committed record."""
        if request.idempotency_token is not None or template.self_signed:
            return None
        ca = self._store.recent_ca(request.ca_arn)
        if (
            ca is None
            or ca.account_id != caller.account_id
            or (ca.revocation_configuration.crl.enabled and self._urls.is_partitioned(ca))
            or is_purged(ca, now)
        ):
            return None
        return ca

    def _seen_published(self, ca_arn: str, state: CrlState | None) -> bool:
        """Whether the CA's CRL is known to be published: `state` (when read) says so, or this
        process saw it before."""
        if state is not None and state.this_update is not None:
            if len(self._crl_published) >= _CRL_PUBLISHED_CAPACITY:
                self._crl_published.clear()
            self._crl_published.add(ca_arn)
            return True
        return ca_arn in self._crl_published

    def _compose(
        self,
        caller: Caller,
        request: IssueRequest,
        template: Template,
        csr: LoadedCsr,
        now: datetime,
        ca: CertificateAuthority,
        found: tuple[str, datetime] | None,
        crl_state: CrlState | None,
    ) -> _Draft | str:
        """Phase 1 past its reads: the checks, the profile, the lint gate and the signature."""
        crl_wanted = not template.self_signed and ca.revocation_configuration.crl.enabled
        status = ca.effective_status(now)
        if template.self_signed:
            issuance_checks.check_root_self_issue(ca, csr, status)
        else:
            lifecycle.require(Action.ISSUE, status, ca.arn)
        check_pairing(ca.configuration.key_algorithm, request.signing_algorithm)
        replay = idempotency.replays(found, now)
        if replay is not None:
            return replay

        window = validity.window(request.validity, request.validity_not_before, now)
        issuer: Issuer | None = None
        if not template.self_signed:
            issuer = self._issuer(ca)
            assert ca.not_after and ca.not_before
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
                issuance_checks.check_ca_template(ca, template, issuer.path_length)
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

        partition: str | None = None
        if crl_wanted and self._urls.is_partitioned(ca):
            # The sequence number phase 2 will most likely take.
            issued_count = 0 if crl_state is None else crl_state.issued_count
            partition = self._urls.partition_name(ca, issued_count // self._urls.partition_size)
        published = self._seen_published(ca.arn, crl_state)
        if issuer is not None:
            identity = issuer.identity
        else:
            assert ca.sealed_key is not None
            # A self-signed root names itself as issuer, whatever shaped its subject (the
            # profile's subject: filled in by `_sign`).
            identity = IssuerIdentity(
                x509.Name([]),
                self._keys.signer(ca.key_reference),
                issuer_key_identifier(None, csr.public_key),
            )
        draft = _Draft(
            ca=ca,
            caller=caller,
            request=request,
            template=template,
            csr=csr,
            window=window,
            issuer=identity,
            ca_certificate=None if issuer is None else issuer.certificate,
            now=now,
            partition=partition,
            crl_published=published or not crl_wanted,
        )
        self._sign(draft, new_serial(), lint=True)
        return draft

    def _issuer(self, ca: CertificateAuthority) -> Issuer:
        cached = self._issuers.get(ca)
        if cached is not None:
            return cached
        assert ca.certificate_pem is not None and ca.sealed_key is not None
        certificate = parse_certificate_pem(ca.certificate_pem)
        issuer = Issuer(
            certificate=certificate,
            path_length=path_length(certificate),
            identity=IssuerIdentity(
                certificate.subject,
                self._keys.signer(ca.key_reference),
                issuer_key_identifier(certificate, certificate.public_key()),
            ),
        )
        self._issuers.put(ca, issuer)
        return issuer

    def _sign(self, draft: _Draft, serial: int, *, lint: bool) -> None:
        """Compose, check and sign `draft` with `serial` and its partition; sets its record
        (and, when `lint`, its findings: a new serial changes nothing the gate reads)."""
        template, request, ca = draft.template, draft.request, draft.ca
        extensions: tuple[x509.Extension[x509.ExtensionType], ...] = ()
        if not template.self_signed:
            extensions = self._urls.extensions(ca, draft.partition)
        profile = compose(
            template=template,
            csr=draft.csr,
            api_passthrough=request.api_passthrough,
            ca_extensions=extensions,
        )
        issuer = draft.issuer
        if draft.ca_certificate is not None:
            issuance_checks.check_name_constraints(ca, profile)
        else:
            issuer = dataclasses.replace(issuer, name=profile.subject)
        parts = certificate_parts(
            issuer=issuer,
            subject=profile.subject,
            public_key=draft.csr.public_key,
            serial=serial,
            window=draft.window,
            extensions=profile.extensions,
        )
        builder = parts.builder()
        unsigned: x509.CertificateBuilder | x509.Certificate = builder
        if lint:
            # The CA key signs the very TBS the gate checked: the builder itself where the key is
            # in memory, else the gate's draft of it (`signing` restamps its algorithm).
            if not signs_builders(issuer.signer, signature_scheme(request.signing_algorithm)):
                unsigned = self._gate.draft(
                    builder,
                    signing_algorithm=request.signing_algorithm,
                    shaped=template.shaped_by_caller,
                    is_ca=template.is_ca,
                )
            draft.findings = self._gate.check(
                unsigned,
                issuer=draft.ca_certificate,
                signing_algorithm=request.signing_algorithm,
                shaped=template.shaped_by_caller,
                is_ca=template.is_ca,
                parts=parts,
            )
        certificate = sign(unsigned, issuer.signer, request.signing_algorithm)
        draft.record = IssuedCertificate(
            ca_arn=ca.arn,
            serial=serial,
            certificate_der=certificate.public_bytes(Encoding.DER),
            not_before=draft.window.not_before,
            not_after=draft.window.not_after,
            issued_at=draft.now,
            template_arn=template.arn,
            crl_partition=draft.partition,
        )

    # --- phase 2: the short write transaction -----------------------------------------------------

    def _store_draft(self, draft: _Draft, scope: str) -> _Issued:
        ca, now = draft.ca, draft.now
        with self._store.transaction() as tx:
            # The CA is checked to be still at the version phase 1 read by the insert itself;
            # when it has changed, the rollback undoes the CRL bookkeeping written before.
            if not draft.template.self_signed and ca.revocation_configuration.crl.enabled:
                if self._urls.is_partitioned(ca):
                    sequence = tx.next_issue_sequence(ca.arn)
                    index = sequence // self._urls.partition_size
                    partition = self._urls.partition_name(ca, index)
                    if partition != draft.partition:
                        draft.partition = partition
                        self._sign(draft, new_serial(), lint=True)
                if not draft.crl_published:
                    state = tx.get_crl_state(ca.arn)
                    self._seen_published(ca.arn, state)
                    if state is None or (state.this_update is None and state.dirty_since is None):
                        # AWS writes a CA's first CRL once a certificate refers to it.
                        tx.mark_crl_dirty(ca.arn, now)
            for attempt in range(_SERIAL_ATTEMPTS):
                assert draft.record is not None
                try:
                    if not tx.insert_certificate(draft.record, while_ca_at=ca.version):
                        raise _CaChanged
                except Conflict:
                    if attempt == _SERIAL_ATTEMPTS - 1:
                        raise
                    self._sign(draft, new_serial(), lint=False)
                    continue
                break
            assert draft.record is not None
            if draft.caller.account_id != ca.account_id:
                tx.record_requester(ca.arn, draft.record.serial, draft.caller.account_id)
            # Signed in spite of lint findings (lint_findings = "record"): the trail keeps them.
            detail = (
                f"certificate {draft.record.arn} signed with lint findings: "
                + "; ".join(str(finding) for finding in draft.findings)
                if draft.findings
                else None
            )
            record_success(tx, draft.caller, "IssueCertificate", ca.arn, now, detail)
            token = draft.request.idempotency_token
            if token is not None:
                tx.put_idempotent_result(scope, token, draft.record.arn, now)
        return _Issued(draft.record, draft.findings)

    def get(self, caller: Caller, ca_arn: str, certificate_arn: str) -> CertificateWithChain:
        now = self._clock.now()
        with self._store.transaction(read_only=True, snapshot=False) as tx:
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

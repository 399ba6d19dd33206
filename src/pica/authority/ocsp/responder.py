"""The OCSP responder: RFC 6960 responses in the RFC 5019 (lightweight) profile.

A request must name certificates of one CA that has OCSP enabled and is ACTIVE or DISABLED;
anything else is `unauthorized`, as RFC 5019 asks of a responder that is not authoritative.
Statuses are read from the store on every request, so a revocation shows at once; the response
lifetime (`validity`) is what relying parties and HTTP caches may keep it for. asn1crypto
assembles the response because cryptography's builder holds one answer per response.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from asn1crypto import algos as asn1_algos
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509

from pica.authority.model import CertificateAuthority, IssuedCertificate, RevocationReason
from pica.authority.ocsp.answer import OcspAnswer, OcspResponseStatus
from pica.authority.ocsp.delegation import (
    DELEGATED_CERTIFICATE_VALIDITY,
    RENEW_AFTER_FRACTION,
    DelegatedSigners,
)
from pica.authority.ocsp.issuers import answers_for, cached_ca_certificate, find_issuer
from pica.authority.ocsp.request import Malformed, Query, Request, parse_request
from pica.authority.ocsp.reuse import AnswerMemo, IssuerIndex, ParsedRequests
from pica.authority.ocsp.signature import (
    ResponseSigner,
    sign_response,
    signature_algorithm_identifier,
)
from pica.authority.ports import Clock, SigningKeyStore, Store, Transaction
from pica.errors import Sealed

log = logging.getLogger("pica.ocsp")

DEFAULT_VALIDITY = timedelta(hours=1)
# RFC 5280 serial numbers are positive and at most 20 octets; nothing else was ever issued.
_SERIAL_LIMIT = 1 << 160

_CRL_REASONS: dict[RevocationReason, str] = {
    RevocationReason.UNSPECIFIED: "unspecified",
    RevocationReason.KEY_COMPROMISE: "key_compromise",
    RevocationReason.CERTIFICATE_AUTHORITY_COMPROMISE: "ca_compromise",
    RevocationReason.AFFILIATION_CHANGED: "affiliation_changed",
    RevocationReason.SUPERSEDED: "superseded",
    RevocationReason.CESSATION_OF_OPERATION: "cessation_of_operation",
    RevocationReason.PRIVILEGE_WITHDRAWN: "privilege_withdrawn",
    RevocationReason.A_A_COMPROMISE: "aa_compromise",
}


def _unsuccessful(status: OcspResponseStatus) -> OcspAnswer:
    der = asn1_ocsp.OCSPResponse({"response_status": status.value}).dump()
    return OcspAnswer(der=der, status=status)


def _whole_seconds(moment: datetime) -> datetime:
    """GeneralizedTime in OCSP carries no fractional seconds (RFC 5280 4.1.2.5.2)."""
    return moment.replace(microsecond=0)


def _cert_status(record: IssuedCertificate | None) -> Any:
    if record is None:
        return asn1_ocsp.CertStatus({"unknown": None})
    if record.revoked_at is None:
        return asn1_ocsp.CertStatus({"good": None})
    revoked: dict[str, object] = {"revocation_time": _whole_seconds(record.revoked_at)}
    if record.revocation_reason is not None:
        revoked["revocation_reason"] = _CRL_REASONS[record.revocation_reason]
    return asn1_ocsp.CertStatus({"revoked": revoked})


class OcspResponder:
    """Answers DER OCSP requests with DER OCSP responses, never with an exception.

    `delegated=True` signs with a per-CA OCSP-signing certificate (included in the response)
    instead of the CA key itself.
    """

    def __init__(
        self,
        store: Store,
        keys: SigningKeyStore,
        clock: Clock,
        *,
        validity: timedelta = DEFAULT_VALIDITY,
        delegated: bool = False,
        delegated_validity: timedelta = DELEGATED_CERTIFICATE_VALIDITY,
    ) -> None:
        if delegated and delegated_validity * (1 - RENEW_AFTER_FRACTION) < validity:
            raise ValueError("a delegated responder certificate must outlive its responses")
        self._store = store
        self._keys = keys
        self._clock = clock
        self._validity = validity
        self._delegated = DelegatedSigners(keys, delegated_validity) if delegated else None
        # Kept between requests (`reuse.py`): parsed requests, issuers, nonce-less answers.
        self._parsed: ParsedRequests[Request] = ParsedRequests()
        self._issuers = IssuerIndex()
        self._memo = AnswerMemo()

    def respond(self, request_der: bytes) -> bytes:
        """The DER OCSPResponse for a DER OCSPRequest."""
        return self.answer(request_der).der

    def answer(self, request_der: bytes) -> OcspAnswer:
        """The response and its times; malformed or foreign requests get an error status."""
        request = self._parsed.get(request_der)
        if request is None:
            try:
                request = parse_request(request_der)
            except Malformed as exc:
                log.debug("malformed OCSP request: %s", exc)
                return _unsuccessful(OcspResponseStatus.MALFORMED_REQUEST)
            self._parsed.keep(request_der, request)
        try:
            return self._answer(request_der, request)
        except Sealed:
            # RFC 6960 4.2.1 tryLater: unsigned, as pica cannot sign until it is unsealed.
            return _unsuccessful(OcspResponseStatus.TRY_LATER)
        except Exception:
            log.exception("OCSP response failed")
            return _unsuccessful(OcspResponseStatus.INTERNAL_ERROR)

    def _answer(self, request_der: bytes, request: Request) -> OcspAnswer:
        now = _whole_seconds(self._clock.now())
        with self._store.transaction(read_only=True, snapshot=False) as tx:
            ca = self._issuer_of(tx, request.queries, now)
            if ca is None:
                return _unsuccessful(OcspResponseStatus.UNAUTHORIZED)
            records = [
                tx.get_certificate(ca.arn, query.serial)
                if 0 < query.serial < _SERIAL_LIMIT
                else None
                for query in request.queries
            ]
        assert ca.sealed_key is not None and ca.certificate_pem is not None
        ca_key = self._keys.signer(ca.key_reference)
        signer = (
            self._delegated.get(ca, ca_key, now)
            if self._delegated is not None
            else ResponseSigner(ca_key, cached_ca_certificate(ca.certificate_pem).key_sha1)
        )
        memo_key = None
        if request.nonce is None:
            facts = tuple(
                None if r is None else (r.serial, r.revoked_at, r.revocation_reason)
                for r in records
            )
            memo_key = (request_der, ca.arn, ca.version, signer.certificate_der, facts)
            reused = self._memo.fresh(memo_key, now)
            if reused is not None:
                return reused
        next_update = now + self._validity
        for limit in (ca.not_after, signer.not_after):
            if limit is not None:
                next_update = min(next_update, limit)
        der = self._basic_response(ca, signer, request, records, now, next_update)
        answer = OcspAnswer(
            der=der,
            status=OcspResponseStatus.SUCCESSFUL,
            produced_at=now,
            next_update=next_update,
            cacheable=request.nonce is None,
        )
        if memo_key is not None:
            self._memo.put(memo_key, answer)
        return answer

    def _issuer_of(
        self, tx: Transaction, queries: list[Query], now: datetime
    ) -> CertificateAuthority | None:
        """The one CA every CertID names, or None when any names no CA of ours or another CA."""
        found: dict[tuple[str, bytes, bytes], CertificateAuthority | None] = {}
        issuer: CertificateAuthority | None = None
        for query in queries:
            if query.issuer_key not in found:
                found[query.issuer_key] = self._find_issuer(tx, query, now)
            ca = found[query.issuer_key]
            if ca is None or (issuer is not None and ca.arn != issuer.arn):
                return None
            issuer = ca
        return issuer

    def _find_issuer(
        self, tx: Transaction, query: Query, now: datetime
    ) -> CertificateAuthority | None:
        """`find_issuer`, through the index of CAs found before (read by ARN, re-checked)."""
        arn = self._issuers.get(query.issuer_key)
        if arn is not None:
            ca = tx.get_ca(arn)
            if ca is not None and answers_for(ca, query, now):
                return ca
            self._issuers.pop(query.issuer_key)
        found = find_issuer(tx, query, now)
        if found is not None:
            self._issuers.put(query.issuer_key, found.arn)
        return found

    def _basic_response(
        self,
        ca: CertificateAuthority,
        signer: ResponseSigner,
        request: Request,
        records: list[IssuedCertificate | None],
        now: datetime,
        next_update: datetime,
    ) -> bytes:
        responses = [
            {
                "cert_id": query.cert_id,
                "cert_status": _cert_status(record),
                "this_update": now,
                "next_update": next_update,
            }
            for query, record in zip(request.queries, records, strict=True)
        ]
        data: dict[str, object] = {
            "responder_id": asn1_ocsp.ResponderId({"by_key": signer.key_sha1}),
            "produced_at": now,
            "responses": responses,
        }
        if request.nonce is not None:
            data["response_extensions"] = [
                {"extn_id": "nonce", "critical": False, "extn_value": request.nonce}
            ]
        tbs = asn1_ocsp.ResponseData(data)
        algorithm = ca.configuration.signing_algorithm
        basic: dict[str, object] = {
            "tbs_response_data": tbs,
            "signature_algorithm": asn1_algos.SignedDigestAlgorithm.load(
                signature_algorithm_identifier(algorithm)
            ),
            "signature": sign_response(signer.signer, algorithm, tbs.dump()),
        }
        if signer.certificate_der is not None:
            basic["certs"] = [asn1_x509.Certificate.load(signer.certificate_der)]
        response: bytes = asn1_ocsp.OCSPResponse(
            {
                "response_status": OcspResponseStatus.SUCCESSFUL.value,
                "response_bytes": {
                    "response_type": "basic_ocsp_response",
                    "response": asn1_ocsp.BasicOCSPResponse(basic),
                },
            }
        ).dump()
        return response

"""The OCSP responder: RFC 6960 responses in the RFC 5019 (lightweight) profile.

asn1crypto parses requests and assembles responses because cryptography's OCSP request parser
accepts one certificate per request and its response builder one answer per response, while a
client may ask about several certificates at once. Every signature is still made by
cryptography, with the CA key from the key cache (or a delegated responder key).

A request must name certificates of one CA that has OCSP enabled and is ACTIVE or DISABLED;
anything else is `unauthorized`, as RFC 5019 asks of a responder that is not authoritative.
Statuses are read from the store on every request, so a revocation shows at once; the response
lifetime (`validity`) is what relying parties and HTTP caches may keep it for.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from pica.authority.algorithms import generate_private_key, signature_scheme
from pica.authority.issuance import (
    IssuerIdentity,
    certificate_builder,
    issuer_key_identifier,
    new_serial,
    sign_csr,
)
from pica.authority.issuance import sign as sign_certificate
from pica.authority.key_hashes import public_key_hashes
from pica.authority.keys import PrivateKeyCache
from pica.authority.model import (
    CaStatus,
    CertificateAuthority,
    IssuedCertificate,
    RevocationReason,
    SigningAlgorithm,
)
from pica.authority.ports import Clock, Store, Transaction
from pica.authority.profiles import compose
from pica.authority.signing import sign_data
from pica.authority.templates import TEMPLATE_ARN_PREFIX, template_for
from pica.authority.validity import ValidityWindow

log = logging.getLogger("pica.ocsp")

DEFAULT_VALIDITY = timedelta(hours=1)
DELEGATED_CERTIFICATE_VALIDITY = timedelta(days=3)
# A delegated responder certificate is replaced once this share of its lifetime has passed, so
# the rest of its lifetime still covers a full response validity (nextUpdate is also clamped to
# the signer's notAfter, so no response outlives the certificate that signs it).
_RENEW_AFTER_FRACTION = 2 / 3
_DELEGATED_BACKDATE = timedelta(minutes=5)
_OCSP_SIGNING_TEMPLATE = f"{TEMPLATE_ARN_PREFIX}OCSPSigningCertificate/V1"
_ANSWERING_STATUSES = (CaStatus.ACTIVE, CaStatus.DISABLED)
# RFC 8954: a nonce is 1 to 32 octets; a responder rejects other lengths as malformedRequest.
_NONCE_MAX = 32
# RFC 5280 serial numbers are positive and at most 20 octets; nothing else was ever issued.
_SERIAL_LIMIT = 1 << 160

_NAME_HASHES: dict[str, Callable[[bytes], bytes]] = {
    "sha1": lambda data: hashlib.sha1(data).digest(),
    "sha256": lambda data: hashlib.sha256(data).digest(),
}

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


class OcspResponseStatus(enum.StrEnum):
    """OCSPResponseStatus (RFC 6960 4.2.1), spelled as asn1crypto names the values."""

    SUCCESSFUL = "successful"
    MALFORMED_REQUEST = "malformed_request"
    INTERNAL_ERROR = "internal_error"
    TRY_LATER = "try_later"
    SIG_REQUIRED = "sign_required"
    UNAUTHORIZED = "unauthorized"


@dataclass(frozen=True)
class OcspAnswer:
    """A DER OCSPResponse and the times an HTTP layer needs for RFC 5019 caching headers.

    `cacheable` is False for unsuccessful responses and for responses that echo a nonce (they
    answer one request only).
    """

    der: bytes
    status: OcspResponseStatus
    produced_at: datetime | None = None
    next_update: datetime | None = None
    cacheable: bool = False


# --- signature algorithm identifiers --------------------------------------------------------


def _pss_identifier(hash_name: str, salt_length: int) -> Any:
    # The hash identifiers carry NULL parameters, as cryptography writes them in certificates.
    hash_algorithm = {"algorithm": hash_name, "parameters": asn1_core.Null()}
    return asn1_algos.SignedDigestAlgorithm(
        {
            "algorithm": "rsassa_pss",
            "parameters": {
                "hash_algorithm": hash_algorithm,
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": hash_algorithm},
                "salt_length": salt_length,
            },
        }
    )


def _identifier(name: str) -> Any:
    """A named (or, for algorithms asn1crypto predates, dotted) identifier; RSA gets NULL."""
    return asn1_algos.SignedDigestAlgorithm({"algorithm": name})


_SIGNATURE_ALGORITHMS: dict[SigningAlgorithm, bytes] = {
    SigningAlgorithm.SHA256WITHRSA: _identifier("sha256_rsa").dump(),
    SigningAlgorithm.SHA384WITHRSA: _identifier("sha384_rsa").dump(),
    SigningAlgorithm.SHA512WITHRSA: _identifier("sha512_rsa").dump(),
    SigningAlgorithm.SHA256WITHRSA_PSS: _pss_identifier("sha256", 32).dump(),
    SigningAlgorithm.SHA384WITHRSA_PSS: _pss_identifier("sha384", 48).dump(),
    SigningAlgorithm.SHA512WITHRSA_PSS: _pss_identifier("sha512", 64).dump(),
    SigningAlgorithm.SHA256WITHECDSA: _identifier("sha256_ecdsa").dump(),
    SigningAlgorithm.SHA384WITHECDSA: _identifier("sha384_ecdsa").dump(),
    SigningAlgorithm.SHA512WITHECDSA: _identifier("sha512_ecdsa").dump(),
    # id-ml-dsa-44/65/87 (RFC 9881): parameters absent.
    SigningAlgorithm.ML_DSA_44: _identifier("2.16.840.1.101.3.4.3.17").dump(),
    SigningAlgorithm.ML_DSA_65: _identifier("2.16.840.1.101.3.4.3.18").dump(),
    SigningAlgorithm.ML_DSA_87: _identifier("2.16.840.1.101.3.4.3.19").dump(),
}


def signature_algorithm_identifier(signing_algorithm: SigningAlgorithm) -> bytes:
    """The DER AlgorithmIdentifier a response signed with `signing_algorithm` declares."""
    return _SIGNATURE_ALGORITHMS[signing_algorithm]


# --- requests -------------------------------------------------------------------------------


class _Malformed(Exception):
    """The request cannot be understood; answered with malformedRequest."""


@dataclass(frozen=True)
class _Query:
    """One CertID of the request, kept as parsed so the response echoes it byte for byte."""

    cert_id: Any
    hash_algorithm: str
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    serial: int

    @property
    def issuer_key(self) -> tuple[str, bytes, bytes]:
        return self.hash_algorithm, self.issuer_name_hash, self.issuer_key_hash


@dataclass(frozen=True)
class _Request:
    queries: list[_Query]
    nonce: bytes | None


def _parse_request(der: bytes) -> _Request:
    try:
        request = asn1_ocsp.OCSPRequest.load(der, strict=True)
        # asn1crypto parses lazily; `.native` walks the whole structure once, so any encoding
        # error surfaces here and not halfway through building the response.
        _ = request.native
        tbs = request["tbs_request"]
        queries = [
            _Query(
                cert_id=single["req_cert"],
                hash_algorithm=single["req_cert"]["hash_algorithm"]["algorithm"].native,
                issuer_name_hash=single["req_cert"]["issuer_name_hash"].native,
                issuer_key_hash=single["req_cert"]["issuer_key_hash"].native,
                serial=single["req_cert"]["serial_number"].native,
            )
            for single in tbs["request_list"]
        ]
        nonce: bytes | None = None
        for extension in tbs["request_extensions"]:
            if extension["extn_id"].native == "nonce":
                nonce = extension["extn_value"].parsed.native
    except Exception as exc:  # asn1crypto raises ValueError, TypeError, KeyError, ... alike
        raise _Malformed(str(exc)) from exc
    if not queries:
        raise _Malformed("the request lists no certificates")
    if nonce is not None and not 1 <= len(nonce) <= _NONCE_MAX:
        raise _Malformed(f"a nonce of {len(nonce)} octets (RFC 8954 allows 1 to 32)")
    return _Request(queries, nonce)


# --- issuers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CaCertificate:
    certificate: x509.Certificate
    name_hashes: dict[str, bytes]
    key_sha1: bytes


@lru_cache(maxsize=1024)
def _ca_certificate(pem: str) -> _CaCertificate:
    """A CA certificate and the hashes OCSP names it by, computed once per certificate."""
    certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    subject = certificate.subject.public_bytes()
    return _CaCertificate(
        certificate=certificate,
        name_hashes={name: digest(subject) for name, digest in _NAME_HASHES.items()},
        key_sha1=public_key_hashes(certificate.public_key())[0],
    )


def _answering(ca: CertificateAuthority, now: datetime) -> bool:
    return (
        ca.certificate_pem is not None
        and ca.sealed_key is not None
        and ca.revocation_configuration.ocsp.enabled
        and ca.effective_status(now) in _ANSWERING_STATUSES
    )


def _find_issuer(tx: Transaction, query: _Query, now: datetime) -> CertificateAuthority | None:
    """The answering CA whose key and subject the CertID names, or None (not ours to answer)."""
    if query.hash_algorithm not in _NAME_HASHES:
        return None
    for ca in tx.find_cas_by_key_hash(query.hash_algorithm, query.issuer_key_hash):
        if not _answering(ca, now):
            continue
        assert ca.certificate_pem is not None
        names = _ca_certificate(ca.certificate_pem).name_hashes
        if names[query.hash_algorithm] == query.issuer_name_hash:
            return ca
    return None


# --- signers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Signer:
    """Who signs a CA's responses: the CA itself, or a delegated responder it certified."""

    private_key: CertificateIssuerPrivateKeyTypes
    key_sha1: bytes
    certificate_der: bytes | None = None
    not_after: datetime | None = None
    renew_at: datetime | None = None


class _DelegatedSigners:
    """Per-process OCSP-signing certificates, one per CA, renewed before they expire.

    Kept in memory only: a restarted process certifies a fresh key, which costs one signature
    by the CA and keeps responder keys out of every store.
    """

    def __init__(self, validity: timedelta) -> None:
        self._validity = validity
        self._signers: dict[tuple[str, str], _Signer] = {}
        self._lock = threading.Lock()

    def get(
        self, ca: CertificateAuthority, ca_key: CertificateIssuerPrivateKeyTypes, now: datetime
    ) -> _Signer:
        assert ca.certificate_pem is not None
        # Keyed on the CA certificate too: a re-imported CA certificate gets a new responder.
        slot = (ca.arn, ca.certificate_pem)
        with self._lock:
            signer = self._signers.get(slot)
        if signer is not None and signer.renew_at is not None and now < signer.renew_at:
            return signer
        # Two threads may both certify a key here; either result is valid, the last one stays.
        signer = self._certify(ca, ca_key, now)
        with self._lock:
            for stale in [key for key in self._signers if key[0] == ca.arn]:
                del self._signers[stale]
            self._signers[slot] = signer
        return signer

    def _certify(
        self, ca: CertificateAuthority, ca_key: CertificateIssuerPrivateKeyTypes, now: datetime
    ) -> _Signer:
        assert ca.certificate_pem is not None and ca.not_after is not None
        ca_certificate = _ca_certificate(ca.certificate_pem).certificate
        responder_key = generate_private_key(ca.configuration.key_algorithm)
        not_before = max(now - _DELEGATED_BACKDATE, ca_certificate.not_valid_before_utc)
        not_after = min(now + self._validity, ca.not_after)
        algorithm = ca.configuration.signing_algorithm
        # Shaped exactly as IssueCertificate with OCSPSigningCertificate/V1 shapes a CSR, plus
        # id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): clients need not check the responder.
        profile = compose(
            template=template_for(_OCSP_SIGNING_TEMPLATE),
            csr=sign_csr(
                subject=_responder_name(ca_certificate.subject),
                private_key=responder_key,
                signing_algorithm=algorithm,
            ),
            api_passthrough=None,
            ca_extensions=(x509.Extension(x509.OCSPNoCheck.oid, False, x509.OCSPNoCheck()),),
        )
        builder = certificate_builder(
            issuer=IssuerIdentity(
                ca_certificate.subject,
                ca_key,
                issuer_key_identifier(ca_certificate, ca_certificate.public_key()),
            ),
            subject=profile.subject,
            public_key=responder_key.public_key(),
            serial=new_serial(),
            window=ValidityWindow(not_before, not_after),
            extensions=profile.extensions,
        )
        certificate = sign_certificate(builder, ca_key, algorithm)
        return _Signer(
            private_key=responder_key,
            key_sha1=public_key_hashes(responder_key.public_key())[0],
            certificate_der=certificate.public_bytes(Encoding.DER),
            not_after=not_after,
            renew_at=now + (not_after - now) * _RENEW_AFTER_FRACTION,
        )


def _responder_name(ca_subject: x509.Name) -> x509.Name:
    """The CA's subject with its common name replaced: same organisation, a distinct entity."""
    kept = [
        rdn
        for rdn in ca_subject.rdns
        if not any(attribute.oid == NameOID.COMMON_NAME for attribute in rdn)
    ]
    common_name = x509.RelativeDistinguishedName(
        [x509.NameAttribute(NameOID.COMMON_NAME, "OCSP Responder")]
    )
    return x509.Name([*kept, common_name])


# --- the responder --------------------------------------------------------------------------


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
        keys: PrivateKeyCache,
        clock: Clock,
        *,
        validity: timedelta = DEFAULT_VALIDITY,
        delegated: bool = False,
        delegated_validity: timedelta = DELEGATED_CERTIFICATE_VALIDITY,
    ) -> None:
        if delegated and delegated_validity * (1 - _RENEW_AFTER_FRACTION) < validity:
            raise ValueError("a delegated responder certificate must outlive its responses")
        self._store = store
        self._keys = keys
        self._clock = clock
        self._validity = validity
        self._delegated = _DelegatedSigners(delegated_validity) if delegated else None

    def respond(self, request_der: bytes) -> bytes:
        """The DER OCSPResponse for a DER OCSPRequest."""
        return self.answer(request_der).der

    def answer(self, request_der: bytes) -> OcspAnswer:
        """The response and its times; malformed or foreign requests get an error status."""
        try:
            request = _parse_request(request_der)
        except _Malformed as exc:
            log.debug("malformed OCSP request: %s", exc)
            return _unsuccessful(OcspResponseStatus.MALFORMED_REQUEST)
        try:
            return self._answer(request)
        except Exception:
            log.exception("OCSP response failed")
            return _unsuccessful(OcspResponseStatus.INTERNAL_ERROR)

    def _answer(self, request: _Request) -> OcspAnswer:
        now = _whole_seconds(self._clock.now())
        with self._store.transaction(read_only=True) as tx:
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
        ca_key = self._keys.get(ca.arn, ca.sealed_key)
        signer = (
            self._delegated.get(ca, ca_key, now)
            if self._delegated is not None
            else _Signer(ca_key, _ca_certificate(ca.certificate_pem).key_sha1)
        )
        next_update = now + self._validity
        for limit in (ca.not_after, signer.not_after):
            if limit is not None:
                next_update = min(next_update, limit)
        der = self._basic_response(ca, signer, request, records, now, next_update)
        return OcspAnswer(
            der=der,
            status=OcspResponseStatus.SUCCESSFUL,
            produced_at=now,
            next_update=next_update,
            cacheable=request.nonce is None,
        )

    def _issuer_of(
        self, tx: Transaction, queries: list[_Query], now: datetime
    ) -> CertificateAuthority | None:
        """The one CA every CertID names, or None when any names no CA of ours or another CA."""
        found: dict[tuple[str, bytes, bytes], CertificateAuthority | None] = {}
        issuer: CertificateAuthority | None = None
        for query in queries:
            if query.issuer_key not in found:
                found[query.issuer_key] = _find_issuer(tx, query, now)
            ca = found[query.issuer_key]
            if ca is None or (issuer is not None and ca.arn != issuer.arn):
                return None
            issuer = ca
        return issuer

    def _basic_response(
        self,
        ca: CertificateAuthority,
        signer: _Signer,
        request: _Request,
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
            "signature": sign_data(signer.private_key, signature_scheme(algorithm), tbs.dump()),
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

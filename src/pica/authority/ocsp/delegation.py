"""Delegated responders (RFC 6960 4.2.2.2): per-CA OCSP-signing certificates, in memory only.

Each is certified by the CA as IssueCertificate with OCSPSigningCertificate/V1 would certify
it, plus id-pkix-ocsp-nocheck, and replaced once `RENEW_AFTER_FRACTION` of its life has passed.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from pica.authority.csr import LoadedCsr
from pica.authority.issuance import (
    IssuerIdentity,
    certificate_parts,
    issuer_key_identifier,
    new_serial,
    sign_csr,
)
from pica.authority.issuance import sign as sign_certificate
from pica.authority.key_hashes import public_key_hashes
from pica.authority.model import CertificateAuthority
from pica.authority.ocsp.issuers import cached_ca_certificate
from pica.authority.ocsp.signature import ResponseSigner
from pica.authority.ports import Signer, SigningKeyStore
from pica.authority.profiles import compose
from pica.authority.templates import TEMPLATE_ARN_PREFIX, template_for
from pica.authority.validity import ValidityWindow

DELEGATED_CERTIFICATE_VALIDITY = timedelta(days=3)
# A delegated responder certificate is replaced once this share of its lifetime has passed, so
# the rest of its lifetime still covers a full response validity (nextUpdate is also clamped to
# the signer's notAfter, so no response outlives the certificate that signs it).
RENEW_AFTER_FRACTION = 2 / 3
_DELEGATED_BACKDATE = timedelta(minutes=5)
_OCSP_SIGNING_TEMPLATE = f"{TEMPLATE_ARN_PREFIX}OCSPSigningCertificate/V1"


class DelegatedSigners:
    """Per-process OCSP-signing certificates, one per CA, renewed before they expire.

    Kept in memory only (the key store's `ephemeral` keys): a restarted process certifies a
    fresh key, which costs one signature by the CA and keeps responder keys out of every store.
    """

    def __init__(self, keys: SigningKeyStore, validity: timedelta) -> None:
        self._keys = keys
        self._validity = validity
        self._signers: dict[tuple[str, str], ResponseSigner] = {}
        self._lock = threading.Lock()

    def get(self, ca: CertificateAuthority, ca_key: Signer, now: datetime) -> ResponseSigner:
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

    def _certify(self, ca: CertificateAuthority, ca_key: Signer, now: datetime) -> ResponseSigner:
        assert ca.certificate_pem is not None and ca.not_after is not None
        ca_certificate = cached_ca_certificate(ca.certificate_pem).certificate
        responder_key, responder = self._keys.ephemeral(ca.configuration.key_algorithm)
        not_before = max(now - _DELEGATED_BACKDATE, ca_certificate.not_valid_before_utc)
        not_after = min(now + self._validity, ca.not_after)
        algorithm = ca.configuration.signing_algorithm
        # Shaped exactly as IssueCertificate with OCSPSigningCertificate/V1 shapes a CSR, plus
        # id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): clients need not check the responder.
        profile = compose(
            template=template_for(_OCSP_SIGNING_TEMPLATE),
            csr=LoadedCsr.of(
                sign_csr(
                    subject=_responder_name(ca_certificate.subject),
                    public_key=responder_key,
                    signer=responder,
                    signing_algorithm=algorithm,
                )
            ),
            api_passthrough=None,
            ca_extensions=(x509.Extension(x509.OCSPNoCheck.oid, False, x509.OCSPNoCheck()),),
        )
        builder = certificate_parts(
            issuer=IssuerIdentity(
                ca_certificate.subject,
                ca_key,
                issuer_key_identifier(ca_certificate, ca_certificate.public_key()),
            ),
            subject=profile.subject,
            public_key=responder_key,
            serial=new_serial(),
            window=ValidityWindow(not_before, not_after),
            extensions=profile.extensions,
        ).builder()
        certificate = sign_certificate(builder, ca_key, algorithm)
        return ResponseSigner(
            signer=responder,
            key_sha1=public_key_hashes(responder_key)[0],
            certificate_der=certificate.public_bytes(Encoding.DER),
            not_after=not_after,
            renew_at=now + (not_after - now) * RENEW_AFTER_FRACTION,
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

"""Building and signing a CRL (RFC 5280 §5) from the revoked certificates the store lists.

The list of entries is handed to the builder in one go: cryptography's builder copies its entry
list on every `add_revoked_certificate`, which would make a million-entry CRL quadratic.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from pica.authority.algorithms import signature_scheme
from pica.authority.model import RevocationReason, RevokedEntry, SigningAlgorithm
from pica.authority.ports import Signer
from pica.authority.signing import sign_crl

REASON_FLAGS: dict[RevocationReason, x509.ReasonFlags] = {
    RevocationReason.UNSPECIFIED: x509.ReasonFlags.unspecified,
    RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationReason.CERTIFICATE_AUTHORITY_COMPROMISE: x509.ReasonFlags.ca_compromise,
    RevocationReason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
    RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
    RevocationReason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
    RevocationReason.PRIVILEGE_WITHDRAWN: x509.ReasonFlags.privilege_withdrawn,
    RevocationReason.A_A_COMPROMISE: x509.ReasonFlags.aa_compromise,
}


def _entry(entry: RevokedEntry) -> x509.RevokedCertificate:
    builder = (
        x509.RevokedCertificateBuilder()
        .serial_number(entry.serial)
        .revocation_date(entry.revoked_at.replace(microsecond=0))
    )
    reason = entry.reason
    # RFC 5280 5.3.1: the reason code "unspecified" SHOULD be left out.
    if reason is not None and reason is not RevocationReason.UNSPECIFIED:
        builder = builder.add_extension(x509.CRLReason(REASON_FLAGS[reason]), critical=False)
    return builder.build()


def build_crl(
    *,
    issuer: x509.Name,
    issuer_key_identifier: bytes,
    signer: Signer,
    signing_algorithm: SigningAlgorithm,
    crl_number: int,
    this_update: datetime,
    next_update: datetime,
    revoked: Iterable[RevokedEntry],
    distribution_point: str | None = None,
) -> x509.CertificateRevocationList:
    """A v2 CRL with AKI and CRL number; a critical IDP naming the partition when given."""
    extensions: list[x509.Extension[x509.ExtensionType]] = [
        x509.Extension(
            ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
            False,
            x509.AuthorityKeyIdentifier(issuer_key_identifier, None, None),
        ),
        x509.Extension(ExtensionOID.CRL_NUMBER, False, x509.CRLNumber(crl_number)),
    ]
    if distribution_point is not None:
        idp = x509.IssuingDistributionPoint(
            full_name=[x509.UniformResourceIdentifier(distribution_point)],
            relative_name=None,
            only_contains_user_certs=False,
            only_contains_ca_certs=False,
            only_some_reasons=None,
            indirect_crl=False,
            only_contains_attribute_certs=False,
        )
        extensions.append(x509.Extension(idp.oid, True, idp))
    builder = x509.CertificateRevocationListBuilder(
        issuer_name=issuer,
        last_update=this_update.replace(microsecond=0),
        next_update=next_update.replace(microsecond=0),
        extensions=extensions,
        revoked_certificates=[_entry(e) for e in revoked],
    )
    return sign_crl(builder, signer, signature_scheme(signing_algorithm))

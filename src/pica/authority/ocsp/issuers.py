"""Which of pica's CAs a CertID names, and whether that CA answers OCSP now.

A CA answers when it has a certificate and a key, OCSP is enabled and it is ACTIVE or DISABLED;
the hashes OCSP names a CA by are computed once per CA certificate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography import x509

from pica.authority.key_hashes import public_key_hashes
from pica.authority.model import CaStatus, CertificateAuthority
from pica.authority.ocsp.request import Query
from pica.authority.ports import Transaction

_ANSWERING_STATUSES = (CaStatus.ACTIVE, CaStatus.DISABLED)

_NAME_HASHES: dict[str, Callable[[bytes], bytes]] = {
    "sha1": lambda data: hashlib.sha1(data).digest(),
    "sha256": lambda data: hashlib.sha256(data).digest(),
}


@dataclass(frozen=True)
class CaCertificate:
    certificate: x509.Certificate
    name_hashes: dict[str, bytes]
    key_sha1: bytes
    key_hashes: dict[str, bytes]


@lru_cache(maxsize=1024)
def cached_ca_certificate(pem: str) -> CaCertificate:
    """A CA certificate and the hashes OCSP names it by, computed once per certificate."""
    certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    subject = certificate.subject.public_bytes()
    key_sha1, key_sha256 = public_key_hashes(certificate.public_key())
    return CaCertificate(
        certificate=certificate,
        name_hashes={name: digest(subject) for name, digest in _NAME_HASHES.items()},
        key_sha1=key_sha1,
        key_hashes={"sha1": key_sha1, "sha256": key_sha256},
    )


def _answering(ca: CertificateAuthority, now: datetime) -> bool:
    return (
        ca.certificate_pem is not None
        and ca.sealed_key is not None
        and ca.revocation_configuration.ocsp.enabled
        and ca.effective_status(now) in _ANSWERING_STATUSES
    )


def answers_for(ca: CertificateAuthority, query: Query, now: datetime) -> bool:
    """Whether `ca` answers now, and is the CA the CertID names (its key and its subject)."""
    if query.hash_algorithm not in _NAME_HASHES or not _answering(ca, now):
        return False
    assert ca.certificate_pem is not None
    hashes = cached_ca_certificate(ca.certificate_pem)
    return (
        hashes.key_hashes[query.hash_algorithm] == query.issuer_key_hash
        and hashes.name_hashes[query.hash_algorithm] == query.issuer_name_hash
    )


def find_issuer(tx: Transaction, query: Query, now: datetime) -> CertificateAuthority | None:
    """The answering CA whose key and subject the CertID names, or None (not ours to answer)."""
    if query.hash_algorithm not in _NAME_HASHES:
        return None
    for ca in tx.find_cas_by_key_hash(query.hash_algorithm, query.issuer_key_hash):
        if not _answering(ca, now):
            continue
        assert ca.certificate_pem is not None
        names = cached_ca_certificate(ca.certificate_pem).name_hashes
        if names[query.hash_algorithm] == query.issuer_name_hash:
            return ca
    return None

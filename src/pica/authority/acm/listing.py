"""ListCertificates' filters, order and pages.

AWS lists only RSA_2048 certificates unless `Includes.keyTypes` says otherwise; a keyUsage or
extendedKeyUsage filter keeps a certificate that has at least one of the listed values (`ANY`
keeps every one that has the extension at all). Pages are offsets into the filtered, ordered
list, in an opaque token bound to the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pica.authority.acm.facts import certificate_facts
from pica.authority.acm.model import (
    AcmCertificate,
    AcmKeyAlgorithm,
    CertificateStatus,
    CertificateType,
)
from pica.authority.pagination import decode_token, encode_token
from pica.errors import InvalidNextToken

DEFAULT_KEY_TYPES = (AcmKeyAlgorithm.RSA_2048,)
DEFAULT_PAGE = 1000


@dataclass(frozen=True)
class ListFilter:
    statuses: tuple[CertificateStatus, ...] = ()
    key_types: tuple[AcmKeyAlgorithm, ...] = DEFAULT_KEY_TYPES
    key_usages: tuple[str, ...] = ()
    extended_key_usages: tuple[str, ...] = ()
    managed_by: str | None = None
    key_pair_origins: tuple[str, ...] = ()  # AWS_MANAGED (private), CUSTOMER_PROVIDED (imported)
    descending: bool = False


@dataclass(frozen=True)
class CertificatePage:
    items: list[AcmCertificate]
    next_token: str | None


def key_pair_origin(certificate: AcmCertificate) -> str:
    """Who made the key pair: pica for the certificates it issues, the caller for imports."""
    return "AWS_MANAGED" if certificate.type is CertificateType.PRIVATE else "CUSTOMER_PROVIDED"


def _usages(certificate: AcmCertificate) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if certificate.certificate_pem is None:
        return (), ()
    facts = certificate_facts(certificate.certificate_pem)
    return facts.key_usages, tuple(e.name for e in facts.extended_key_usages)


def _wanted(present: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    if not wanted:
        return True
    if "ANY" in wanted and present:
        return True
    if "NONE" in wanted and not present:
        return True
    return any(value in present for value in wanted)


def matches(certificate: AcmCertificate, filters: ListFilter, now: datetime) -> bool:
    if filters.managed_by is not None:
        return False  # nothing on pica is managed by CloudFront
    if filters.statuses and certificate.effective_status(now) not in filters.statuses:
        return False
    if certificate.key_algorithm not in filters.key_types:
        return False
    if filters.key_pair_origins and key_pair_origin(certificate) not in filters.key_pair_origins:
        return False
    key_usages, extended = _usages(certificate)
    return _wanted(key_usages, filters.key_usages) and _wanted(
        extended, filters.extended_key_usages
    )


def page(
    account_id: str,
    certificates: list[AcmCertificate],
    filters: ListFilter,
    now: datetime,
    max_items: int | None,
    next_token: str | None,
) -> CertificatePage:
    kind = f"acm-certificates:{account_id}"
    position = decode_token(kind, next_token) or "0"
    if not position.isdigit():
        raise InvalidNextToken("The NextToken is not valid.")
    start = int(position)
    kept = [c for c in certificates if matches(c, filters, now)]
    if filters.descending:
        kept.reverse()
    end = start + (max_items or DEFAULT_PAGE)
    token = encode_token(kind, str(end)) if end < len(kept) else None
    return CertificatePage(kept[start:end], token)

"""Row mapping: stored rows to domain records and back (one function per record)."""

from __future__ import annotations

import enum
from typing import Any, TypeVar

from sqlalchemy import Row

from pica.adapters.storage import documents
from pica.adapters.storage.tables import (
    serial_from_text,
    serial_to_text,
)
from pica.authority.model import (
    AccessKey,
    CaStatus,
    CaType,
    CertificateAuthority,
    CrlState,
    FailureReason,
    IssuedCertificate,
    KeyStorageSecurityStandard,
    RevocationReason,
    SealedKey,
    UsageMode,
)

E = TypeVar("E", bound=enum.Enum)


def value_of(member: Any) -> str | None:
    return None if member is None else str(member.value)


def enum_of(cls: type[E], value: str | None) -> E | None:
    return None if value is None else cls(value)


def issued_from(row: Row[Any]) -> IssuedCertificate:
    return IssuedCertificate(
        ca_arn=row.ca_arn,
        serial=serial_from_text(row.serial),
        certificate_der=bytes(row.certificate_der),
        not_before=row.not_before,
        not_after=row.not_after,
        issued_at=row.issued_at,
        template_arn=row.template_arn,
        revoked_at=row.revoked_at,
        revocation_reason=enum_of(RevocationReason, row.revocation_reason),
        crl_partition=row.crl_partition,
    )


def crl_state_from(row: Row[Any]) -> CrlState:
    return CrlState(
        ca_arn=row.ca_arn,
        crl_number=int(row.crl_number),
        dirty_since=row.dirty_since,
        this_update=row.this_update,
        next_update=row.next_update,
        next_refresh_at=row.next_refresh_at,
        lease_until=row.lease_until,
        issued_count=int(row.issued_count),
    )


def access_key_from(row: Row[Any]) -> AccessKey:
    return AccessKey(
        access_key_id=row.access_key_id, account_id=row.account_id, created_at=row.created_at
    )


def ca_values(ca: CertificateAuthority) -> dict[str, object]:
    return {
        "arn": ca.arn,
        "account_id": ca.account_id,
        "type": ca.type.value,
        "status": ca.status.value,
        "configuration": documents.dump_ca_configuration(ca.configuration),
        "revocation_configuration": documents.dump_revocation_configuration(
            ca.revocation_configuration
        ),
        "usage_mode": ca.usage_mode.value,
        "key_storage_security_standard": ca.key_storage_security_standard.value,
        "created_at": ca.created_at,
        "last_state_change_at": ca.last_state_change_at,
        "private_key_ref": None if ca.sealed_key is None else ca.sealed_key.key_ref,
        "private_key_ciphertext": None if ca.sealed_key is None else ca.sealed_key.ciphertext,
        "csr_pem": ca.csr_pem,
        "certificate_pem": ca.certificate_pem,
        "certificate_chain_pem": ca.certificate_chain_pem,
        "serial": None if ca.serial is None else serial_to_text(ca.serial),
        "not_before": ca.not_before,
        "not_after": ca.not_after,
        "failure_reason": value_of(ca.failure_reason),
        "restorable_until": ca.restorable_until,
        "status_before_deletion": value_of(ca.status_before_deletion),
        "public_key_sha1": None if ca.public_key_sha1 is None else ca.public_key_sha1.hex(),
        "public_key_sha256": None if ca.public_key_sha256 is None else ca.public_key_sha256.hex(),
        "version": ca.version,
        "ca_id": ca.ca_id,
    }


def ca_from(row: Row[Any]) -> CertificateAuthority:
    sealed_key = None
    if row.private_key_ref is not None:
        sealed_key = SealedKey(row.private_key_ref, bytes(row.private_key_ciphertext))
    return CertificateAuthority(
        arn=row.arn,
        account_id=row.account_id,
        type=CaType(row.type),
        status=CaStatus(row.status),
        configuration=documents.load_ca_configuration(row.configuration),
        revocation_configuration=documents.load_revocation_configuration(
            row.revocation_configuration
        ),
        usage_mode=UsageMode(row.usage_mode),
        key_storage_security_standard=KeyStorageSecurityStandard(row.key_storage_security_standard),
        created_at=row.created_at,
        last_state_change_at=row.last_state_change_at,
        sealed_key=sealed_key,
        csr_pem=row.csr_pem,
        certificate_pem=row.certificate_pem,
        certificate_chain_pem=row.certificate_chain_pem,
        serial=None if row.serial is None else serial_from_text(row.serial),
        not_before=row.not_before,
        not_after=row.not_after,
        failure_reason=enum_of(FailureReason, row.failure_reason),
        restorable_until=row.restorable_until,
        status_before_deletion=enum_of(CaStatus, row.status_before_deletion),
        public_key_sha1=None if row.public_key_sha1 is None else bytes.fromhex(row.public_key_sha1),
        public_key_sha256=(
            None if row.public_key_sha256 is None else bytes.fromhex(row.public_key_sha256)
        ),
        version=row.version,
    )

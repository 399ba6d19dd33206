"""Value types of the domain: enums named as in the ACM PCA API, frozen records of stored state.

The wire layer parses requests into these types and renders them back; the store adapters persist
them. Field names follow RFC 5280 and the AWS API (in snake_case).

Past ~400 lines because it is the one home of the domain's value types; each is a few lines and
splitting them would scatter the names the API reference uses.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class KeyAlgorithm(enum.StrEnum):
    RSA_2048 = "RSA_2048"
    RSA_3072 = "RSA_3072"
    RSA_4096 = "RSA_4096"
    EC_prime256v1 = "EC_prime256v1"
    EC_secp384r1 = "EC_secp384r1"
    EC_secp521r1 = "EC_secp521r1"
    ML_DSA_44 = "ML_DSA_44"
    ML_DSA_65 = "ML_DSA_65"
    ML_DSA_87 = "ML_DSA_87"
    SM2 = "SM2"


class SigningAlgorithm(enum.StrEnum):
    SHA256WITHECDSA = "SHA256WITHECDSA"
    SHA384WITHECDSA = "SHA384WITHECDSA"
    SHA512WITHECDSA = "SHA512WITHECDSA"
    SHA256WITHRSA = "SHA256WITHRSA"
    SHA384WITHRSA = "SHA384WITHRSA"
    SHA512WITHRSA = "SHA512WITHRSA"
    SHA256WITHRSA_PSS = "SHA256WITHRSA_PSS"
    SHA384WITHRSA_PSS = "SHA384WITHRSA_PSS"
    SHA512WITHRSA_PSS = "SHA512WITHRSA_PSS"
    SM3WITHSM2 = "SM3WITHSM2"
    ML_DSA_44 = "ML_DSA_44"
    ML_DSA_65 = "ML_DSA_65"
    ML_DSA_87 = "ML_DSA_87"


class CaType(enum.StrEnum):
    ROOT = "ROOT"
    SUBORDINATE = "SUBORDINATE"


class CaStatus(enum.StrEnum):
    CREATING = "CREATING"
    PENDING_CERTIFICATE = "PENDING_CERTIFICATE"
    ACTIVE = "ACTIVE"
    DELETED = "DELETED"
    DISABLED = "DISABLED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


class UsageMode(enum.StrEnum):
    GENERAL_PURPOSE = "GENERAL_PURPOSE"
    SHORT_LIVED_CERTIFICATE = "SHORT_LIVED_CERTIFICATE"


class KeyStorageSecurityStandard(enum.StrEnum):
    FIPS_140_2_LEVEL_2_OR_HIGHER = "FIPS_140_2_LEVEL_2_OR_HIGHER"
    FIPS_140_2_LEVEL_3_OR_HIGHER = "FIPS_140_2_LEVEL_3_OR_HIGHER"
    CCPC_LEVEL_1_OR_HIGHER = "CCPC_LEVEL_1_OR_HIGHER"


class FailureReason(enum.StrEnum):
    REQUEST_TIMED_OUT = "REQUEST_TIMED_OUT"
    UNSUPPORTED_ALGORITHM = "UNSUPPORTED_ALGORITHM"
    OTHER = "OTHER"


class ValidityType(enum.StrEnum):
    END_DATE = "END_DATE"
    ABSOLUTE = "ABSOLUTE"
    DAYS = "DAYS"
    MONTHS = "MONTHS"
    YEARS = "YEARS"


class RevocationReason(enum.StrEnum):
    UNSPECIFIED = "UNSPECIFIED"
    KEY_COMPROMISE = "KEY_COMPROMISE"
    CERTIFICATE_AUTHORITY_COMPROMISE = "CERTIFICATE_AUTHORITY_COMPROMISE"
    AFFILIATION_CHANGED = "AFFILIATION_CHANGED"
    SUPERSEDED = "SUPERSEDED"
    CESSATION_OF_OPERATION = "CESSATION_OF_OPERATION"
    PRIVILEGE_WITHDRAWN = "PRIVILEGE_WITHDRAWN"
    A_A_COMPROMISE = "A_A_COMPROMISE"


class CrlType(enum.StrEnum):
    COMPLETE = "COMPLETE"
    PARTITIONED = "PARTITIONED"


class S3ObjectAcl(enum.StrEnum):
    PUBLIC_READ = "PUBLIC_READ"
    BUCKET_OWNER_FULL_CONTROL = "BUCKET_OWNER_FULL_CONTROL"


class AccessMethodType(enum.StrEnum):
    CA_REPOSITORY = "CA_REPOSITORY"
    RESOURCE_PKI_MANIFEST = "RESOURCE_PKI_MANIFEST"
    RESOURCE_PKI_NOTIFY = "RESOURCE_PKI_NOTIFY"


# --- configuration supplied by the caller ---------------------------------------------------


@dataclass(frozen=True)
class CustomAttribute:
    object_identifier: str
    value: str


@dataclass(frozen=True)
class Subject:
    """ASN1Subject: the standard attributes, or custom attributes by OID (never both)."""

    country: str | None = None
    organization: str | None = None
    organizational_unit: str | None = None
    distinguished_name_qualifier: str | None = None
    state: str | None = None
    common_name: str | None = None
    serial_number: str | None = None
    locality: str | None = None
    title: str | None = None
    surname: str | None = None
    given_name: str | None = None
    initials: str | None = None
    pseudonym: str | None = None
    generation_qualifier: str | None = None
    custom_attributes: tuple[CustomAttribute, ...] = ()


@dataclass(frozen=True)
class KeyUsageFlags:
    digital_signature: bool = False
    non_repudiation: bool = False
    key_encipherment: bool = False
    data_encipherment: bool = False
    key_agreement: bool = False
    key_cert_sign: bool = False
    crl_sign: bool = False
    encipher_only: bool = False
    decipher_only: bool = False


@dataclass(frozen=True)
class AccessMethod:
    access_method_type: AccessMethodType | None = None
    custom_object_identifier: str | None = None


@dataclass(frozen=True)
class OtherName:
    type_id: str
    value: str


@dataclass(frozen=True)
class EdiPartyName:
    party_name: str
    name_assigner: str | None = None


@dataclass(frozen=True)
class GeneralName:
    """Exactly one member is set (checked where it is parsed)."""

    other_name: OtherName | None = None
    rfc822_name: str | None = None
    dns_name: str | None = None
    directory_name: Subject | None = None
    edi_party_name: EdiPartyName | None = None
    uniform_resource_identifier: str | None = None
    ip_address: str | None = None
    registered_id: str | None = None


@dataclass(frozen=True)
class AccessDescription:
    access_method: AccessMethod
    access_location: GeneralName


@dataclass(frozen=True)
class CsrExtensions:
    key_usage: KeyUsageFlags | None = None
    subject_information_access: tuple[AccessDescription, ...] = ()


@dataclass(frozen=True)
class CaConfiguration:
    key_algorithm: KeyAlgorithm
    signing_algorithm: SigningAlgorithm
    subject: Subject
    csr_extensions: CsrExtensions | None = None


@dataclass(frozen=True)
class CrlConfiguration:
    enabled: bool
    expiration_in_days: int | None = None
    custom_cname: str | None = None
    s3_bucket_name: str | None = None
    s3_object_acl: S3ObjectAcl | None = None
    omit_extension: bool | None = None
    crl_type: CrlType | None = None
    custom_path: str | None = None


@dataclass(frozen=True)
class OcspConfiguration:
    enabled: bool
    ocsp_custom_cname: str | None = None


@dataclass(frozen=True)
class RevocationConfiguration:
    crl: CrlConfiguration = field(default_factory=lambda: CrlConfiguration(enabled=False))
    ocsp: OcspConfiguration = field(default_factory=lambda: OcspConfiguration(enabled=False))


@dataclass(frozen=True)
class Tag:
    key: str
    value: str | None = None


@dataclass(frozen=True)
class Validity:
    value: int
    type: ValidityType


# --- ExtendedKeyUsage / policies / custom extensions (ApiPassthrough) -----------------------


@dataclass(frozen=True)
class ExtendedKeyUsage:
    extended_key_usage_type: str | None = None
    extended_key_usage_object_identifier: str | None = None


@dataclass(frozen=True)
class PolicyQualifier:
    policy_qualifier_id: str
    cps_uri: str


@dataclass(frozen=True)
class PolicyInformation:
    cert_policy_id: str
    policy_qualifiers: tuple[PolicyQualifier, ...] = ()


@dataclass(frozen=True)
class CustomExtension:
    object_identifier: str
    value: str
    critical: bool = False


@dataclass(frozen=True)
class Extensions:
    certificate_policies: tuple[PolicyInformation, ...] | None = None
    extended_key_usage: tuple[ExtendedKeyUsage, ...] | None = None
    key_usage: KeyUsageFlags | None = None
    subject_alternative_names: tuple[GeneralName, ...] | None = None
    custom_extensions: tuple[CustomExtension, ...] | None = None


@dataclass(frozen=True)
class ApiPassthrough:
    extensions: Extensions | None = None
    subject: Subject | None = None


# --- stored state ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SealedKey:
    """A secret as the key store sealed it: which key-encryption key, and the ciphertext.

    On a CA row it is the key store's handle on the CA key (`KeyReference.handle`): the key
    sealed under the KEK for the encrypted-file store, the token object's id for PKCS#11.
    """

    key_ref: str
    ciphertext: bytes


@dataclass(frozen=True)
class KeyReference:
    """Names a CA key for the key store that made it; the domain passes it back, never opens it.

    `owner` is what the key is bound to (the CA ARN); `handle` is the store's own record of it,
    kept on the CA row.
    """

    owner: str
    handle: SealedKey


@dataclass(frozen=True)
class CertificateAuthority:
    """One CA as stored. `status` is the stored status; `effective_status` adds EXPIRED."""

    arn: str
    account_id: str
    type: CaType
    status: CaStatus
    configuration: CaConfiguration
    revocation_configuration: RevocationConfiguration
    usage_mode: UsageMode
    key_storage_security_standard: KeyStorageSecurityStandard
    created_at: datetime
    last_state_change_at: datetime
    sealed_key: SealedKey | None = None
    csr_pem: str | None = None
    certificate_pem: str | None = None
    certificate_chain_pem: str | None = None
    serial: int | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    failure_reason: FailureReason | None = None
    restorable_until: datetime | None = None
    status_before_deletion: CaStatus | None = None
    # Hashes of the CA's subjectPublicKey bit string: how OCSP requests name their issuer.
    public_key_sha1: bytes | None = None
    public_key_sha256: bytes | None = None
    version: int = 1

    @property
    def ca_id(self) -> str:
        return self.arn.rsplit("/", 1)[1]

    @property
    def key_reference(self) -> KeyReference:
        """The CA key, as the key store that made it names it."""
        assert self.sealed_key is not None
        return KeyReference(self.arn, self.sealed_key)

    def effective_status(self, now: datetime) -> CaStatus:
        """The status AWS reports: EXPIRED once the CA certificate has expired (unless DELETED)."""
        if (
            self.status in (CaStatus.ACTIVE, CaStatus.DISABLED)
            and self.not_after is not None
            and self.not_after <= now
        ):
            return CaStatus.EXPIRED
        return self.status


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate a CA signed, with its revocation state."""

    ca_arn: str
    serial: int
    certificate_der: bytes
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    template_arn: str
    revoked_at: datetime | None = None
    revocation_reason: RevocationReason | None = None
    # The CRL partition whose distribution point the certificate names (PARTITIONED CRLs).
    crl_partition: str | None = None

    @property
    def arn(self) -> str:
        return f"{self.ca_arn}/certificate/{self.serial:x}"


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    """What a CRL lists of one revoked certificate (kept small: a CRL may list a million)."""

    serial: int
    revoked_at: datetime
    reason: RevocationReason | None


@dataclass(frozen=True)
class CrlState:
    """Where a CA's CRL publication stands; one row per CA, shared by every pica node.

    `dirty_since` is set by a revocation (or a configuration change) and cleared by the
    publication that covers it; `lease_until` lets one node at a time publish; `issued_count`
    numbers certificates into partitions.
    """

    ca_arn: str
    crl_number: int = 0
    dirty_since: datetime | None = None
    this_update: datetime | None = None
    next_update: datetime | None = None
    next_refresh_at: datetime | None = None
    lease_until: datetime | None = None
    issued_count: int = 0


@dataclass(frozen=True)
class Account:
    account_id: str
    created_at: datetime


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    account_id: str
    created_at: datetime
    secret_access_key: str | None = None

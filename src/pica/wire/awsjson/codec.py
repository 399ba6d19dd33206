"""Wire dicts <-> domain types for the ACM PCA JSON shapes.

Requests reach this module already checked against the botocore model (types, enums, lengths,
patterns), so parsing here is a plain mapping; only cross-member rules belong to the domain.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from pica.authority.model import (
    AccessDescription,
    AccessMethod,
    AccessMethodType,
    ApiPassthrough,
    CaConfiguration,
    CertificateAuthority,
    CrlConfiguration,
    CrlType,
    CsrExtensions,
    CustomAttribute,
    CustomExtension,
    EdiPartyName,
    ExtendedKeyUsage,
    Extensions,
    GeneralName,
    KeyAlgorithm,
    KeyUsageFlags,
    OcspConfiguration,
    OtherName,
    PolicyInformation,
    PolicyQualifier,
    RevocationConfiguration,
    S3ObjectAcl,
    SigningAlgorithm,
    Subject,
    Tag,
    Validity,
    ValidityType,
)

Json = dict[str, Any]

_SUBJECT_FIELDS = (
    ("Country", "country"),
    ("Organization", "organization"),
    ("OrganizationalUnit", "organizational_unit"),
    ("DistinguishedNameQualifier", "distinguished_name_qualifier"),
    ("State", "state"),
    ("CommonName", "common_name"),
    ("SerialNumber", "serial_number"),
    ("Locality", "locality"),
    ("Title", "title"),
    ("Surname", "surname"),
    ("GivenName", "given_name"),
    ("Initials", "initials"),
    ("Pseudonym", "pseudonym"),
    ("GenerationQualifier", "generation_qualifier"),
)
_KEY_USAGE_FIELDS = (
    ("DigitalSignature", "digital_signature"),
    ("NonRepudiation", "non_repudiation"),
    ("KeyEncipherment", "key_encipherment"),
    ("DataEncipherment", "data_encipherment"),
    ("KeyAgreement", "key_agreement"),
    ("KeyCertSign", "key_cert_sign"),
    ("CRLSign", "crl_sign"),
    ("EncipherOnly", "encipher_only"),
    ("DecipherOnly", "decipher_only"),
)


def blob(value: str) -> bytes:
    """Blob members travel as base64 (already checked by the validator)."""
    return base64.b64decode(value)


def timestamp(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def drop_none(data: Json) -> Json:
    return {k: v for k, v in data.items() if v is not None}


# --- requests -------------------------------------------------------------------------------


def subject(data: Json) -> Subject:
    return Subject(
        **{field: data.get(member) for member, field in _SUBJECT_FIELDS},
        custom_attributes=tuple(
            CustomAttribute(a["ObjectIdentifier"], a["Value"])
            for a in data.get("CustomAttributes", [])
        ),
    )


def key_usage(data: Json) -> KeyUsageFlags:
    return KeyUsageFlags(
        **{field: bool(data.get(member, False)) for member, field in _KEY_USAGE_FIELDS}
    )


def general_name(data: Json) -> GeneralName:
    other = data.get("OtherName")
    edi = data.get("EdiPartyName")
    directory = data.get("DirectoryName")
    return GeneralName(
        other_name=OtherName(other["TypeId"], other["Value"]) if other is not None else None,
        rfc822_name=data.get("Rfc822Name"),
        dns_name=data.get("DnsName"),
        directory_name=subject(directory) if directory is not None else None,
        edi_party_name=EdiPartyName(edi["PartyName"], edi.get("NameAssigner")) if edi else None,
        uniform_resource_identifier=data.get("UniformResourceIdentifier"),
        ip_address=data.get("IpAddress"),
        registered_id=data.get("RegisteredId"),
    )


def ca_configuration(data: Json) -> CaConfiguration:
    csr_ext = data.get("CsrExtensions")
    extensions = None
    if csr_ext is not None:
        extensions = CsrExtensions(
            key_usage=key_usage(csr_ext["KeyUsage"]) if "KeyUsage" in csr_ext else None,
            subject_information_access=tuple(
                AccessDescription(
                    AccessMethod(
                        access_method_type=AccessMethodType(d["AccessMethod"]["AccessMethodType"])
                        if "AccessMethodType" in d["AccessMethod"]
                        else None,
                        custom_object_identifier=d["AccessMethod"].get("CustomObjectIdentifier"),
                    ),
                    general_name(d["AccessLocation"]),
                )
                for d in csr_ext.get("SubjectInformationAccess", [])
            ),
        )
    return CaConfiguration(
        key_algorithm=KeyAlgorithm(data["KeyAlgorithm"]),
        signing_algorithm=SigningAlgorithm(data["SigningAlgorithm"]),
        subject=subject(data["Subject"]),
        csr_extensions=extensions,
    )


def revocation_configuration(data: Json) -> RevocationConfiguration:
    crl = data.get("CrlConfiguration")
    ocsp = data.get("OcspConfiguration")
    result = RevocationConfiguration()
    crl_config = result.crl
    if crl is not None:
        cdp = crl.get("CrlDistributionPointExtensionConfiguration")
        crl_config = CrlConfiguration(
            enabled=crl["Enabled"],
            expiration_in_days=crl.get("ExpirationInDays"),
            custom_cname=crl.get("CustomCname"),
            s3_bucket_name=crl.get("S3BucketName"),
            s3_object_acl=S3ObjectAcl(crl["S3ObjectAcl"]) if "S3ObjectAcl" in crl else None,
            omit_extension=cdp["OmitExtension"] if cdp is not None else None,
            crl_type=CrlType(crl["CrlType"]) if "CrlType" in crl else None,
            custom_path=crl.get("CustomPath"),
        )
    ocsp_config = result.ocsp
    if ocsp is not None:
        ocsp_config = OcspConfiguration(
            enabled=ocsp["Enabled"], ocsp_custom_cname=ocsp.get("OcspCustomCname")
        )
    return RevocationConfiguration(crl=crl_config, ocsp=ocsp_config)


def validity(data: Json) -> Validity:
    return Validity(value=int(data["Value"]), type=ValidityType(data["Type"]))


def tags(items: list[Json]) -> list[Tag]:
    return [Tag(key=t["Key"], value=t.get("Value")) for t in items]


def api_passthrough(data: Json) -> ApiPassthrough:
    ext = data.get("Extensions")
    extensions = None
    if ext is not None:
        extensions = Extensions(
            certificate_policies=tuple(
                PolicyInformation(
                    p["CertPolicyId"],
                    tuple(
                        PolicyQualifier(q["PolicyQualifierId"], q["Qualifier"]["CpsUri"])
                        for q in p.get("PolicyQualifiers", [])
                    ),
                )
                for p in ext["CertificatePolicies"]
            )
            if "CertificatePolicies" in ext
            else None,
            extended_key_usage=tuple(
                ExtendedKeyUsage(
                    e.get("ExtendedKeyUsageType"), e.get("ExtendedKeyUsageObjectIdentifier")
                )
                for e in ext["ExtendedKeyUsage"]
            )
            if "ExtendedKeyUsage" in ext
            else None,
            key_usage=key_usage(ext["KeyUsage"]) if "KeyUsage" in ext else None,
            subject_alternative_names=tuple(general_name(g) for g in ext["SubjectAlternativeNames"])
            if "SubjectAlternativeNames" in ext
            else None,
            custom_extensions=tuple(
                CustomExtension(c["ObjectIdentifier"], c["Value"], bool(c.get("Critical", False)))
                for c in ext["CustomExtensions"]
            )
            if "CustomExtensions" in ext
            else None,
        )
    return ApiPassthrough(
        extensions=extensions,
        subject=subject(data["Subject"]) if "Subject" in data else None,
    )


# --- responses ------------------------------------------------------------------------------


def render_subject(value: Subject) -> Json:
    out: Json = {member: getattr(value, field) for member, field in _SUBJECT_FIELDS}
    out = drop_none(out)
    if value.custom_attributes:
        out["CustomAttributes"] = [
            {"ObjectIdentifier": a.object_identifier, "Value": a.value}
            for a in value.custom_attributes
        ]
    return out


def render_key_usage(value: KeyUsageFlags) -> Json:
    return {member: getattr(value, field) for member, field in _KEY_USAGE_FIELDS}


def render_general_name(value: GeneralName) -> Json:
    return drop_none(
        {
            "OtherName": {"TypeId": value.other_name.type_id, "Value": value.other_name.value}
            if value.other_name
            else None,
            "Rfc822Name": value.rfc822_name,
            "DnsName": value.dns_name,
            "DirectoryName": render_subject(value.directory_name) if value.directory_name else None,
            "EdiPartyName": drop_none(
                {
                    "PartyName": value.edi_party_name.party_name,
                    "NameAssigner": value.edi_party_name.name_assigner,
                }
            )
            if value.edi_party_name
            else None,
            "UniformResourceIdentifier": value.uniform_resource_identifier,
            "IpAddress": value.ip_address,
            "RegisteredId": value.registered_id,
        }
    )


def render_configuration(value: CaConfiguration) -> Json:
    out: Json = {
        "KeyAlgorithm": str(value.key_algorithm),
        "SigningAlgorithm": str(value.signing_algorithm),
        "Subject": render_subject(value.subject),
    }
    ext = value.csr_extensions
    if ext is not None:
        csr_ext: Json = {}
        if ext.key_usage is not None:
            csr_ext["KeyUsage"] = render_key_usage(ext.key_usage)
        if ext.subject_information_access:
            csr_ext["SubjectInformationAccess"] = [
                {
                    "AccessMethod": drop_none(
                        {
                            "AccessMethodType": str(d.access_method.access_method_type)
                            if d.access_method.access_method_type
                            else None,
                            "CustomObjectIdentifier": d.access_method.custom_object_identifier,
                        }
                    ),
                    "AccessLocation": render_general_name(d.access_location),
                }
                for d in ext.subject_information_access
            ]
        out["CsrExtensions"] = csr_ext
    return out


def render_revocation(value: RevocationConfiguration) -> Json:
    crl = value.crl
    crl_out: Json = {"Enabled": crl.enabled}
    if crl.enabled:
        crl_out.update(
            drop_none(
                {
                    "ExpirationInDays": crl.expiration_in_days,
                    "CustomCname": crl.custom_cname,
                    "S3BucketName": crl.s3_bucket_name,
                    "S3ObjectAcl": str(crl.s3_object_acl) if crl.s3_object_acl else None,
                    "CrlDistributionPointExtensionConfiguration": {
                        "OmitExtension": crl.omit_extension
                    }
                    if crl.omit_extension is not None
                    else None,
                    "CrlType": str(crl.crl_type) if crl.crl_type else None,
                    "CustomPath": crl.custom_path,
                }
            )
        )
    ocsp_out: Json = {"Enabled": value.ocsp.enabled}
    if value.ocsp.enabled and value.ocsp.ocsp_custom_cname is not None:
        ocsp_out["OcspCustomCname"] = value.ocsp.ocsp_custom_cname
    return {"CrlConfiguration": crl_out, "OcspConfiguration": ocsp_out}


def render_ca(ca: CertificateAuthority, now: datetime) -> Json:
    status = ca.effective_status(now)
    return drop_none(
        {
            "Arn": ca.arn,
            "OwnerAccount": ca.account_id,
            "CreatedAt": timestamp(ca.created_at),
            "LastStateChangeAt": timestamp(ca.last_state_change_at),
            "Type": str(ca.type),
            "Serial": str(ca.serial) if ca.serial is not None else None,
            "Status": str(status),
            "NotBefore": timestamp(ca.not_before),
            "NotAfter": timestamp(ca.not_after),
            "FailureReason": str(ca.failure_reason) if ca.failure_reason else None,
            "CertificateAuthorityConfiguration": render_configuration(ca.configuration),
            "RevocationConfiguration": render_revocation(ca.revocation_configuration),
            "RestorableUntil": timestamp(ca.restorable_until)
            if status.value == "DELETED"
            else None,
            "KeyStorageSecurityStandard": str(ca.key_storage_security_standard),
            "UsageMode": str(ca.usage_mode),
        }
    )


def render_tags(items: list[Tag]) -> list[Json]:
    return [drop_none({"Key": t.key, "Value": t.value}) for t in items]

"""One handler per ACM operation pica serves: parse the checked request, call the domain, render
the documented shape (CertificateDetail, CertificateSummary, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pica.authority.acm.certificates import AcmCertificateService, CertificateRequest
from pica.authority.acm.facts import certificate_facts
from pica.authority.acm.listing import DEFAULT_KEY_TYPES, ListFilter, key_pair_origin
from pica.authority.acm.model import (
    AcmCertificate,
    AcmKeyAlgorithm,
    CertificateStatus,
    CertificateType,
)
from pica.authority.acm.renewal import AcmRenewals
from pica.authority.ca_access import Caller
from pica.authority.ports import Clock
from pica.wire.awsjson import codec

Json = dict[str, Any]


@dataclass(frozen=True)
class AcmServices:
    certificates: AcmCertificateService
    renewals: AcmRenewals
    clock: Clock


@dataclass(frozen=True)
class AcmContext:
    caller: Caller
    services: AcmServices


def _serial(serial: int | None) -> str | None:
    """ACM's spelling: lower-case hex bytes joined by colons (`0a:1b:...`)."""
    if serial is None:
        return None
    text = format(serial, "x")
    text = text.rjust(len(text) + len(text) % 2, "0")
    return ":".join(text[i : i + 2] for i in range(0, len(text), 2))


def _eligibility(certificate: AcmCertificate) -> str:
    return "ELIGIBLE" if certificate.renewal_eligible else "INELIGIBLE"


def _validation_options(certificate: AcmCertificate, status: CertificateStatus) -> list[Json]:
    """Private certificates need no domain validation: each name reads SUCCESS once the
    certificate is issued (what the `certificate_validated` waiter looks for)."""
    state = {
        CertificateStatus.PENDING_VALIDATION: "PENDING_VALIDATION",
        CertificateStatus.FAILED: "FAILED",
    }.get(status, "SUCCESS")
    return [
        {"DomainName": name, "ValidationDomain": name, "ValidationStatus": state}
        for name in certificate.subject_alternative_names
    ]


def render_detail(certificate: AcmCertificate, now: datetime) -> Json:
    status = certificate.effective_status(now)
    out: Json = {
        "CertificateArn": certificate.arn,
        "DomainName": certificate.domain_name,
        "SubjectAlternativeNames": list(certificate.subject_alternative_names) or None,
        "Serial": _serial(certificate.serial),
        "CreatedAt": codec.timestamp(certificate.created_at),
        "IssuedAt": codec.timestamp(certificate.issued_at),
        "ImportedAt": codec.timestamp(certificate.imported_at),
        "Status": str(status),
        "NotBefore": codec.timestamp(certificate.not_before),
        "NotAfter": codec.timestamp(certificate.not_after),
        "KeyAlgorithm": str(certificate.key_algorithm),
        "InUseBy": [],
        "FailureReason": certificate.failure_reason,
        "Type": str(certificate.type),
        "CertificateAuthorityArn": certificate.ca_arn,
        "RenewalEligibility": _eligibility(certificate),
        "CertificateKeyPairOrigin": key_pair_origin(certificate),
    }
    if certificate.type is CertificateType.PRIVATE:
        out["DomainValidationOptions"] = _validation_options(certificate, status)
        out["Options"] = {"Export": "ENABLED"}
    if certificate.certificate_pem is not None:
        facts = certificate_facts(certificate.certificate_pem)
        out["Subject"] = facts.subject
        out["Issuer"] = facts.issuer
        out["SignatureAlgorithm"] = facts.signature_algorithm
        out["KeyUsages"] = [{"Name": name} for name in facts.key_usages]
        out["ExtendedKeyUsages"] = [
            {"Name": eku.name, "OID": eku.oid} for eku in facts.extended_key_usages
        ]
    renewal = certificate.renewal
    if renewal is not None:
        out["RenewalSummary"] = codec.drop_none(
            {
                "RenewalStatus": str(renewal.status),
                "DomainValidationOptions": _validation_options(
                    certificate, CertificateStatus.ISSUED
                ),
                "RenewalStatusReason": renewal.reason,
                "UpdatedAt": codec.timestamp(renewal.updated_at),
            }
        )
    return codec.drop_none(out)


def render_summary(certificate: AcmCertificate, now: datetime) -> Json:
    detail = render_detail(certificate, now)
    summary: Json = {
        key: detail[key]
        for key in (
            "CertificateArn",
            "DomainName",
            "Status",
            "Type",
            "KeyAlgorithm",
            "NotBefore",
            "NotAfter",
            "CreatedAt",
            "IssuedAt",
            "ImportedAt",
            "RenewalEligibility",
            "CertificateKeyPairOrigin",
        )
        if key in detail
    }
    names = list(certificate.subject_alternative_names)
    if names:
        summary["SubjectAlternativeNameSummaries"] = names
    summary["HasAdditionalSubjectAlternativeNames"] = False
    summary["KeyUsages"] = [k["Name"] for k in detail.get("KeyUsages", [])]
    summary["ExtendedKeyUsages"] = [e["Name"] for e in detail.get("ExtendedKeyUsages", [])]
    summary["InUse"] = False
    summary["Exported"] = certificate.exported
    if certificate.type is CertificateType.PRIVATE:
        summary["ExportOption"] = "ENABLED"
    return summary


def request_certificate(ctx: AcmContext, p: Json) -> Json:
    request = CertificateRequest(
        domain_name=p["DomainName"],
        subject_alternative_names=tuple(p.get("SubjectAlternativeNames", [])),
        ca_arn=p.get("CertificateAuthorityArn"),
        key_algorithm=AcmKeyAlgorithm(p.get("KeyAlgorithm", AcmKeyAlgorithm.RSA_2048)),
        idempotency_token=p.get("IdempotencyToken"),
        tags=tuple(codec.tags(p.get("Tags", []))),
    )
    return {"CertificateArn": ctx.services.certificates.request(ctx.caller, request)}


def describe_certificate(ctx: AcmContext, p: Json) -> Json:
    certificate = ctx.services.certificates.describe(ctx.caller, p["CertificateArn"])
    return {"Certificate": render_detail(certificate, ctx.services.clock.now())}


def list_certificates(ctx: AcmContext, p: Json) -> Json:
    includes = p.get("Includes", {})
    filters = ListFilter(
        statuses=tuple(CertificateStatus(s) for s in p.get("CertificateStatuses", [])),
        key_types=tuple(AcmKeyAlgorithm(k) for k in includes["keyTypes"])
        if "keyTypes" in includes
        else DEFAULT_KEY_TYPES,
        key_usages=tuple(includes.get("keyUsage", [])),
        extended_key_usages=tuple(includes.get("extendedKeyUsage", [])),
        managed_by=includes.get("managedBy"),
        key_pair_origins=tuple(p.get("CertificateKeyPairOrigins", [])),
        descending=p.get("SortOrder") == "DESCENDING",
    )
    page = ctx.services.certificates.list_certificates(
        ctx.caller, filters, p.get("MaxItems"), p.get("NextToken")
    )
    now = ctx.services.clock.now()
    return codec.drop_none(
        {
            "CertificateSummaryList": [render_summary(c, now) for c in page.items],
            "NextToken": page.next_token,
        }
    )


def get_certificate(ctx: AcmContext, p: Json) -> Json:
    certificate, chain = ctx.services.certificates.get(ctx.caller, p["CertificateArn"])
    return codec.drop_none({"Certificate": certificate, "CertificateChain": chain})


def export_certificate(ctx: AcmContext, p: Json) -> Json:
    exported = ctx.services.certificates.export(
        ctx.caller, p["CertificateArn"], codec.blob(p["Passphrase"])
    )
    return codec.drop_none(
        {
            "Certificate": exported.certificate,
            "CertificateChain": exported.chain,
            "PrivateKey": exported.private_key,
        }
    )


def import_certificate(ctx: AcmContext, p: Json) -> Json:
    arn = ctx.services.certificates.import_certificate(
        ctx.caller,
        codec.blob(p["Certificate"]),
        codec.blob(p["PrivateKey"]),
        codec.blob(p["CertificateChain"]) if "CertificateChain" in p else None,
        p.get("CertificateArn"),
        tuple(codec.tags(p.get("Tags", []))),
    )
    return {"CertificateArn": arn}


def delete_certificate(ctx: AcmContext, p: Json) -> Json:
    ctx.services.certificates.delete(ctx.caller, p["CertificateArn"])
    return {}


def add_tags_to_certificate(ctx: AcmContext, p: Json) -> Json:
    ctx.services.certificates.add_tags(ctx.caller, p["CertificateArn"], codec.tags(p["Tags"]))
    return {}


def remove_tags_from_certificate(ctx: AcmContext, p: Json) -> Json:
    ctx.services.certificates.remove_tags(ctx.caller, p["CertificateArn"], codec.tags(p["Tags"]))
    return {}


def list_tags_for_certificate(ctx: AcmContext, p: Json) -> Json:
    tags = ctx.services.certificates.list_tags(ctx.caller, p["CertificateArn"])
    return {"Tags": codec.render_tags(tags)}


def get_account_configuration(ctx: AcmContext, p: Json) -> Json:
    days = ctx.services.certificates.days_before_expiry(ctx.caller)
    return {"ExpiryEvents": {"DaysBeforeExpiry": days}}


def put_account_configuration(ctx: AcmContext, p: Json) -> Json:
    days = p.get("ExpiryEvents", {}).get("DaysBeforeExpiry")
    ctx.services.certificates.put_days_before_expiry(ctx.caller, days)
    return {}


def renew_certificate(ctx: AcmContext, p: Json) -> Json:
    ctx.services.renewals.renew(ctx.caller, p["CertificateArn"])
    return {}

"""One handler per ACM PCA operation: parse the checked request, call the domain, render.

Handlers are plain synchronous functions; the endpoint runs them off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pica.authority.accounts import AccountService
from pica.authority.audit_reports import AuditReportService
from pica.authority.audit_trail import AuditTrail
from pica.authority.authorities import CertificateAuthorityService, CreateCaRequest
from pica.authority.ca_access import Caller
from pica.authority.certificates import CertificateService, IssueRequest
from pica.authority.model import (
    CaStatus,
    CaType,
    KeyStorageSecurityStandard,
    RevocationConfiguration,
    RevocationReason,
    SigningAlgorithm,
    UsageMode,
)
from pica.authority.permissions import PermissionService, permission_policy
from pica.authority.ports import Clock
from pica.authority.resource_policies import ResourcePolicyService
from pica.authority.revocation import RevocationService
from pica.authority.sharing import AuditReportFormat
from pica.authority.write_turns import Steps, run_steps
from pica.wire.awsjson import codec

Json = dict[str, Any]


@dataclass(frozen=True)
class ApiServices:
    authorities: CertificateAuthorityService
    certificates: CertificateService
    revocation: RevocationService
    accounts: AccountService
    clock: Clock
    permissions: PermissionService
    policies: ResourcePolicyService
    audit_reports: AuditReportService
    audit_trail: AuditTrail


@dataclass(frozen=True)
class RequestContext:
    caller: Caller
    services: ApiServices


Handler = Callable[[RequestContext, Json], Json]
SteppedHandler = Callable[[RequestContext, Json], Steps[Json]]


def create_certificate_authority(ctx: RequestContext, p: Json) -> Json:
    request = CreateCaRequest(
        type=CaType(p["CertificateAuthorityType"]),
        configuration=codec.ca_configuration(p["CertificateAuthorityConfiguration"]),
        revocation_configuration=codec.revocation_configuration(p["RevocationConfiguration"])
        if "RevocationConfiguration" in p
        else RevocationConfiguration(),
        usage_mode=UsageMode(p.get("UsageMode", UsageMode.GENERAL_PURPOSE)),
        key_storage_security_standard=KeyStorageSecurityStandard(
            p.get(
                "KeyStorageSecurityStandard",
                KeyStorageSecurityStandard.FIPS_140_2_LEVEL_3_OR_HIGHER,
            )
        ),
        tags=tuple(codec.tags(p.get("Tags", []))),
        idempotency_token=p.get("IdempotencyToken"),
    )
    return {"CertificateAuthorityArn": ctx.services.authorities.create(ctx.caller, request)}


def describe_certificate_authority(ctx: RequestContext, p: Json) -> Json:
    ca = ctx.services.authorities.describe(ctx.caller, p["CertificateAuthorityArn"])
    return {"CertificateAuthority": codec.render_ca(ca, ctx.services.clock.now())}


def list_certificate_authorities(ctx: RequestContext, p: Json) -> Json:
    page = ctx.services.authorities.list_cas(
        ctx.caller,
        p.get("MaxResults"),
        p.get("NextToken"),
        shared=p.get("ResourceOwner") == "OTHER_ACCOUNTS",
    )
    now = ctx.services.clock.now()
    return codec.drop_none(
        {
            "CertificateAuthorities": [codec.render_ca(ca, now) for ca in page.items],
            "NextToken": page.next_token,
        }
    )


def get_certificate_authority_csr(ctx: RequestContext, p: Json) -> Json:
    return {"Csr": ctx.services.authorities.get_csr(ctx.caller, p["CertificateAuthorityArn"])}


def get_certificate_authority_certificate(ctx: RequestContext, p: Json) -> Json:
    certificate, chain = ctx.services.authorities.get_ca_certificate(
        ctx.caller, p["CertificateAuthorityArn"]
    )
    return codec.drop_none({"Certificate": certificate, "CertificateChain": chain})


def import_certificate_authority_certificate(ctx: RequestContext, p: Json) -> Json:
    ctx.services.authorities.import_certificate(
        ctx.caller,
        p["CertificateAuthorityArn"],
        codec.blob(p["Certificate"]),
        codec.blob(p["CertificateChain"]) if "CertificateChain" in p else None,
    )
    return {}


def issue_certificate(ctx: RequestContext, p: Json) -> Json:
    return run_steps(issue_certificate_steps(ctx, p))


def issue_certificate_steps(ctx: RequestContext, p: Json) -> Steps[Json]:
    request = IssueRequest(
        ca_arn=p["CertificateAuthorityArn"],
        csr=codec.blob(p["Csr"]),
        signing_algorithm=SigningAlgorithm(p["SigningAlgorithm"]),
        validity=codec.validity(p["Validity"]),
        template_arn=p.get("TemplateArn"),
        validity_not_before=codec.validity(p["ValidityNotBefore"])
        if "ValidityNotBefore" in p
        else None,
        idempotency_token=p.get("IdempotencyToken"),
        api_passthrough=codec.api_passthrough(p["ApiPassthrough"])
        if "ApiPassthrough" in p
        else None,
    )
    arn = yield from ctx.services.certificates.issue_steps(ctx.caller, request)
    return {"CertificateArn": arn}


def get_certificate(ctx: RequestContext, p: Json) -> Json:
    result = ctx.services.certificates.get(
        ctx.caller, p["CertificateAuthorityArn"], p["CertificateArn"]
    )
    return {"Certificate": result.certificate, "CertificateChain": result.chain}


def update_certificate_authority(ctx: RequestContext, p: Json) -> Json:
    ctx.services.authorities.update(
        ctx.caller,
        p["CertificateAuthorityArn"],
        CaStatus(p["Status"]) if "Status" in p else None,
        codec.revocation_configuration(p["RevocationConfiguration"])
        if "RevocationConfiguration" in p
        else None,
    )
    return {}


def delete_certificate_authority(ctx: RequestContext, p: Json) -> Json:
    ctx.services.authorities.delete(
        ctx.caller, p["CertificateAuthorityArn"], p.get("PermanentDeletionTimeInDays")
    )
    return {}


def restore_certificate_authority(ctx: RequestContext, p: Json) -> Json:
    ctx.services.authorities.restore(ctx.caller, p["CertificateAuthorityArn"])
    return {}


def tag_certificate_authority(ctx: RequestContext, p: Json) -> Json:
    ctx.services.authorities.tag(ctx.caller, p["CertificateAuthorityArn"], codec.tags(p["Tags"]))
    return {}


def untag_certificate_authority(ctx: RequestContext, p: Json) -> Json:
    ctx.services.authorities.untag(ctx.caller, p["CertificateAuthorityArn"], codec.tags(p["Tags"]))
    return {}


def list_tags(ctx: RequestContext, p: Json) -> Json:
    page = ctx.services.authorities.list_tags(
        ctx.caller, p["CertificateAuthorityArn"], p.get("MaxResults"), p.get("NextToken")
    )
    return codec.drop_none({"Tags": codec.render_tags(page.tags), "NextToken": page.next_token})


def revoke_certificate(ctx: RequestContext, p: Json) -> Json:
    return run_steps(revoke_certificate_steps(ctx, p))


def revoke_certificate_steps(ctx: RequestContext, p: Json) -> Steps[Json]:
    yield from ctx.services.revocation.revoke_steps(
        ctx.caller,
        p["CertificateAuthorityArn"],
        p["CertificateSerial"],
        RevocationReason(p["RevocationReason"]),
    )
    return {}


def create_permission(ctx: RequestContext, p: Json) -> Json:
    ctx.services.permissions.create(
        ctx.caller,
        p["CertificateAuthorityArn"],
        p["Principal"],
        list(p["Actions"]),
        p.get("SourceAccount"),
    )
    return {}


def list_permissions(ctx: RequestContext, p: Json) -> Json:
    page = ctx.services.permissions.list(
        ctx.caller, p["CertificateAuthorityArn"], p.get("MaxResults"), p.get("NextToken")
    )
    return codec.drop_none(
        {
            "Permissions": [
                codec.drop_none(
                    {
                        "CertificateAuthorityArn": permission.ca_arn,
                        "CreatedAt": codec.timestamp(permission.created_at),
                        "Principal": permission.principal,
                        "SourceAccount": permission.source_account,
                        "Actions": list(permission.actions),
                        "Policy": permission_policy(permission),
                    }
                )
                for permission in page.permissions
            ],
            "NextToken": page.next_token,
        }
    )


def delete_permission(ctx: RequestContext, p: Json) -> Json:
    ctx.services.permissions.delete(
        ctx.caller, p["CertificateAuthorityArn"], p["Principal"], p.get("SourceAccount")
    )
    return {}


def put_policy(ctx: RequestContext, p: Json) -> Json:
    ctx.services.policies.put(ctx.caller, p["ResourceArn"], p["Policy"])
    return {}


def get_policy(ctx: RequestContext, p: Json) -> Json:
    return {"Policy": ctx.services.policies.get(ctx.caller, p["ResourceArn"])}


def delete_policy(ctx: RequestContext, p: Json) -> Json:
    ctx.services.policies.delete(ctx.caller, p["ResourceArn"])
    return {}


def create_certificate_authority_audit_report(ctx: RequestContext, p: Json) -> Json:
    report = ctx.services.audit_reports.create(
        ctx.caller,
        p["CertificateAuthorityArn"],
        p["S3BucketName"],
        AuditReportFormat(p["AuditReportResponseFormat"]),
    )
    return {"AuditReportId": report.report_id, "S3Key": report.key}


def describe_certificate_authority_audit_report(ctx: RequestContext, p: Json) -> Json:
    report = ctx.services.audit_reports.describe(
        ctx.caller, p["CertificateAuthorityArn"], p["AuditReportId"]
    )
    return {
        "AuditReportStatus": report.status.value,
        "S3BucketName": report.bucket,
        "S3Key": report.key,
        "CreatedAt": codec.timestamp(report.created_at),
    }

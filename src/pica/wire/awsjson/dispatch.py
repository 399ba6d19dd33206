"""The explicit table from `X-Amz-Target` to handler, covering all 23 ACM PCA operations.

Operations a later piece of work builds are listed with `None`: they answer a clear error that
names them instead of a 500. A unit test checks the table against botocore's model.
"""

from __future__ import annotations

from pica.wire.awsjson import handlers as h

TARGET_PREFIX = "ACMPrivateCA."

OPERATIONS: dict[str, h.Handler | None] = {
    "CreateCertificateAuthority": h.create_certificate_authority,
    "CreateCertificateAuthorityAuditReport": h.create_certificate_authority_audit_report,
    "CreatePermission": h.create_permission,
    "DeleteCertificateAuthority": h.delete_certificate_authority,
    "DeletePermission": h.delete_permission,
    "DeletePolicy": h.delete_policy,
    "DescribeCertificateAuthority": h.describe_certificate_authority,
    "DescribeCertificateAuthorityAuditReport": h.describe_certificate_authority_audit_report,
    "GetCertificate": h.get_certificate,
    "GetCertificateAuthorityCertificate": h.get_certificate_authority_certificate,
    "GetCertificateAuthorityCsr": h.get_certificate_authority_csr,
    "GetPolicy": h.get_policy,
    "ImportCertificateAuthorityCertificate": h.import_certificate_authority_certificate,
    "IssueCertificate": h.issue_certificate,
    "ListCertificateAuthorities": h.list_certificate_authorities,
    "ListPermissions": h.list_permissions,
    "ListTags": h.list_tags,
    "PutPolicy": h.put_policy,
    "RestoreCertificateAuthority": h.restore_certificate_authority,
    "RevokeCertificate": h.revoke_certificate,
    "TagCertificateAuthority": h.tag_certificate_authority,
    "UntagCertificateAuthority": h.untag_certificate_authority,
    "UpdateCertificateAuthority": h.update_certificate_authority,
}

DISPATCH: dict[str, tuple[str, h.Handler | None]] = {
    TARGET_PREFIX + name: (name, handler) for name, handler in OPERATIONS.items()
}

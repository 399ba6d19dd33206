"""The explicit table from `X-Amz-Target` to handler, covering every operation of the acm-pca
model pica serves (botocore's, pinned in pyproject.toml).

Operations a later piece of work builds are listed with `None`: they answer a clear error that
names them instead of a 500. A test checks the table against botocore's model, so a model that
gains operations fails it until they are listed here. The multi-Region replica and
service-affiliated association operations (new in botocore 1.44.18's model) have no meaning on a
single-region pica yet and are listed as not implemented.
"""

from __future__ import annotations

from pica.wire.awsjson import handlers as h

TARGET_PREFIX = "ACMPrivateCA."

OPERATIONS: dict[str, h.Handler | None] = {
    "BatchCreateCertificateAuthorityReplica": None,
    "CreateCertificateAuthority": h.create_certificate_authority,
    "CreateCertificateAuthorityAssociation": None,
    "CreateCertificateAuthorityAuditReport": h.create_certificate_authority_audit_report,
    "CreateCertificateAuthorityReplica": None,
    "CreatePermission": h.create_permission,
    "DeleteCertificateAuthority": h.delete_certificate_authority,
    "DeleteCertificateAuthorityAssociation": None,
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
    "ListCertificateAuthorityAssociations": None,
    "ListCertificateAuthorityReplicas": None,
    "ListPermissions": h.list_permissions,
    "ListTags": h.list_tags,
    "PutPolicy": h.put_policy,
    "RestoreCertificateAuthority": h.restore_certificate_authority,
    "RevokeCertificate": h.revoke_certificate,
    "TagCertificateAuthority": h.tag_certificate_authority,
    "UntagCertificateAuthority": h.untag_certificate_authority,
    "UpdateCertificateAuthority": h.update_certificate_authority,
}

# Handlers also written as steps (`pica.authority.write_turns`), which a server running them on
# its event loop drives with a wait for the writers' queue at each write turn.
STEPPED: dict[str, h.SteppedHandler] = {
    TARGET_PREFIX + "IssueCertificate": h.issue_certificate_steps,
    TARGET_PREFIX + "RevokeCertificate": h.revoke_certificate_steps,
}

DISPATCH: dict[str, tuple[str, h.Handler | None]] = {
    TARGET_PREFIX + name: (name, handler) for name, handler in OPERATIONS.items()
}

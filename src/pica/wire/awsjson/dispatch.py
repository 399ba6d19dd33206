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
    "CreateCertificateAuthorityAuditReport": None,
    "CreateCertificateAuthorityReplica": None,
    "CreatePermission": None,
    "DeleteCertificateAuthority": h.delete_certificate_authority,
    "DeleteCertificateAuthorityAssociation": None,
    "DeletePermission": None,
    "DeletePolicy": None,
    "DescribeCertificateAuthority": h.describe_certificate_authority,
    "DescribeCertificateAuthorityAuditReport": None,
    "GetCertificate": h.get_certificate,
    "GetCertificateAuthorityCertificate": h.get_certificate_authority_certificate,
    "GetCertificateAuthorityCsr": h.get_certificate_authority_csr,
    "GetPolicy": None,
    "ImportCertificateAuthorityCertificate": h.import_certificate_authority_certificate,
    "IssueCertificate": h.issue_certificate,
    "ListCertificateAuthorities": h.list_certificate_authorities,
    "ListCertificateAuthorityAssociations": None,
    "ListCertificateAuthorityReplicas": None,
    "ListPermissions": None,
    "ListTags": h.list_tags,
    "PutPolicy": None,
    "RestoreCertificateAuthority": h.restore_certificate_authority,
    "RevokeCertificate": h.revoke_certificate,
    "TagCertificateAuthority": h.tag_certificate_authority,
    "UntagCertificateAuthority": h.untag_certificate_authority,
    "UpdateCertificateAuthority": h.update_certificate_authority,
}

DISPATCH: dict[str, tuple[str, h.Handler | None]] = {
    TARGET_PREFIX + name: (name, handler) for name, handler in OPERATIONS.items()
}

"""The explicit table from `X-Amz-Target: CertificateManager.<Operation>` to handler, covering
every operation of botocore's `acm` 2015-12-08 model (pinned in pyproject.toml).

pica serves ACM's private-certificate half: certificates its own CAs issue, imported ones, their
export, renewal and tags. Public certificates, ACME endpoints, inventory and the member
(organization) operations have no meaning on pica and are listed with `None`: they answer 501
NotImplementedException naming the operation, as unbuilt ACM PCA operations do. A test checks the
table against botocore's model.
"""

from __future__ import annotations

from pica.wire.awsjson.served_api import Handler, dispatch_table

TARGET_PREFIX = "CertificateManager."

OPERATIONS: dict[str, Handler | None] = {
    "AddTagsToCertificate": None,
    "CreateAcmeDomainValidation": None,
    "CreateAcmeEndpoint": None,
    "CreateAcmeExternalAccountBinding": None,
    "DeleteAcmeDomainValidation": None,
    "DeleteAcmeEndpoint": None,
    "DeleteAcmeExternalAccountBinding": None,
    "DeleteCertificate": None,
    "DeleteMemberCertificate": None,
    "DeleteMemberCertificateAuthority": None,
    "DescribeAcmeAccount": None,
    "DescribeAcmeDomainValidation": None,
    "DescribeAcmeEndpoint": None,
    "DescribeAcmeExternalAccountBinding": None,
    "DescribeCertificate": None,
    "ExportCertificate": None,
    "GetAccountConfiguration": None,
    "GetAcmeExternalAccountBindingCredentials": None,
    "GetCertificate": None,
    "GetInventoryConfiguration": None,
    "GetInventoryInsights": None,
    "ImportCertificate": None,
    "ListAcmeAccounts": None,
    "ListAcmeDomainValidations": None,
    "ListAcmeEndpoints": None,
    "ListAcmeExternalAccountBindings": None,
    "ListCertificateDomainValidations": None,
    "ListCertificates": None,
    "ListInventoryFindings": None,
    "ListInventoryRelatedResources": None,
    "ListInventoryUsages": None,
    "ListTagsForCertificate": None,
    "ListTagsForResource": None,
    "PutAccountConfiguration": None,
    "PutInventoryConfiguration": None,
    "RemoveTagsFromCertificate": None,
    "RenewCertificate": None,
    "RenewMemberCertificate": None,
    "RequestCertificate": None,
    "ResendValidationEmail": None,
    "RestoreMemberCertificateAuthority": None,
    "RevokeAcmeAccount": None,
    "RevokeAcmeExternalAccountBinding": None,
    "RevokeCertificate": None,
    "RevokeMemberCertificate": None,
    "RevokeMemberIssuedCertificate": None,
    "SearchCertificates": None,
    "SearchInventory": None,
    "TagResource": None,
    "UntagResource": None,
    "UpdateAcmeDomainValidation": None,
    "UpdateAcmeEndpoint": None,
    "UpdateCertificateOptions": None,
    "UpdateMemberCertificateAuthority": None,
    "UpdateMemberCertificateOptions": None,
}

DISPATCH = dispatch_table(TARGET_PREFIX, OPERATIONS)

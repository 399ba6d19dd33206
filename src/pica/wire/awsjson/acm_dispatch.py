"""The explicit table from `X-Amz-Target: CertificateManager.<Operation>` to handler, covering
every operation of botocore's `acm` 2015-12-08 model (pinned in pyproject.toml).

pica serves ACM's private-certificate half: certificates its own CAs issue, imported ones, their
export, renewal and tags. Public certificates, ACME endpoints, inventory and the member
(organization) operations have no meaning on pica and are listed with `None`: they answer 501
NotImplementedException naming the operation, as unbuilt ACM PCA operations do. A test checks the
table against botocore's model.
"""

from __future__ import annotations

from pica.wire.awsjson import acm_handlers as h
from pica.wire.awsjson.served_api import Handler, dispatch_table

TARGET_PREFIX = "CertificateManager."

OPERATIONS: dict[str, Handler | None] = {
    "AddTagsToCertificate": h.add_tags_to_certificate,
    "CreateAcmeDomainValidation": None,
    "CreateAcmeEndpoint": None,
    "CreateAcmeExternalAccountBinding": None,
    "DeleteAcmeDomainValidation": None,
    "DeleteAcmeEndpoint": None,
    "DeleteAcmeExternalAccountBinding": None,
    "DeleteCertificate": h.delete_certificate,
    "DeleteMemberCertificate": None,
    "DeleteMemberCertificateAuthority": None,
    "DescribeAcmeAccount": None,
    "DescribeAcmeDomainValidation": None,
    "DescribeAcmeEndpoint": None,
    "DescribeAcmeExternalAccountBinding": None,
    "DescribeCertificate": h.describe_certificate,
    "ExportCertificate": h.export_certificate,
    "GetAccountConfiguration": h.get_account_configuration,
    "GetAcmeExternalAccountBindingCredentials": None,
    "GetCertificate": h.get_certificate,
    "GetInventoryConfiguration": None,
    "GetInventoryInsights": None,
    "ImportCertificate": h.import_certificate,
    "ListAcmeAccounts": None,
    "ListAcmeDomainValidations": None,
    "ListAcmeEndpoints": None,
    "ListAcmeExternalAccountBindings": None,
    "ListCertificateDomainValidations": None,
    "ListCertificates": h.list_certificates,
    "ListInventoryFindings": None,
    "ListInventoryRelatedResources": None,
    "ListInventoryUsages": None,
    "ListTagsForCertificate": h.list_tags_for_certificate,
    "ListTagsForResource": None,
    "PutAccountConfiguration": h.put_account_configuration,
    "PutInventoryConfiguration": None,
    "RemoveTagsFromCertificate": h.remove_tags_from_certificate,
    "RenewCertificate": h.renew_certificate,
    "RenewMemberCertificate": None,
    "RequestCertificate": h.request_certificate,
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

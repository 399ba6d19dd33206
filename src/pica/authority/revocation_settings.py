"""Validation and defaults for RevocationConfiguration, per the CreateCertificateAuthority docs.

"A configuration disabling CRLs or OCSP must contain only the Enabled=False parameter"; CNAMEs
are host names without a scheme; OmitExtension cannot be combined with a custom CNAME.
"""

from __future__ import annotations

import dataclasses
import re

from pica.authority.model import (
    CrlConfiguration,
    CrlType,
    OcspConfiguration,
    RevocationConfiguration,
    S3ObjectAcl,
)
from pica.authority.ports import ObjectStore
from pica.errors import InvalidArgs, RequestFailed

DEFAULT_CRL_EXPIRATION_DAYS = 7
# The object AWS writes to check that it may publish to the bucket (the name AWS uses).
PERMISSION_TEST_KEY = "acm-pca-permission-test-key"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")


def _check_cname(value: str | None, member: str) -> None:
    if value is None:
        return
    if value.lower().startswith(("http://", "https://")):
        raise InvalidArgs(
            f"{member} must not include a protocol prefix such as http:// or https://."
        )


def normalise(config: RevocationConfiguration) -> RevocationConfiguration:
    """Check a revocation configuration and fill in the defaults AWS reports back."""
    crl, ocsp = config.crl, config.ocsp
    if not crl.enabled:
        if crl != CrlConfiguration(enabled=False):
            raise InvalidArgs(
                "A CrlConfiguration that disables CRLs must contain only Enabled=false."
            )
    else:
        if crl.s3_bucket_name is None:
            raise InvalidArgs("S3BucketName is required when CRL generation is enabled.")
        if _BUCKET.fullmatch(crl.s3_bucket_name) is None or ".." in crl.s3_bucket_name:
            raise InvalidArgs(f"S3BucketName {crl.s3_bucket_name!r} is not a valid bucket name.")
        _check_cname(crl.custom_cname, "CustomCname")
        if crl.omit_extension and crl.custom_cname:
            raise InvalidArgs(
                "CustomCname cannot be set when the CRL distribution point extension is omitted."
            )
        crl = dataclasses.replace(
            crl,
            expiration_in_days=crl.expiration_in_days or DEFAULT_CRL_EXPIRATION_DAYS,
            s3_object_acl=crl.s3_object_acl or S3ObjectAcl.PUBLIC_READ,
            omit_extension=bool(crl.omit_extension),
            crl_type=crl.crl_type or CrlType.COMPLETE,
        )
    if not ocsp.enabled:
        if ocsp != OcspConfiguration(enabled=False):
            raise InvalidArgs(
                "An OcspConfiguration that disables OCSP must contain only Enabled=false."
            )
    else:
        _check_cname(ocsp.ocsp_custom_cname, "OcspCustomCname")
    return RevocationConfiguration(crl=crl, ocsp=ocsp)


def probe_bucket(objects: ObjectStore, crl: CrlConfiguration) -> None:
    """Write the permission-test object, as AWS does, so that a bucket pica cannot write to is
    refused when the configuration is set rather than discovered at the first revocation."""
    if not crl.enabled or crl.s3_bucket_name is None:
        return
    try:
        objects.put_object(
            crl.s3_bucket_name,
            PERMISSION_TEST_KEY,
            b"",
            content_type="application/octet-stream",
            public_read=False,
        )
    except RequestFailed as exc:
        raise InvalidArgs(
            f"pica cannot write CRLs to the bucket {crl.s3_bucket_name}: {exc.message}"
        ) from exc

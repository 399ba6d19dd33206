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
from pica.errors import InvalidArgs

DEFAULT_CRL_EXPIRATION_DAYS = 7
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

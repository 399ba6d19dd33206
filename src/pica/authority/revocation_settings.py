"""Validation and defaults for RevocationConfiguration, per the CreateCertificateAuthority docs.

"A configuration disabling CRLs or OCSP must contain only the Enabled=False parameter"; CNAMEs
are host names without a scheme; OmitExtension cannot be combined with a custom CNAME. Every rule
is checked when a configuration is set, never first at publication: a configuration that is
accepted can always be published and written into certificates.

Buckets are owned: the first account whose CA names a bucket owns it, and another account's CA
naming it gets the error AWS gives for a bucket it cannot write to. Without that, one tenant
could make pica write into (or, with a CustomPath, break) another tenant's CRLs.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import re
from datetime import datetime
from urllib.parse import unquote

from pica.authority.model import (
    CrlConfiguration,
    CrlType,
    OcspConfiguration,
    RevocationConfiguration,
    S3ObjectAcl,
)
from pica.authority.ports import ObjectStore, Transaction
from pica.errors import InvalidArgs, RequestFailed

log = logging.getLogger("pica.crl")

DEFAULT_CRL_EXPIRATION_DAYS = 7
# The object AWS writes to check that it may publish to the bucket (the name AWS uses).
PERMISSION_TEST_KEY = "acm-pca-permission-test-key"
# S3's general purpose bucket naming rules (Amazon S3 user guide, "Bucket naming rules").
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_permission_error(bucket: str) -> InvalidArgs:
    """What AWS answers when it cannot write to a CRL bucket (the message seen from AWS)."""
    return InvalidArgs(
        f"Permission error with your S3 bucket '{bucket}'. Check that your bucket policy, "
        "encryption settings, S3 Block Public Access settings, and global account permissions "
        "are configured correctly. For more information, check the service documentation."
    )


def check_bucket_name(bucket: str) -> None:
    """S3's naming rules for general purpose buckets, each refused with its own reason."""
    reason = None
    if _BUCKET.fullmatch(bucket) is None:
        reason = (
            "must be 3 to 63 lower-case letters, digits, dots and hyphens, and begin and end "
            "with a letter or digit"
        )
    elif ".." in bucket:
        reason = "must not contain two adjacent periods"
    elif _is_ip_address(bucket):
        reason = "must not be formatted as an IP address"
    elif bucket.startswith(_RESERVED_BUCKET_PREFIXES):
        reason = "must not start with " + " or ".join(_RESERVED_BUCKET_PREFIXES)
    elif bucket.endswith(_RESERVED_BUCKET_SUFFIXES):
        reason = "must not end with " + " or ".join(_RESERVED_BUCKET_SUFFIXES)
    if reason is not None:
        raise InvalidArgs(f"S3BucketName '{bucket}' is not a valid bucket name: it {reason}.")


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def check_custom_path(path: str | None) -> None:
    """A CustomPath is a relative URL path: segments, none empty, `.` or `..`.

    The model's pattern allows dot segments, but a URL client removes them (RFC 3986 5.2.4;
    WHATWG URLs also after percent-decoding `%2e`), so the CRL distribution point would name
    another object than the one published, and the local store refuses such keys outright:
    every issuance from the CA would then fail. The lone `/` the model allows means no prefix.
    """
    if path is None or path == "/":
        return
    for segment in unquote(path).split("/"):
        if segment in ("", ".", ".."):
            raise InvalidArgs(
                f"CustomPath '{path}' is not a valid path: its segments (percent-decoded) must "
                "not be empty, '.' or '..'."
            )


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
        check_bucket_name(crl.s3_bucket_name)
        check_custom_path(crl.custom_path)
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
    refused when the configuration is set rather than discovered at the first revocation.

    The object is written with the ACL the CRLs will get: a bucket that refuses public-read
    objects (S3 Block Public Access) is refused now for a PUBLIC_READ configuration, as AWS
    refuses it, instead of failing every publication later.
    """
    if not crl.enabled or crl.s3_bucket_name is None:
        return
    try:
        objects.put_object(
            crl.s3_bucket_name,
            PERMISSION_TEST_KEY,
            b"",
            content_type="application/octet-stream",
            public_read=crl.s3_object_acl is not S3ObjectAcl.BUCKET_OWNER_FULL_CONTROL,
        )
    except (RequestFailed, InvalidArgs) as exc:
        # The cause names server paths or the store's endpoint: for the operator's log only.
        log.warning("bucket %s refused the permission test: %s", crl.s3_bucket_name, exc.message)
        raise bucket_permission_error(crl.s3_bucket_name) from exc


def check_bucket_owner(tx: Transaction, crl: CrlConfiguration, account_id: str) -> None:
    """Refuse a bucket that another account's CAs already use."""
    if not crl.enabled or crl.s3_bucket_name is None:
        return
    owner = tx.get_bucket_owner(crl.s3_bucket_name)
    if owner is not None and owner != account_id:
        raise bucket_permission_error(crl.s3_bucket_name)


def claim_bucket(tx: Transaction, crl: CrlConfiguration, account_id: str, at: datetime) -> None:
    """Make `account_id` the owner of the CRL bucket if nobody is; refuse if somebody else is
    (a concurrent claim may have won since `check_bucket_owner`)."""
    if not crl.enabled or crl.s3_bucket_name is None:
        return
    if tx.claim_bucket(crl.s3_bucket_name, account_id, at) != account_id:
        raise bucket_permission_error(crl.s3_bucket_name)

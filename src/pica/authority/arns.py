"""ARNs pica hands out and accepts: CAs, certificates (serial as lower-case hex), templates."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from pica.errors import InvalidArn

_CA_ARN = re.compile(
    r"arn:(?P<partition>[\w-]+):acm-pca:(?P<region>[\w-]*):(?P<account>\d{12}):"
    r"certificate-authority/(?P<ca_id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
)
_CERT_SUFFIX = re.compile(r"/certificate/(?P<serial>[0-9a-fA-F]{1,40})")


@dataclass(frozen=True)
class ArnFactory:
    """Mints CA ARNs for this deployment's partition and region."""

    partition: str
    region: str

    def new_ca_arn(self, account_id: str) -> str:
        return (
            f"arn:{self.partition}:acm-pca:{self.region}:{account_id}:"
            f"certificate-authority/{uuid.uuid4()}"
        )


def check_ca_arn(arn: str) -> str:
    """Return the ARN if it names a certificate authority, else InvalidArn."""
    if _CA_ARN.fullmatch(arn) is None:
        raise InvalidArn(f"The ARN {arn} is not a valid certificate authority ARN.")
    return arn


def account_of(ca_arn: str) -> str:
    """The account a CA ARN names (work pica does on an owner's behalf is recorded as theirs)."""
    match = _CA_ARN.fullmatch(ca_arn)
    if match is None:
        raise InvalidArn(f"The ARN {ca_arn} is not a valid certificate authority ARN.")
    return match.group("account")


def certificate_serial(ca_arn: str, certificate_arn: str) -> int:
    """The serial a certificate ARN names, checking that it belongs to `ca_arn`."""
    if not certificate_arn.startswith(ca_arn):
        prefix_ok = False
    else:
        prefix_ok = _CERT_SUFFIX.fullmatch(certificate_arn[len(ca_arn) :]) is not None
    if not prefix_ok:
        head, sep, tail = certificate_arn.partition("/certificate/")
        if sep and _CA_ARN.fullmatch(head) and re.fullmatch(r"[0-9a-fA-F]{1,40}", tail):
            raise InvalidArn(
                f"The certificate {certificate_arn} was not issued by the certificate "
                f"authority {ca_arn}."
            )
        raise InvalidArn(f"The ARN {certificate_arn} is not a valid certificate ARN.")
    return int(certificate_arn.rsplit("/", 1)[1], 16)

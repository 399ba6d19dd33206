"""Certificate templates: what each AWS template ARN puts into a certificate.

Definitions follow the AWS page "AWS Private CA template definitions". A template fixes the
basic constraints, key usage and extended key usage; the subject and subject alternative names
come from the CSR. Passthrough variants (API/CSR) are defined by later work on top of this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from pica.authority.model import KeyUsageFlags
from pica.errors import InvalidArgs

TEMPLATE_ARN_PREFIX = "arn:aws:acm-pca:::template/"
DEFAULT_TEMPLATE_ARN = f"{TEMPLATE_ARN_PREFIX}EndEntityCertificate/V1"


@dataclass(frozen=True)
class Template:
    name: str
    is_ca: bool
    path_length: int | None
    basic_constraints_critical: bool
    key_usage: KeyUsageFlags
    extended_key_usage: tuple[ObjectIdentifier, ...] = ()
    extended_key_usage_critical: bool = False
    self_signed: bool = False

    @property
    def arn(self) -> str:
        return f"{TEMPLATE_ARN_PREFIX}{self.name}/V1"


_EE_KU = KeyUsageFlags(digital_signature=True, key_encipherment=True)
_SIGN_KU = KeyUsageFlags(digital_signature=True)
_CA_KU = KeyUsageFlags(digital_signature=True, key_cert_sign=True, crl_sign=True)


def _end_entity(
    name: str, ku: KeyUsageFlags, *eku: ObjectIdentifier, eku_critical: bool = False
) -> Template:
    return Template(
        name=name,
        is_ca=False,
        path_length=None,
        basic_constraints_critical=False,
        key_usage=ku,
        extended_key_usage=eku,
        extended_key_usage_critical=eku_critical,
    )


def _subordinate(path_length: int) -> Template:
    return Template(
        name=f"SubordinateCACertificate_PathLen{path_length}",
        is_ca=True,
        path_length=path_length,
        basic_constraints_critical=True,
        key_usage=_CA_KU,
    )


_BASE_TEMPLATES: tuple[Template, ...] = (
    _end_entity(
        "EndEntityCertificate",
        _EE_KU,
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    ),
    _end_entity("EndEntityClientAuthCertificate", _EE_KU, ExtendedKeyUsageOID.CLIENT_AUTH),
    _end_entity("EndEntityServerAuthCertificate", _EE_KU, ExtendedKeyUsageOID.SERVER_AUTH),
    _end_entity(
        "CodeSigningCertificate", _SIGN_KU, ExtendedKeyUsageOID.CODE_SIGNING, eku_critical=True
    ),
    _end_entity(
        "OCSPSigningCertificate", _SIGN_KU, ExtendedKeyUsageOID.OCSP_SIGNING, eku_critical=True
    ),
    Template(
        name="RootCACertificate",
        is_ca=True,
        path_length=None,
        basic_constraints_critical=True,
        key_usage=_CA_KU,
        self_signed=True,
    ),
    *(_subordinate(n) for n in range(4)),
)

TEMPLATES: dict[str, Template] = {t.arn: t for t in _BASE_TEMPLATES}


def template_for(arn: str | None) -> Template:
    """The template an ARN names; the default when omitted; InvalidArgs when unknown."""
    if arn is None:
        return TEMPLATES[DEFAULT_TEMPLATE_ARN]
    template = TEMPLATES.get(arn)
    if template is None:
        raise InvalidArgs(f"The template {arn} is not a valid AWS Private CA template.")
    return template

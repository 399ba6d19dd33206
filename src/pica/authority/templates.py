"""Certificate templates: what each of the 61 AWS template ARNs puts into a certificate.

Definitions follow the AWS pages "AWS Private CA template definitions" and "template varieties".
A template fixes basicConstraints and, unless it is a Blank template, key usage (and for
end-entity templates extended key usage). Its variety decides where the rest may come from:
base templates take the subject and SAN from the CSR; CSRPassthrough templates copy the CSR's
other extensions too; APIPassthrough templates take values from the request's ApiPassthrough;
APICSRPassthrough take both, the API winning. What a template defines always wins.
"""

from __future__ import annotations

import dataclasses
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
    # None: the template does not define it (Blank templates; EKU of CA templates).
    key_usage: KeyUsageFlags | None
    extended_key_usage: tuple[ObjectIdentifier, ...] | None = None
    extended_key_usage_critical: bool = False
    self_signed: bool = False
    api_passthrough: bool = False
    csr_passthrough: bool = False
    blank: bool = False

    @property
    def arn(self) -> str:
        return f"{TEMPLATE_ARN_PREFIX}{self.name}/V1"

    @property
    def shaped_by_caller(self) -> bool:
        """The caller decides part of the content: passthrough, Blank and CA certificates."""
        return self.api_passthrough or self.csr_passthrough or self.blank or self.is_ca


_EE_KU = KeyUsageFlags(digital_signature=True, key_encipherment=True)
_SIGN_KU = KeyUsageFlags(digital_signature=True)
_CA_KU = KeyUsageFlags(digital_signature=True, key_cert_sign=True, crl_sign=True)

_VARIETIES = {
    "": (False, False),
    "_CSRPassthrough": (False, True),
    "_APIPassthrough": (True, False),
    "_APICSRPassthrough": (True, True),
}


def _varieties(base: Template, suffixes: tuple[str, ...] = tuple(_VARIETIES)) -> list[Template]:
    return [
        dataclasses.replace(
            base,
            name=base.name + suffix,
            api_passthrough=_VARIETIES[suffix][0],
            csr_passthrough=_VARIETIES[suffix][1],
        )
        for suffix in suffixes
    ]


def _end_entity(
    name: str, ku: KeyUsageFlags, *eku: ObjectIdentifier, critical: bool = False
) -> Template:
    return Template(
        name=name,
        is_ca=False,
        path_length=None,
        basic_constraints_critical=False,
        key_usage=ku,
        extended_key_usage=eku,
        extended_key_usage_critical=critical,
    )


def _ca(
    name: str,
    path_length: int | None,
    ku: KeyUsageFlags | None,
    *,
    self_signed: bool = False,
    blank: bool = False,
) -> Template:
    return Template(
        name=name,
        is_ca=True,
        path_length=path_length,
        basic_constraints_critical=True,
        key_usage=ku,
        self_signed=self_signed,
        blank=blank,
    )


_PASSTHROUGH_ONLY = ("_CSRPassthrough", "_APIPassthrough", "_APICSRPassthrough")


def _all_templates() -> list[Template]:
    templates: list[Template] = []
    for base in (
        _end_entity(
            "EndEntityCertificate",
            _EE_KU,
            ExtendedKeyUsageOID.SERVER_AUTH,
            ExtendedKeyUsageOID.CLIENT_AUTH,
        ),
        _end_entity("EndEntityClientAuthCertificate", _EE_KU, ExtendedKeyUsageOID.CLIENT_AUTH),
        _end_entity("EndEntityServerAuthCertificate", _EE_KU, ExtendedKeyUsageOID.SERVER_AUTH),
        _end_entity(
            "CodeSigningCertificate", _SIGN_KU, ExtendedKeyUsageOID.CODE_SIGNING, critical=True
        ),
        _end_entity(
            "OCSPSigningCertificate", _SIGN_KU, ExtendedKeyUsageOID.OCSP_SIGNING, critical=True
        ),
    ):
        templates += _varieties(base)
    root = _ca("RootCACertificate", None, _CA_KU, self_signed=True)
    templates += _varieties(root, ("", "_APIPassthrough"))
    for n in range(4):
        templates += _varieties(_ca(f"SubordinateCACertificate_PathLen{n}", n, _CA_KU))
    blank_ee = Template(
        name="BlankEndEntityCertificate",
        is_ca=False,
        path_length=None,
        basic_constraints_critical=False,
        key_usage=None,
        blank=True,
    )
    templates += _varieties(blank_ee, _PASSTHROUGH_ONLY)
    templates += _varieties(
        dataclasses.replace(
            blank_ee,
            name="BlankEndEntityCertificate_CriticalBasicConstraints",
            basic_constraints_critical=True,
        ),
        _PASSTHROUGH_ONLY,
    )
    for n in range(4):
        templates += _varieties(
            _ca(f"BlankSubordinateCACertificate_PathLen{n}", n, None, blank=True),
            _PASSTHROUGH_ONLY,
        )
    blank_root = _ca("BlankRootCACertificate", None, None, blank=True, self_signed=True)
    templates += _varieties(blank_root, ("_APIPassthrough",))
    for n in range(4):
        templates += _varieties(
            dataclasses.replace(
                blank_root, name=f"BlankRootCACertificate_PathLen{n}", path_length=n
            ),
            ("_APIPassthrough",),
        )
    return templates


TEMPLATES: dict[str, Template] = {t.arn: t for t in _all_templates()}


def template_for(arn: str | None) -> Template:
    """The template an ARN names; the default when omitted; InvalidArgs when unknown."""
    if arn is None:
        return TEMPLATES[DEFAULT_TEMPLATE_ARN]
    template = TEMPLATES.get(arn)
    if template is None:
        raise InvalidArgs(f"The template {arn} is not a valid AWS Private CA template.")
    return template

"""templates: the 61 AWS template ARNs and what each fixes in a certificate."""

from __future__ import annotations

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from pica.authority.templates import (
    DEFAULT_TEMPLATE_ARN,
    TEMPLATE_ARN_PREFIX,
    TEMPLATES,
    template_for,
)
from pica.errors import InvalidArgs


def arn(name: str) -> str:
    return f"{TEMPLATE_ARN_PREFIX}{name}/V1"


def test_there_are_the_61_aws_templates() -> None:
    assert len(TEMPLATES) == 61
    assert all(key == template.arn for key, template in TEMPLATES.items())


def test_no_template_arn_means_the_end_entity_template() -> None:
    template = template_for(None)
    assert template.arn == DEFAULT_TEMPLATE_ARN == arn("EndEntityCertificate")
    assert not template.is_ca
    assert template.extended_key_usage == (
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )


def test_an_unknown_template_is_invalid_args() -> None:
    with pytest.raises(InvalidArgs, match="is not a valid AWS Private CA template"):
        template_for(arn("EndEntityCertificate_Nope"))


@pytest.mark.parametrize(
    ("name", "api", "csr"),
    [
        ("EndEntityCertificate", False, False),
        ("EndEntityCertificate_CSRPassthrough", False, True),
        ("EndEntityCertificate_APIPassthrough", True, False),
        ("EndEntityCertificate_APICSRPassthrough", True, True),
    ],
)
def test_the_variety_decides_where_content_may_come_from(name: str, api: bool, csr: bool) -> None:
    template = template_for(arn(name))
    assert (template.api_passthrough, template.csr_passthrough) == (api, csr)
    assert template.shaped_by_caller == (api or csr)


@pytest.mark.parametrize("length", range(4))
def test_subordinate_templates_fix_their_path_length(length: int) -> None:
    template = template_for(arn(f"SubordinateCACertificate_PathLen{length}"))
    assert template.is_ca and template.path_length == length
    assert template.basic_constraints_critical
    assert template.key_usage is not None and template.key_usage.key_cert_sign


def test_blank_templates_leave_key_usage_to_the_caller_and_exist_only_as_passthrough() -> None:
    blank = template_for(arn("BlankEndEntityCertificate_APIPassthrough"))
    assert blank.blank and blank.key_usage is None and blank.shaped_by_caller
    with pytest.raises(InvalidArgs):
        template_for(arn("BlankEndEntityCertificate"))


def test_the_root_template_is_self_signed_without_path_length() -> None:
    root = template_for(arn("RootCACertificate"))
    assert root.is_ca and root.self_signed and root.path_length is None
    assert root.shaped_by_caller  # CA certificates are linted by pkilint too

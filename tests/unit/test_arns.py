"""arns: the CA and certificate ARNs pica mints and accepts."""

from __future__ import annotations

import re

import pytest

from pica.authority.arns import ArnFactory, account_of, certificate_serial, check_ca_arn
from pica.errors import InvalidArn

CA = (
    "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
    "12345678-1234-1234-1234-123456789012"
)


def test_minted_ca_arns_parse_and_certificate_arns_belong_to_their_ca() -> None:
    arn = ArnFactory("aws", "eu-west-1").new_ca_arn("123456789012")
    assert check_ca_arn(arn) == arn
    assert arn.startswith("arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/")
    assert certificate_serial(CA, f"{CA}/certificate/e8cbd2bedb122329f97706bcfec990f8") == int(
        "e8cbd2bedb122329f97706bcfec990f8", 16
    )
    other = CA.replace("12345678-1234", "87654321-1234")
    with pytest.raises(InvalidArn, match="was not issued by"):
        certificate_serial(CA, f"{other}/certificate/01")
    with pytest.raises(InvalidArn):
        certificate_serial(CA, f"{CA}/certificate/xyz")
    with pytest.raises(InvalidArn):
        check_ca_arn("arn:aws:acm-pca:region:account:certificate-authority/x")


def test_each_minted_arn_names_a_new_ca() -> None:
    factory = ArnFactory("aws-cn", "cn-north-1")
    first, second = factory.new_ca_arn("123456789012"), factory.new_ca_arn("123456789012")
    assert first != second
    assert re.fullmatch(
        r"arn:aws-cn:acm-pca:cn-north-1:123456789012:certificate-authority/[0-9a-f-]{36}", first
    )


@pytest.mark.parametrize(
    "suffix", ["/certificate/", "/certificate/" + "f" * 41, "/cert/01", "/certificate/01/x"]
)
def test_a_certificate_arn_needs_a_serial_of_1_to_40_hex_digits(suffix: str) -> None:
    with pytest.raises(InvalidArn, match="is not a valid certificate ARN"):
        certificate_serial(CA, CA + suffix)


def test_a_serial_is_read_whatever_its_case() -> None:
    assert certificate_serial(CA, f"{CA}/certificate/00AbC") == 0xABC


def test_the_account_of_a_ca_arn() -> None:
    assert account_of(CA) == "123456789012"
    with pytest.raises(InvalidArn):
        account_of(CA + "/certificate/01")

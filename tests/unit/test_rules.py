"""Small domain rules: ARNs, algorithm pairing, tags, revocation configuration, pagination."""

from __future__ import annotations

import pytest

from pica.authority.algorithms import check_pairing, generate_private_key
from pica.authority.arns import ArnFactory, certificate_serial, check_ca_arn
from pica.authority.model import (
    CrlConfiguration,
    CrlType,
    KeyAlgorithm,
    OcspConfiguration,
    RevocationConfiguration,
    S3ObjectAcl,
    SigningAlgorithm,
)
from pica.authority.pagination import decode_token, encode_token
from pica.authority.revocation_settings import normalise
from pica.errors import InvalidArgs, InvalidArn, InvalidNextToken

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


@pytest.mark.parametrize(
    ("key", "signing", "ok"),
    [
        (KeyAlgorithm.RSA_2048, SigningAlgorithm.SHA256WITHRSA, True),
        (KeyAlgorithm.RSA_4096, SigningAlgorithm.SHA512WITHRSA_PSS, True),
        (KeyAlgorithm.EC_secp384r1, SigningAlgorithm.SHA384WITHECDSA, True),
        (KeyAlgorithm.ML_DSA_65, SigningAlgorithm.ML_DSA_65, True),
        (KeyAlgorithm.RSA_2048, SigningAlgorithm.SHA256WITHECDSA, False),
        (KeyAlgorithm.EC_prime256v1, SigningAlgorithm.SHA256WITHRSA, False),
        (KeyAlgorithm.ML_DSA_44, SigningAlgorithm.ML_DSA_65, False),
        (KeyAlgorithm.SM2, SigningAlgorithm.SM3WITHSM2, False),
    ],
)
def test_signing_algorithm_must_match_the_key_family(
    key: KeyAlgorithm, signing: SigningAlgorithm, ok: bool
) -> None:
    if ok:
        check_pairing(key, signing)
    else:
        with pytest.raises(InvalidArgs):
            check_pairing(key, signing)


def test_sm2_keys_get_the_clean_out_of_region_error() -> None:
    with pytest.raises(InvalidArgs, match="China"):
        generate_private_key(KeyAlgorithm.SM2)


def test_revocation_defaults_and_rules() -> None:
    enabled = normalise(
        RevocationConfiguration(crl=CrlConfiguration(enabled=True, s3_bucket_name="my-bucket"))
    )
    assert enabled.crl.expiration_in_days == 7
    assert enabled.crl.s3_object_acl is S3ObjectAcl.PUBLIC_READ
    assert enabled.crl.crl_type is CrlType.COMPLETE
    assert enabled.crl.omit_extension is False
    for bad in [
        RevocationConfiguration(crl=CrlConfiguration(enabled=False, expiration_in_days=7)),
        RevocationConfiguration(crl=CrlConfiguration(enabled=True)),
        RevocationConfiguration(
            crl=CrlConfiguration(enabled=True, s3_bucket_name="b-1", custom_cname="http://x")
        ),
        RevocationConfiguration(
            crl=CrlConfiguration(
                enabled=True, s3_bucket_name="b-1", custom_cname="x.example", omit_extension=True
            )
        ),
        RevocationConfiguration(ocsp=OcspConfiguration(enabled=False, ocsp_custom_cname="x")),
        RevocationConfiguration(
            ocsp=OcspConfiguration(enabled=True, ocsp_custom_cname="https://x")
        ),
    ]:
        with pytest.raises(InvalidArgs):
            normalise(bad)


def test_pagination_tokens_round_trip_and_reject_foreign_ones() -> None:
    assert decode_token("ca", encode_token("ca", CA)) == CA
    assert decode_token("ca", None) is None
    for token in ["garbage!!", encode_token("tags", "1"), "eyJrIjoxfQ=="]:
        with pytest.raises(InvalidNextToken):
            decode_token("ca", token)

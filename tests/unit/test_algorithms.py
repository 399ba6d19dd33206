"""algorithms: which signing algorithm goes with which key, and keys of each algorithm."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, padding, rsa

from pica.authority.algorithms import (
    KeyFamily,
    check_pairing,
    generate_private_key,
    key_family,
    signature_scheme,
)
from pica.authority.model import KeyAlgorithm, SigningAlgorithm
from pica.errors import InvalidArgs


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


@pytest.mark.parametrize(
    ("algorithm", "kind", "size"),
    [
        (KeyAlgorithm.RSA_2048, rsa.RSAPrivateKey, 2048),
        (KeyAlgorithm.EC_secp384r1, ec.EllipticCurvePrivateKey, 384),
        (KeyAlgorithm.ML_DSA_44, mldsa.MLDSA44PrivateKey, None),
    ],
)
def test_a_generated_key_is_of_its_algorithm(
    algorithm: KeyAlgorithm, kind: type, size: int | None
) -> None:
    key = generate_private_key(algorithm)
    assert isinstance(key, kind)
    if size is not None:
        assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
        assert key.key_size == size


def test_every_key_algorithm_has_a_family_and_every_signing_algorithm_a_scheme() -> None:
    assert {key_family(algorithm) for algorithm in KeyAlgorithm} == set(KeyFamily)
    for algorithm in SigningAlgorithm:
        assert signature_scheme(algorithm).family in set(KeyFamily)


def test_rsa_pss_gets_pss_padding_rsa_pkcs1_and_other_families_none() -> None:
    pss = signature_scheme(SigningAlgorithm.SHA384WITHRSA_PSS).rsa_padding()
    assert isinstance(pss, padding.PSS)
    assert isinstance(
        signature_scheme(SigningAlgorithm.SHA256WITHRSA).rsa_padding(), padding.PKCS1v15
    )
    assert signature_scheme(SigningAlgorithm.SHA256WITHECDSA).rsa_padding() is None
    assert signature_scheme(SigningAlgorithm.ML_DSA_65).hash_algorithm is None

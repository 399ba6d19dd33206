"""Key algorithms and signing algorithms: generation, compatibility, and how to sign with each.

AWS ties a CA's SigningAlgorithm to the family of its KeyAlgorithm (RSA, ECDSA, ML-DSA, SM2);
this module is the one place that knows those pairings and turns them into cryptography calls.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
)

from pica.authority.model import KeyAlgorithm, SigningAlgorithm
from pica.errors import InvalidArgs


class KeyFamily(enum.Enum):
    RSA = "RSA"
    ECDSA = "ECDSA"
    ML_DSA_44 = "ML_DSA_44"
    ML_DSA_65 = "ML_DSA_65"
    ML_DSA_87 = "ML_DSA_87"
    SM2 = "SM2"


_KEY_FAMILY: dict[KeyAlgorithm, KeyFamily] = {
    KeyAlgorithm.RSA_2048: KeyFamily.RSA,
    KeyAlgorithm.RSA_3072: KeyFamily.RSA,
    KeyAlgorithm.RSA_4096: KeyFamily.RSA,
    KeyAlgorithm.EC_prime256v1: KeyFamily.ECDSA,
    KeyAlgorithm.EC_secp384r1: KeyFamily.ECDSA,
    KeyAlgorithm.EC_secp521r1: KeyFamily.ECDSA,
    KeyAlgorithm.ML_DSA_44: KeyFamily.ML_DSA_44,
    KeyAlgorithm.ML_DSA_65: KeyFamily.ML_DSA_65,
    KeyAlgorithm.ML_DSA_87: KeyFamily.ML_DSA_87,
    KeyAlgorithm.SM2: KeyFamily.SM2,
}

_RSA_BITS = {KeyAlgorithm.RSA_2048: 2048, KeyAlgorithm.RSA_3072: 3072, KeyAlgorithm.RSA_4096: 4096}
_EC_CURVES: dict[KeyAlgorithm, type[ec.EllipticCurve]] = {
    KeyAlgorithm.EC_prime256v1: ec.SECP256R1,
    KeyAlgorithm.EC_secp384r1: ec.SECP384R1,
    KeyAlgorithm.EC_secp521r1: ec.SECP521R1,
}


@dataclass(frozen=True)
class SignatureScheme:
    """What `builder.sign()` needs: the family it applies to, the hash, and the RSA padding."""

    family: KeyFamily
    hash_algorithm: hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None
    pss: bool = False

    def rsa_padding(self) -> padding.PSS | padding.PKCS1v15 | None:
        if self.family is not KeyFamily.RSA:
            return None
        if self.pss:
            assert self.hash_algorithm is not None
            return padding.PSS(
                mgf=padding.MGF1(self.hash_algorithm), salt_length=self.hash_algorithm.digest_size
            )
        return padding.PKCS1v15()


_SCHEMES: dict[SigningAlgorithm, SignatureScheme] = {
    SigningAlgorithm.SHA256WITHRSA: SignatureScheme(KeyFamily.RSA, hashes.SHA256()),
    SigningAlgorithm.SHA384WITHRSA: SignatureScheme(KeyFamily.RSA, hashes.SHA384()),
    SigningAlgorithm.SHA512WITHRSA: SignatureScheme(KeyFamily.RSA, hashes.SHA512()),
    SigningAlgorithm.SHA256WITHRSA_PSS: SignatureScheme(KeyFamily.RSA, hashes.SHA256(), pss=True),
    SigningAlgorithm.SHA384WITHRSA_PSS: SignatureScheme(KeyFamily.RSA, hashes.SHA384(), pss=True),
    SigningAlgorithm.SHA512WITHRSA_PSS: SignatureScheme(KeyFamily.RSA, hashes.SHA512(), pss=True),
    SigningAlgorithm.SHA256WITHECDSA: SignatureScheme(KeyFamily.ECDSA, hashes.SHA256()),
    SigningAlgorithm.SHA384WITHECDSA: SignatureScheme(KeyFamily.ECDSA, hashes.SHA384()),
    SigningAlgorithm.SHA512WITHECDSA: SignatureScheme(KeyFamily.ECDSA, hashes.SHA512()),
    SigningAlgorithm.ML_DSA_44: SignatureScheme(KeyFamily.ML_DSA_44, None),
    SigningAlgorithm.ML_DSA_65: SignatureScheme(KeyFamily.ML_DSA_65, None),
    SigningAlgorithm.ML_DSA_87: SignatureScheme(KeyFamily.ML_DSA_87, None),
    SigningAlgorithm.SM3WITHSM2: SignatureScheme(KeyFamily.SM2, None),
}

SM2_UNAVAILABLE = (
    "The SM2 key algorithm and SM3WITHSM2 signing algorithm are only available in the "
    "AWS China Regions; this pica deployment does not support them."
)


def key_family(key_algorithm: KeyAlgorithm) -> KeyFamily:
    return _KEY_FAMILY[key_algorithm]


def signature_scheme(signing_algorithm: SigningAlgorithm) -> SignatureScheme:
    return _SCHEMES[signing_algorithm]


def check_pairing(key_algorithm: KeyAlgorithm, signing_algorithm: SigningAlgorithm) -> None:
    """Refuse a signing algorithm whose family does not match the key (AWS InvalidArgs)."""
    if KeyFamily.SM2 in (key_family(key_algorithm), signature_scheme(signing_algorithm).family):
        raise InvalidArgs(SM2_UNAVAILABLE)
    if key_family(key_algorithm) is not signature_scheme(signing_algorithm).family:
        raise InvalidArgs(
            f"The signing algorithm {signing_algorithm} is not compatible with the key "
            f"algorithm {key_algorithm} of the certificate authority."
        )


def generate_private_key(key_algorithm: KeyAlgorithm) -> CertificateIssuerPrivateKeyTypes:
    """A fresh CA key. Raises InvalidArgs for algorithms this deployment cannot host (SM2)."""
    if key_algorithm in _RSA_BITS:
        return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS[key_algorithm])
    if key_algorithm in _EC_CURVES:
        return ec.generate_private_key(_EC_CURVES[key_algorithm]())
    if key_algorithm is KeyAlgorithm.ML_DSA_44:
        return mldsa.MLDSA44PrivateKey.generate()
    if key_algorithm is KeyAlgorithm.ML_DSA_65:
        return mldsa.MLDSA65PrivateKey.generate()
    if key_algorithm is KeyAlgorithm.ML_DSA_87:
        return mldsa.MLDSA87PrivateKey.generate()
    raise InvalidArgs(SM2_UNAVAILABLE)

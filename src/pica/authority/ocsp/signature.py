"""The response signature: who signs (`ResponseSigner`), the AlgorithmIdentifier it declares,
and `sign_response`, the one place a response is signed.

The identifiers are built once with asn1crypto, as cryptography writes them in certificates
(RSA with NULL parameters, RSASSA-PSS with the hash's own length as salt, ML-DSA without
parameters); the signature itself is made by cryptography.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from pica.authority.algorithms import signature_scheme
from pica.authority.model import SigningAlgorithm
from pica.authority.signing import sign_data


def _pss_identifier(hash_name: str, salt_length: int) -> Any:
    # The hash identifiers carry NULL parameters, as cryptography writes them in certificates.
    hash_algorithm = {"algorithm": hash_name, "parameters": asn1_core.Null()}
    return asn1_algos.SignedDigestAlgorithm(
        {
            "algorithm": "rsassa_pss",
            "parameters": {
                "hash_algorithm": hash_algorithm,
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": hash_algorithm},
                "salt_length": salt_length,
            },
        }
    )


def _identifier(name: str) -> Any:
    """A named (or, for algorithms asn1crypto predates, dotted) identifier; RSA gets NULL."""
    return asn1_algos.SignedDigestAlgorithm({"algorithm": name})


_SIGNATURE_ALGORITHMS: dict[SigningAlgorithm, bytes] = {
    SigningAlgorithm.SHA256WITHRSA: _identifier("sha256_rsa").dump(),
    SigningAlgorithm.SHA384WITHRSA: _identifier("sha384_rsa").dump(),
    SigningAlgorithm.SHA512WITHRSA: _identifier("sha512_rsa").dump(),
    SigningAlgorithm.SHA256WITHRSA_PSS: _pss_identifier("sha256", 32).dump(),
    SigningAlgorithm.SHA384WITHRSA_PSS: _pss_identifier("sha384", 48).dump(),
    SigningAlgorithm.SHA512WITHRSA_PSS: _pss_identifier("sha512", 64).dump(),
    SigningAlgorithm.SHA256WITHECDSA: _identifier("sha256_ecdsa").dump(),
    SigningAlgorithm.SHA384WITHECDSA: _identifier("sha384_ecdsa").dump(),
    SigningAlgorithm.SHA512WITHECDSA: _identifier("sha512_ecdsa").dump(),
    # id-ml-dsa-44/65/87 (RFC 9881): parameters absent.
    SigningAlgorithm.ML_DSA_44: _identifier("2.16.840.1.101.3.4.3.17").dump(),
    SigningAlgorithm.ML_DSA_65: _identifier("2.16.840.1.101.3.4.3.18").dump(),
    SigningAlgorithm.ML_DSA_87: _identifier("2.16.840.1.101.3.4.3.19").dump(),
}


def signature_algorithm_identifier(signing_algorithm: SigningAlgorithm) -> bytes:
    """The DER AlgorithmIdentifier a response signed with `signing_algorithm` declares."""
    return _SIGNATURE_ALGORITHMS[signing_algorithm]


def sign_response(
    private_key: CertificateIssuerPrivateKeyTypes, signing_algorithm: SigningAlgorithm, data: bytes
) -> bytes:
    """Sign `data` the way the AWS SigningAlgorithm says (`pica.authority.signing`)."""
    return sign_data(private_key, signature_scheme(signing_algorithm), data)


@dataclass(frozen=True)
class ResponseSigner:
    """Who signs a CA's responses: the CA itself, or a delegated responder it certified."""

    private_key: CertificateIssuerPrivateKeyTypes
    key_sha1: bytes
    certificate_der: bytes | None = None
    not_after: datetime | None = None
    renew_at: datetime | None = None

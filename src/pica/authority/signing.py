"""The one place a private key signs: certificates, CSRs, CRLs and OCSP responses.

Every signature pica makes, with a CA key, a delegated OCSP key or the lint gate's throwaway key,
goes through these four functions with the `SignatureScheme` of the AWS SigningAlgorithm (family,
hash, RSA padding). A key store that signs without releasing its key (a PKCS#11 token behind
issue 9's signing port) then has one call per kind of object to implement.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from pica.authority.algorithms import KeyFamily, SignatureScheme

_ML_DSA = (KeyFamily.ML_DSA_44, KeyFamily.ML_DSA_65, KeyFamily.ML_DSA_87)


def sign_certificate(
    builder: x509.CertificateBuilder,
    key: CertificateIssuerPrivateKeyTypes,
    scheme: SignatureScheme,
) -> x509.Certificate:
    return builder.sign(key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())


def sign_csr(
    builder: x509.CertificateSigningRequestBuilder,
    key: CertificateIssuerPrivateKeyTypes,
    scheme: SignatureScheme,
) -> x509.CertificateSigningRequest:
    return builder.sign(key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())


def sign_crl(
    builder: x509.CertificateRevocationListBuilder,
    key: CertificateIssuerPrivateKeyTypes,
    scheme: SignatureScheme,
) -> x509.CertificateRevocationList:
    return builder.sign(key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())


def sign_data(key: CertificateIssuerPrivateKeyTypes, scheme: SignatureScheme, data: bytes) -> bytes:
    """Sign DER built elsewhere (an OCSP response's TBS) as the scheme says; ML-DSA signs the
    message itself."""
    if isinstance(key, rsa.RSAPrivateKey) and scheme.family is KeyFamily.RSA:
        rsa_padding = scheme.rsa_padding()
        assert rsa_padding is not None and scheme.hash_algorithm is not None
        return key.sign(data, rsa_padding, scheme.hash_algorithm)
    if isinstance(key, ec.EllipticCurvePrivateKey) and scheme.family is KeyFamily.ECDSA:
        assert scheme.hash_algorithm is not None
        return key.sign(data, ec.ECDSA(scheme.hash_algorithm))
    ml_dsa_key = mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey
    if isinstance(key, ml_dsa_key) and scheme.family in _ML_DSA:
        return key.sign(data)
    raise ValueError(f"cannot sign with {scheme.family} using a {type(key).__name__}")

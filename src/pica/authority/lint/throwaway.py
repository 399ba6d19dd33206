"""The throwaway signature: how the lint gate serialises a builder the CA key has not signed.

A `x509.CertificateBuilder` cannot be serialised without signing it, so the gate signs the very
same builder with a throwaway key, as Let's Encrypt's Boulder does before zlint. The issuer name,
AKI and every other TBS field stay the real ones; only the signature is worthless.
`throwaway_sign` is the one place the gate signs anything.
"""

from __future__ import annotations

import threading

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from pica.authority.algorithms import (
    KeyFamily,
    SignatureScheme,
    generate_private_key,
    signature_scheme,
)
from pica.authority.model import KeyAlgorithm, SigningAlgorithm
from pica.authority.signing import sign_certificate

_THROWAWAY_LOCK = threading.Lock()
_THROWAWAY_KEYS: dict[KeyFamily, CertificateIssuerPrivateKeyTypes] = {}


# The key algorithm whose key stands in for each family's throwaway signer.
_THROWAWAY_ALGORITHM = {
    KeyFamily.RSA: KeyAlgorithm.RSA_2048,
    KeyFamily.ECDSA: KeyAlgorithm.EC_prime256v1,
    KeyFamily.ML_DSA_44: KeyAlgorithm.ML_DSA_44,
    KeyFamily.ML_DSA_65: KeyAlgorithm.ML_DSA_65,
    KeyFamily.ML_DSA_87: KeyAlgorithm.ML_DSA_87,
    KeyFamily.SM2: KeyAlgorithm.SM2,
}


def _generate_throwaway(family: KeyFamily) -> CertificateIssuerPrivateKeyTypes:
    return generate_private_key(_THROWAWAY_ALGORITHM[family])


def throwaway_key(family: KeyFamily) -> CertificateIssuerPrivateKeyTypes:
    """One key per family per process, made on first use: it signs nothing anyone will verify.

    The smallest key of the family is enough (RSA-2048, P-256): the signatureAlgorithm field
    depends on the family, hash and padding, never on the key size or curve.
    """
    key = _THROWAWAY_KEYS.get(family)
    if key is None:
        with _THROWAWAY_LOCK:
            key = _THROWAWAY_KEYS.get(family)
            if key is None:
                key = _THROWAWAY_KEYS[family] = _generate_throwaway(family)
    return key


# The structural rules never read the signature algorithm, so when pkilint does not run the TBS
# is serialised with the cheapest signature (P-256: ~30 µs, against ~230 µs for RSA-2048 and
# ~500-800 µs for ML-DSA), whatever the CA's own algorithm.
FAST_SCHEME = signature_scheme(SigningAlgorithm.SHA256WITHECDSA)


def throwaway_sign(builder: x509.CertificateBuilder, scheme: SignatureScheme) -> x509.Certificate:
    """The builder signed with the throwaway key of the scheme's family, hash and padding."""
    return sign_certificate(builder, throwaway_key(scheme.family), scheme)

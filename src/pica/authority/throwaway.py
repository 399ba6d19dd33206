"""Throwaway keys: how pica serialises a builder that no key it holds may sign.

cryptography's builders serialise only by signing, with a key object in hand. A CA key is never
in hand (it stays in the key store), so every builder is first signed with a throwaway key of
the scheme's family, hash and padding, as Let's Encrypt's Boulder does before zlint: every TBS
field, signatureAlgorithm included, is the real one; only the signature is worthless.
`pica.authority.signing` then has the real key sign those TBS bytes, and the lint gate reads
the same draft.
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
                key = _THROWAWAY_KEYS[family] = generate_private_key(_THROWAWAY_ALGORITHM[family])
    return key


# The structural rules never read the signature algorithm, so when pkilint does not run the TBS
# is serialised with the cheapest signature (P-256: ~30 µs, against ~230 µs for RSA-2048 and
# ~500-800 µs for ML-DSA), whatever the CA's own algorithm; `pica.authority.signing` restamps
# the real algorithm into the TBS before the CA key signs it.
FAST_SCHEME = signature_scheme(SigningAlgorithm.SHA256WITHECDSA)


def draft(
    builder: x509.CertificateBuilder
    | x509.CertificateSigningRequestBuilder
    | x509.CertificateRevocationListBuilder,
    scheme: SignatureScheme,
) -> x509.Certificate | x509.CertificateSigningRequest | x509.CertificateRevocationList:
    """The builder signed with the throwaway key of the scheme's family, hash and padding."""
    key = throwaway_key(scheme.family)
    return builder.sign(key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())


def throwaway_sign(builder: x509.CertificateBuilder, scheme: SignatureScheme) -> x509.Certificate:
    """A certificate builder's draft (what the lint gate checks)."""
    certificate = draft(builder, scheme)
    assert isinstance(certificate, x509.Certificate)
    return certificate

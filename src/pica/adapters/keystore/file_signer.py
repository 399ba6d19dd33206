"""`FileSigningKeyStore`: the signing port over the encrypted-file store, and its key cache.

A CA key is generated here, sealed as PKCS#8 under the KEK (`kek_file.FileKeyStore.seal`,
bound to the CA ARN) and the sealed form is the key reference the CA row keeps. Decrypting and
parsing a key costs far more than signing with it, so each process opens a key once and keeps
it in a bounded LRU, here in the adapter: the domain holds only references and `Signer`s. A CA
key never changes (a re-sealed one is the same key), so there is nothing to invalidate.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)

from pica.authority.algorithms import KeyFamily, SignatureScheme, generate_private_key
from pica.authority.model import KeyAlgorithm, KeyReference
from pica.authority.ports import GeneratedKey, KeyStore

_ML_DSA_FAMILIES = (KeyFamily.ML_DSA_44, KeyFamily.ML_DSA_65, KeyFamily.ML_DSA_87)
_ML_DSA_KEYS = mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey


class SoftwareSigner:
    """A `Signer` over a key in this process's memory (cryptography, OpenSSL underneath)."""

    __slots__ = ("_key",)

    def __init__(self, key: CertificateIssuerPrivateKeyTypes) -> None:
        self._key = key

    def sign(self, data: bytes, scheme: SignatureScheme) -> bytes:
        key = self._key
        if isinstance(key, ec.EllipticCurvePrivateKey) and scheme.family is KeyFamily.ECDSA:
            assert scheme.hash_algorithm is not None
            return key.sign(data, ec.ECDSA(scheme.hash_algorithm))
        if isinstance(key, rsa.RSAPrivateKey) and scheme.family is KeyFamily.RSA:
            rsa_padding = scheme.rsa_padding()
            assert rsa_padding is not None and scheme.hash_algorithm is not None
            return key.sign(data, rsa_padding, scheme.hash_algorithm)
        if isinstance(key, _ML_DSA_KEYS) and scheme.family in _ML_DSA_FAMILIES:
            return key.sign(data)  # ML-DSA signs the message itself
        raise ValueError(f"cannot sign with {scheme.family} using a {type(key).__name__}")

    def key_in_memory(self) -> CertificateIssuerPrivateKeyTypes:
        return self._key


class FileSigningKeyStore:
    """The `SigningKeyStore` port: CA keys sealed under the KEK file, opened once per process."""

    def __init__(self, secrets: KeyStore, capacity: int = 1024) -> None:
        self._secrets = secrets
        self._capacity = capacity
        self._signers: OrderedDict[str, SoftwareSigner] = OrderedDict()
        self._lock = threading.Lock()

    def generate(self, key_algorithm: KeyAlgorithm, owner: str) -> GeneratedKey:
        key = generate_private_key(key_algorithm)
        pkcs8 = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        reference = KeyReference(owner, self._secrets.seal(pkcs8, context=owner))
        self._remember(owner, SoftwareSigner(key))
        return GeneratedKey(key.public_key(), reference)

    def signer(self, reference: KeyReference) -> SoftwareSigner:
        owner = reference.owner
        with self._lock:
            cached = self._signers.get(owner)
            if cached is not None:
                self._signers.move_to_end(owner)
                return cached
        der = self._secrets.open(reference.handle, context=owner)
        # Only keys pica generated (RSA, EC, ML-DSA) are ever sealed, all of them issuer keys.
        key = cast(CertificateIssuerPrivateKeyTypes, serialization.load_der_private_key(der, None))
        signer = SoftwareSigner(key)
        self._remember(owner, signer)
        return signer

    def ephemeral(
        self, key_algorithm: KeyAlgorithm
    ) -> tuple[CertificatePublicKeyTypes, SoftwareSigner]:
        key = generate_private_key(key_algorithm)
        return key.public_key(), SoftwareSigner(key)

    def discard(self, reference: KeyReference) -> None:
        # The sealed key goes with the CA row; only the opened one is held here.
        with self._lock:
            self._signers.pop(reference.owner, None)

    def _remember(self, owner: str, signer: SoftwareSigner) -> None:
        with self._lock:
            self._signers[owner] = signer
            self._signers.move_to_end(owner)
            while len(self._signers) > self._capacity:
                self._signers.popitem(last=False)

"""The `SigningKeyStore` port's contract, on the encrypted-file store.

A generated key signs what its public key verifies; the store opens a key once per process and
keeps it (a second store, another process, opens it again once); a reference bound to one CA
does not open under another; discarding forgets; ephemeral keys are fresh each time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pica.adapters.keystore.file_signer import FileSigningKeyStore
from pica.adapters.keystore.kek_file import FileKeyStore, KeyStoreError
from pica.authority.algorithms import KeyFamily, SignatureScheme, key_family, signature_scheme
from pica.authority.model import KeyAlgorithm, KeyReference, SealedKey, SigningAlgorithm

OWNER = (
    "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/"
    "11111111-2222-3333-4444-555555555555"
)
OTHER = OWNER[:-1] + "6"
DATA = b"to be signed"
_SCHEME_FOR = {
    KeyFamily.RSA: SigningAlgorithm.SHA256WITHRSA,
    KeyFamily.ECDSA: SigningAlgorithm.SHA384WITHECDSA,
    KeyFamily.ML_DSA_44: SigningAlgorithm.ML_DSA_44,
    KeyFamily.ML_DSA_65: SigningAlgorithm.ML_DSA_65,
    KeyFamily.ML_DSA_87: SigningAlgorithm.ML_DSA_87,
}


class CountingKeyStore:
    """The KEK-file store, counting how often a sealed key is opened."""

    def __init__(self, inner: FileKeyStore) -> None:
        self.inner = inner
        self.opened = 0

    def seal(self, plaintext: bytes, context: str) -> SealedKey:
        return self.inner.seal(plaintext, context)

    def open(self, sealed: SealedKey, context: str) -> bytes:
        self.opened += 1
        return self.inner.open(sealed, context)


@pytest.fixture
def secrets(tmp_path: Path) -> CountingKeyStore:
    FileKeyStore.create(tmp_path / "kek")
    return CountingKeyStore(FileKeyStore.load(tmp_path / "kek"))


def verify(public: Any, scheme: SignatureScheme, signature: bytes, data: bytes) -> None:
    if scheme.family is KeyFamily.RSA:
        public.verify(signature, data, scheme.rsa_padding(), scheme.hash_algorithm)
    elif scheme.family is KeyFamily.ECDSA:
        public.verify(signature, data, ec.ECDSA(scheme.hash_algorithm))
    else:
        public.verify(signature, data)


@pytest.mark.parametrize(
    "algorithm", [a for a in KeyAlgorithm if a not in (KeyAlgorithm.SM2, KeyAlgorithm.RSA_4096)]
)
def test_a_generated_key_signs_what_its_public_key_verifies(
    secrets: CountingKeyStore, algorithm: KeyAlgorithm
) -> None:
    keys = FileSigningKeyStore(secrets)
    generated = keys.generate(algorithm, owner=OWNER)
    assert generated.reference.owner == OWNER
    scheme = signature_scheme(_SCHEME_FOR[key_family(algorithm)])
    verify(generated.public_key, scheme, keys.signer(generated.reference).sign(DATA, scheme), DATA)
    # Another process (a fresh store over the same KEK) opens the same key from the reference.
    other = FileSigningKeyStore(secrets)
    verify(generated.public_key, scheme, other.signer(generated.reference).sign(DATA, scheme), DATA)


def test_the_reference_is_the_key_sealed_for_its_ca(secrets: CountingKeyStore) -> None:
    generated = FileSigningKeyStore(secrets).generate(KeyAlgorithm.EC_prime256v1, owner=OWNER)
    handle = generated.reference.handle
    pkcs8 = secrets.inner.open(handle, OWNER)
    public = serialization.load_der_private_key(pkcs8, None).public_key()
    assert public == generated.public_key
    assert pkcs8 not in handle.ciphertext
    with pytest.raises(KeyStoreError):
        FileSigningKeyStore(secrets).signer(KeyReference(OTHER, handle))


def test_a_key_is_opened_once_per_process_and_again_after_discard(
    secrets: CountingKeyStore,
) -> None:
    generated = FileSigningKeyStore(secrets).generate(KeyAlgorithm.EC_prime256v1, owner=OWNER)
    assert secrets.opened == 0  # the generating store keeps what it made
    keys = FileSigningKeyStore(secrets)
    scheme = signature_scheme(SigningAlgorithm.SHA256WITHECDSA)
    for _ in range(5):
        keys.signer(generated.reference).sign(DATA, scheme)
    assert secrets.opened == 1
    keys.discard(generated.reference)
    keys.signer(generated.reference).sign(DATA, scheme)
    assert secrets.opened == 2


def test_the_cache_is_bounded(secrets: CountingKeyStore) -> None:
    maker = FileSigningKeyStore(secrets)
    references = [
        maker.generate(KeyAlgorithm.EC_prime256v1, owner=f"{OWNER}{i}").reference for i in range(3)
    ]
    keys = FileSigningKeyStore(secrets, capacity=2)
    for reference in references:
        keys.signer(reference)
    keys.signer(references[0])  # evicted by the third: opened again
    assert secrets.opened == 4


def test_ephemeral_keys_sign_and_are_fresh_each_time(secrets: CountingKeyStore) -> None:
    keys = FileSigningKeyStore(secrets)
    scheme = signature_scheme(SigningAlgorithm.SHA256WITHECDSA)
    first, signer = keys.ephemeral(KeyAlgorithm.EC_prime256v1)
    second, _ = keys.ephemeral(KeyAlgorithm.EC_prime256v1)
    assert first != second
    verify(first, scheme, signer.sign(DATA, scheme), DATA)
    assert secrets.opened == 0

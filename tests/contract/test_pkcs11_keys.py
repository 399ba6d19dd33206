"""The `SigningKeyStore` port's contract on the PKCS#11 adapter, against a SoftHSM2 token.

Keys are generated in the token, private, sensitive and never extractable, tied to the CA by
CKA_ID and CKA_LABEL; every scheme the token supports signs what the public key verifies; a key
algorithm the token cannot hold (ML-DSA on SoftHSM2) is InvalidArgs; another process signs from
the stored reference; concurrent signing from many threads works (SoftHSM2 is serialized);
discarding destroys the objects; KEK-sealed keys from before the switch still sign.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pkcs11 import Attribute, ObjectClass

from pica.adapters.keystore.file_signer import FileSigningKeyStore
from pica.adapters.keystore.kek_file import FileKeyStore
from pica.adapters.keystore.pkcs11_token import (
    Pkcs11SigningKeyStore,
    TokenConfig,
    TokenError,
    TokenUnavailable,
    key_id_for,
)
from pica.authority.algorithms import KeyFamily, SignatureScheme, signature_scheme
from pica.authority.model import KeyAlgorithm, SigningAlgorithm
from pica.errors import InvalidArgs
from tests.support.softhsm import SoftHsmToken

DATA = b"to be signed in the token"
ARN = "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/"


def new_owner() -> str:
    return ARN + str(uuid.uuid4())


@pytest.fixture
def file_store(tmp_path: Path) -> FileSigningKeyStore:
    FileKeyStore.create(tmp_path / "kek")
    return FileSigningKeyStore(FileKeyStore.load(tmp_path / "kek"))


@pytest.fixture
def config(softhsm: SoftHsmToken) -> TokenConfig:
    return TokenConfig(softhsm.module, softhsm.label, softhsm.pin)


@pytest.fixture
def keys(config: TokenConfig, file_store: FileSigningKeyStore) -> Iterator[Pkcs11SigningKeyStore]:
    store = Pkcs11SigningKeyStore(config, file_store)
    yield store
    store.close()


def verify(public: Any, scheme: SignatureScheme, signature: bytes, data: bytes) -> None:
    if scheme.family is KeyFamily.RSA:
        public.verify(signature, data, scheme.rsa_padding(), scheme.hash_algorithm)
    else:
        assert scheme.hash_algorithm is not None
        public.verify(signature, data, ec.ECDSA(scheme.hash_algorithm))


RSA_SCHEMES = [a for a in SigningAlgorithm if a.name.endswith(("WITHRSA", "WITHRSA_PSS"))]
EC_SCHEMES = [a for a in SigningAlgorithm if a.name.endswith("WITHECDSA")]


@pytest.mark.parametrize(
    ("key_algorithm", "signing_algorithms"),
    [
        (KeyAlgorithm.RSA_2048, RSA_SCHEMES),
        (KeyAlgorithm.EC_prime256v1, EC_SCHEMES),
        (KeyAlgorithm.EC_secp384r1, EC_SCHEMES),
        (KeyAlgorithm.EC_secp521r1, EC_SCHEMES),
    ],
)
def test_a_token_key_signs_every_scheme_of_its_family(
    keys: Pkcs11SigningKeyStore,
    key_algorithm: KeyAlgorithm,
    signing_algorithms: list[SigningAlgorithm],
) -> None:
    owner = new_owner()
    generated = keys.generate(key_algorithm, owner=owner)
    assert generated.reference.handle.key_ref == keys.key_ref
    assert generated.reference.handle.ciphertext == key_id_for(owner)
    signer = keys.signer(generated.reference)
    for algorithm in signing_algorithms:
        scheme = signature_scheme(algorithm)
        verify(generated.public_key, scheme, signer.sign(DATA, scheme), DATA)


def test_the_private_key_is_sensitive_never_extractable_and_tied_to_its_ca(
    keys: Pkcs11SigningKeyStore, config: TokenConfig
) -> None:
    owner = new_owner()
    keys.generate(KeyAlgorithm.EC_prime256v1, owner=owner)
    # The store's login is the application's: this session sees its private objects.
    session = pkcs11.lib(str(config.module)).get_token(token_label=config.token_label).open()
    try:
        key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=key_id_for(owner))
        assert key[Attribute.LABEL] == owner
        assert key[Attribute.TOKEN] and key[Attribute.PRIVATE]
        assert key[Attribute.SENSITIVE] and key[Attribute.ALWAYS_SENSITIVE]
        assert not key[Attribute.EXTRACTABLE] and key[Attribute.NEVER_EXTRACTABLE]
        with pytest.raises(pkcs11.AttributeSensitive):
            key[Attribute.VALUE]
    finally:
        session.close()


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.ML_DSA_65, KeyAlgorithm.ML_DSA_44])
def test_a_key_algorithm_the_token_cannot_hold_is_invalid_args(
    keys: Pkcs11SigningKeyStore, algorithm: KeyAlgorithm
) -> None:
    with pytest.raises(InvalidArgs, match=f"{algorithm}.*cannot be held in the PKCS#11 token"):
        keys.generate(algorithm, owner=new_owner())


def test_another_process_signs_from_the_stored_reference(
    keys: Pkcs11SigningKeyStore, config: TokenConfig, file_store: FileSigningKeyStore
) -> None:
    generated = keys.generate(KeyAlgorithm.RSA_2048, owner=new_owner())
    keys.close()
    other = Pkcs11SigningKeyStore(config, file_store)
    try:
        scheme = signature_scheme(SigningAlgorithm.SHA384WITHRSA_PSS)
        verify(
            generated.public_key, scheme, other.signer(generated.reference).sign(DATA, scheme), DATA
        )
    finally:
        other.close()


def test_concurrent_signing_from_many_threads(keys: Pkcs11SigningKeyStore) -> None:
    generated = keys.generate(KeyAlgorithm.EC_prime256v1, owner=new_owner())
    signer = keys.signer(generated.reference)
    scheme = signature_scheme(SigningAlgorithm.SHA256WITHECDSA)
    signatures: list[bytes] = []
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(25):
                signatures.append(signer.sign(DATA, scheme))
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(signatures) == 200
    for signature in signatures[:10]:
        verify(generated.public_key, scheme, signature, DATA)


def test_discarding_destroys_the_key_in_the_token(keys: Pkcs11SigningKeyStore) -> None:
    generated = keys.generate(KeyAlgorithm.EC_prime256v1, owner=new_owner())
    keys.discard(generated.reference)
    with pytest.raises(TokenError, match="no private key"):
        keys.signer(generated.reference).sign(
            DATA, signature_scheme(SigningAlgorithm.SHA256WITHECDSA)
        )


def test_keys_sealed_under_the_kek_before_the_switch_still_sign(
    keys: Pkcs11SigningKeyStore, file_store: FileSigningKeyStore
) -> None:
    generated = file_store.generate(KeyAlgorithm.EC_secp384r1, owner=new_owner())
    scheme = signature_scheme(SigningAlgorithm.SHA384WITHECDSA)
    verify(generated.public_key, scheme, keys.signer(generated.reference).sign(DATA, scheme), DATA)


def test_a_wrong_pin_an_absent_token_and_a_missing_module_are_one_line(
    config: TokenConfig, file_store: FileSigningKeyStore, tmp_path: Path
) -> None:
    for broken, expected in (
        (TokenConfig(config.module, config.token_label, "0000"), "PIN .* is wrong"),
        (TokenConfig(config.module, "no-such-token", config.pin), "no PKCS#11 token labelled"),
        (TokenConfig(tmp_path / "missing.so", config.token_label, config.pin), "cannot load"),
    ):
        with pytest.raises(TokenUnavailable, match=expected) as raised:
            Pkcs11SigningKeyStore(broken, file_store)
        assert "\n" not in str(raised.value)


def test_a_forked_child_opens_its_own_sessions_and_signs(keys: Pkcs11SigningKeyStore) -> None:
    """PKCS#11 sessions do not survive fork(): the child initialises the library again."""
    import os

    generated = keys.generate(KeyAlgorithm.EC_prime256v1, owner=new_owner())
    scheme = signature_scheme(SigningAlgorithm.SHA256WITHECDSA)
    keys.signer(generated.reference).sign(DATA, scheme)  # the parent's sessions are open
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's result comes back through the pipe
        try:
            signature = keys.signer(generated.reference).sign(DATA, scheme)
            os.write(write, signature)
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        signature = pipe.read()
    os.waitpid(child, 0)
    verify(generated.public_key, scheme, signature, DATA)
    verify(generated.public_key, scheme, keys.signer(generated.reference).sign(DATA, scheme), DATA)

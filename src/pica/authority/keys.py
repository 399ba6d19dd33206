"""CA private keys: sealed by the key store at rest, opened once per process and cached.

Decrypting and parsing a key costs far more than signing with it, so each process keeps the
keys it has used in a bounded LRU; a CA key never changes, so there is nothing to invalidate.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from pica.authority.model import SealedKey
from pica.authority.ports import KeyStore


def seal_private_key(
    key_store: KeyStore, private_key: CertificateIssuerPrivateKeyTypes, ca_arn: str
) -> SealedKey:
    pkcs8 = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_store.seal(pkcs8, context=ca_arn)


class PrivateKeyCache:
    def __init__(self, key_store: KeyStore, capacity: int = 1024) -> None:
        self._key_store = key_store
        self._capacity = capacity
        self._keys: OrderedDict[str, CertificateIssuerPrivateKeyTypes] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, ca_arn: str, private_key: CertificateIssuerPrivateKeyTypes) -> None:
        with self._lock:
            self._keys[ca_arn] = private_key
            self._keys.move_to_end(ca_arn)
            while len(self._keys) > self._capacity:
                self._keys.popitem(last=False)

    def get(self, ca_arn: str, sealed: SealedKey) -> CertificateIssuerPrivateKeyTypes:
        with self._lock:
            cached = self._keys.get(ca_arn)
            if cached is not None:
                self._keys.move_to_end(ca_arn)
                return cached
        der = self._key_store.open(sealed, context=ca_arn)
        # Only keys pica generated (RSA, EC, ML-DSA) are ever sealed, all of them issuer keys.
        key = cast(CertificateIssuerPrivateKeyTypes, serialization.load_der_private_key(der, None))
        self.remember(ca_arn, key)
        return key

    def forget(self, ca_arn: str) -> None:
        with self._lock:
            self._keys.pop(ca_arn, None)

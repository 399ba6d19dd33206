"""Accounts and their access keys: who may call the API, and the secrets SigV4 is checked with.

Secrets are sealed by the key store like CA keys. The SigV4 check runs on every request, so
`secret_for` keeps opened secrets for a few seconds: a deleted key stops working within that
time without costing a database read and a decryption per request.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from dataclasses import dataclass

from pica.authority.model import AccessKey, Account
from pica.authority.ports import Clock, KeyStore, Store
from pica.errors import Conflict, NotFound

_KEY_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


def _new_account_id() -> str:
    return str(secrets.randbelow(9 * 10**11) + 10**11)


def _new_access_key_id() -> str:
    return "PICA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


def _new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    account_id: str


class AccountService:
    def __init__(self, store: Store, key_store: KeyStore, clock: Clock, cache_seconds: float = 5.0):
        self._store = store
        self._key_store = key_store
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, tuple[str, str] | None]] = {}
        self._lock = threading.Lock()

    def create_account(self) -> Account:
        for _ in range(5):
            account = Account(account_id=_new_account_id(), created_at=self._clock.now())
            try:
                with self._store.transaction() as tx:
                    tx.insert_account(account)
                return account
            except Conflict:
                continue
        raise RuntimeError("could not allocate a unique account id")

    def list_accounts(self) -> list[Account]:
        with self._store.transaction(read_only=True) as tx:
            return tx.list_accounts()

    def create_access_key(self, account_id: str) -> Credentials:
        with self._store.transaction() as tx:
            if tx.get_account(account_id) is None:
                raise NotFound(f"Account {account_id} does not exist.")
            key_id, secret = _new_access_key_id(), _new_secret()
            sealed = self._key_store.seal(secret.encode(), context=key_id)
            tx.insert_access_key(
                AccessKey(
                    access_key_id=key_id, account_id=account_id, created_at=self._clock.now()
                ),
                sealed,
            )
        return Credentials(key_id, secret, account_id)

    def list_access_keys(self, account_id: str | None = None) -> list[AccessKey]:
        with self._store.transaction(read_only=True) as tx:
            return tx.list_access_keys(account_id)

    def delete_access_key(self, access_key_id: str) -> None:
        with self._store.transaction() as tx:
            if not tx.delete_access_key(access_key_id):
                raise NotFound(f"Access key {access_key_id} does not exist.")
        with self._lock:
            self._cache.pop(access_key_id, None)

    def secret_for(self, access_key_id: str) -> tuple[str, str] | None:
        """(secret, account id) for SigV4 verification, or None for an unknown key."""
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(access_key_id)
            if hit is not None and now - hit[0] < self._cache_seconds:
                return hit[1]
        with self._store.transaction(read_only=True, snapshot=False) as tx:
            found = tx.get_access_key(access_key_id)
        result: tuple[str, str] | None = None
        if found is not None:
            key, sealed = found
            secret = self._key_store.open(sealed, context=access_key_id).decode()
            result = (secret, key.account_id)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[access_key_id] = (now, result)
        return result

"""Accounts and their access keys (the secrets sealed by the key store)."""

from __future__ import annotations

from sqlalchemy import delete, select

from pica.adapters.storage.rows import access_key_from
from pica.adapters.storage.sql_records import SqlRecords
from pica.adapters.storage.tables import (
    access_keys,
    accounts,
)
from pica.authority.model import (
    AccessKey,
    Account,
    SealedKey,
)


class SqlAccountRecords(SqlRecords):
    """Accounts and their access keys (the secrets sealed by the key store)."""

    def insert_account(self, account: Account) -> None:
        values = {"account_id": account.account_id, "created_at": account.created_at}
        self._insert_unique(accounts, values, f"account {account.account_id}")

    def get_account(self, account_id: str) -> Account | None:
        row = self._one(select(accounts).where(accounts.c.account_id == account_id))
        return None if row is None else Account(row.account_id, row.created_at)

    def list_accounts(self) -> list[Account]:
        rows = self._all(select(accounts).order_by(accounts.c.account_id))
        return [Account(row.account_id, row.created_at) for row in rows]

    def insert_access_key(self, key: AccessKey, sealed_secret: SealedKey) -> None:
        values = {
            "access_key_id": key.access_key_id,
            "account_id": key.account_id,
            "created_at": key.created_at,
            "secret_key_ref": sealed_secret.key_ref,
            "secret_ciphertext": sealed_secret.ciphertext,
        }
        self._insert_unique(access_keys, values, f"access key {key.access_key_id}")

    def get_access_key(self, access_key_id: str) -> tuple[AccessKey, SealedKey] | None:
        query = select(access_keys).where(access_keys.c.access_key_id == access_key_id)
        row = self._one(query)
        if row is None:
            return None
        sealed = SealedKey(row.secret_key_ref, bytes(row.secret_ciphertext))
        return access_key_from(row), sealed

    def list_access_keys(self, account_id: str | None = None) -> list[AccessKey]:
        query = select(access_keys).order_by(
            access_keys.c.account_id, access_keys.c.created_at, access_keys.c.access_key_id
        )
        if account_id is not None:
            query = query.where(access_keys.c.account_id == account_id)
        return [access_key_from(row) for row in self._all(query)]

    def delete_access_key(self, access_key_id: str) -> bool:
        self._writable()
        statement = delete(access_keys).where(access_keys.c.access_key_id == access_key_id)
        return self._connection.execute(statement).rowcount > 0

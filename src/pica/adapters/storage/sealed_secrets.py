"""Every sealed secret in the database, by the KEK that sealed it: counted, and re-wrapped.

Three columns pairs hold sealed secrets (CA private keys, access-key secrets, ACM certificate
keys); each row's context (what the ciphertext is bound to) is its primary key, so a secret is
re-wrapped by opening it under its old KEK and sealing it again under the current one with the
same context. Rows whose key lives in a PKCS#11 token (`pkcs11:<label>`) hold no ciphertext and
are never touched.

A re-wrap is a compare-and-swap: the UPDATE matches the key id *and* the ciphertext that were
read, so a row changed meanwhile by a request (a CA re-keyed, an access key deleted) is left as
the request wrote it and picked up by the next pass if it still needs one. Row versions are not
bumped: a request that read the row before the swap still holds a ciphertext that opens (the old
KEK stays in every running process's memory), and no request fails a version check because of
a rotation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, and_, func, select, update

from pica.adapters.keystore import TOKEN_KEY_REF_PREFIX
from pica.adapters.storage.sql_store import SqlStore
from pica.adapters.storage.tables import access_keys, acm_certificates, certificate_authorities
from pica.authority.model import SealedKey


@dataclass(frozen=True)
class SecretKind:
    """One table's sealed-secret columns, and the column that is each secret's context."""

    name: str  # as `pica kek list` shows it
    table: Table
    context: str
    key_ref: str
    ciphertext: str

    def column(self, name: str) -> Column[Any]:
        return self.table.c[name]


KINDS = (
    SecretKind(
        "ca_keys", certificate_authorities, "arn", "private_key_ref", "private_key_ciphertext"
    ),
    SecretKind("access_keys", access_keys, "access_key_id", "secret_key_ref", "secret_ciphertext"),
    SecretKind("acm_keys", acm_certificates, "arn", "private_key_ref", "private_key_ciphertext"),
)

# (kind name, the sealed secret, its context) -> the same secret sealed under the kind's target.
Rewrap = Callable[[str, SealedKey, str], SealedKey]


def usage_by_key(store: SqlStore) -> dict[str, dict[str, int]]:
    """{KEK id: {kind: number of secrets it seals}}; token-held CA keys are left out."""
    usage: dict[str, dict[str, int]] = {}
    with store.reading() as connection:
        for kind in KINDS:
            ref = kind.column(kind.key_ref)
            query = (
                select(ref, func.count())
                .where(ref.is_not(None), ~ref.startswith(TOKEN_KEY_REF_PREFIX))
                .group_by(ref)
            )
            for key_ref, count in connection.execute(query).all():
                usage.setdefault(str(key_ref), {})[kind.name] = int(count)
    return usage


def rewrap_pass(
    store: SqlStore, targets: Mapping[str, str], rewrap: Rewrap, *, batch: int = 50
) -> int:
    """Re-wrap, batch by batch, every secret of each kind in `targets` ({kind name: KEK id})
    not sealed under that kind's target key; the number swapped. Kinds left out are untouched
    (a protected KEK file seals access-key secrets under its credential key, the rest under
    its current key).

    Each batch is read in a read-only transaction, re-wrapped outside any transaction (the
    cryptography happens while requests keep writing) and swapped in one short write
    transaction. Resumable: it can stop anywhere, and a new pass finds what is left.
    """
    swapped = 0
    for kind in KINDS:
        current = targets.get(kind.name)
        if current is None:
            continue
        context, ref, body = (kind.column(n) for n in (kind.context, kind.key_ref, kind.ciphertext))
        after = ""
        while True:
            query = (
                select(context, ref, body)
                .where(
                    ref.is_not(None),
                    ref != current,
                    ~ref.startswith(TOKEN_KEY_REF_PREFIX),
                    context > after,
                )
                .order_by(context)
                .limit(batch)
            )
            with store.reading() as connection:
                rows = connection.execute(query).all()
            if not rows:
                break
            after = str(rows[-1][0])
            changes = []
            for row_context, row_ref, row_body in rows:
                old = SealedKey(str(row_ref), bytes(row_body))
                changes.append((str(row_context), old, rewrap(kind.name, old, str(row_context))))
            with store.writing() as connection:
                for row_context, old, new in changes:
                    statement = (
                        update(kind.table)
                        .where(
                            and_(
                                context == row_context,
                                ref == old.key_ref,
                                body == old.ciphertext,
                            )
                        )
                        .values({kind.key_ref: new.key_ref, kind.ciphertext: new.ciphertext})
                    )
                    swapped += connection.execute(statement).rowcount
    return swapped

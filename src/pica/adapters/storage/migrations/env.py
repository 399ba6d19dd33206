"""Alembic environment: runs the migrations on the connection `SqlStore.migrate()` hands over.

There is no alembic.ini and no URL here: the caller opens the connection (and the transaction,
and on PostgreSQL the advisory lock that serialises concurrent start-ups) and passes it in
`config.attributes["connection"]`, so migrations always run inside the caller's transaction.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from pica.adapters.storage.tables import metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run pica's migrations through SqlStore.migrate() (no connection given)")
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()

"""The tags of each CA, in order."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from pica.adapters.storage import tables
from pica.adapters.storage.sql_records import SqlRecords, is_unique_violation
from pica.authority.model import (
    Tag,
)
from pica.errors import Conflict


class SqlTagRecords(SqlRecords):
    """The tags of each CA, in order."""

    def get_tags(self, ca_arn: str) -> list[Tag]:
        query = select(tables.tags.c.key, tables.tags.c.value).where(tables.tags.c.ca_arn == ca_arn)
        rows = self._all(query.order_by(tables.tags.c.position))
        return [Tag(row.key, row.value) for row in rows]

    def put_tags(self, ca_arn: str, tags: list[Tag]) -> None:
        self._writable()
        keys = [tag.key for tag in tags]
        if len(set(keys)) != len(keys):
            raise Conflict(f"duplicate tag keys for {ca_arn}")
        rows = [
            {"ca_arn": ca_arn, "position": position, "key": tag.key, "value": tag.value}
            for position, tag in enumerate(tags)
        ]
        try:
            # A concurrent put_tags on PostgreSQL can collide on (ca_arn, key); the savepoint
            # keeps this transaction usable when it does.
            with self._connection.begin_nested():
                self._connection.execute(delete(tables.tags).where(tables.tags.c.ca_arn == ca_arn))
                if rows:
                    self._connection.execute(tables.tags.insert(), rows)
        except IntegrityError as error:
            if is_unique_violation(error):
                raise Conflict(f"tags of {ca_arn} changed concurrently") from error
            raise

"""`SqlTransaction`: the `Transaction` port, one mixin per record family."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pica.adapters.storage.account_records import SqlAccountRecords
from pica.adapters.storage.acm_records import AcmRecords
from pica.adapters.storage.ca_records import SqlCaRecords
from pica.adapters.storage.certificate_records import SqlCertificateRecords
from pica.adapters.storage.console_records import ConsoleRecords
from pica.adapters.storage.crl_records import SqlCrlRecords
from pica.adapters.storage.idempotency_records import SqlIdempotencyRecords
from pica.adapters.storage.sharing_records import SharingRecordsMixin
from pica.adapters.storage.tag_records import SqlTagRecords

if TYPE_CHECKING:
    from pica.authority.ports import AcmTransaction, Transaction


class SqlTransaction(
    SqlAccountRecords,
    SqlCaRecords,
    SqlCertificateRecords,
    SqlCrlRecords,
    SqlIdempotencyRecords,
    SqlTagRecords,
    # Last, so that SqlRecords' helpers come before the stubs these three declare for typing.
    SharingRecordsMixin,
    AcmRecords,
    ConsoleRecords,
):
    """One unit of work on one connection; implements the `Transaction` port."""


if TYPE_CHECKING:
    # mypy proves the adapter satisfies the port (tests are not type-checked).
    def _transaction_conforms(transaction: SqlTransaction) -> Transaction:
        return transaction

    def _acm_transaction_conforms(transaction: SqlTransaction) -> AcmTransaction:
        return transaction

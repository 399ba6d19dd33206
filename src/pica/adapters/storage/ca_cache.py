"""CaCache: decoded CA records of one store, valid for the row version they were read at."""

from __future__ import annotations

import threading
from collections import OrderedDict

from pica.authority.model import CertificateAuthority


class CaCache:
    """Decoded CA records of one store, each under the row version it was read at.

    Decoding a CA row (two JSON documents, a dozen columns) costs more than the query; issuance
    reads the same CA on every request. `get_ca` reads the row's `version` in its own
    transaction and takes the cached record only when the versions agree, so a change committed
    by any process or node (every change bumps the version, see `update_ca`) is seen at once.
    Only records read in read-only transactions are cached: they are committed data, whereas a
    write transaction may read its own change and then roll back.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = capacity
        self._records: OrderedDict[str, CertificateAuthority] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, arn: str, version: int) -> CertificateAuthority | None:
        with self._lock:
            ca = self._records.get(arn)
            if ca is None or ca.version != version:
                return None
            self._records.move_to_end(arn)
            return ca

    def latest(self, arn: str) -> CertificateAuthority | None:
        """The record last cached for `arn`, at whatever version (`Store.recent_ca`)."""
        with self._lock:
            return self._records.get(arn)

    def put(self, ca: CertificateAuthority) -> None:
        with self._lock:
            self._records[ca.arn] = ca
            self._records.move_to_end(ca.arn)
            while len(self._records) > self._capacity:
                self._records.popitem(last=False)

"""The checks behind `/readyz`: the database, the key store and the object store pica serves with.

Each is the cheapest operation that proves the dependency usable, not merely configured:
- database: one `SELECT 1` on a read-only connection (no write lock on SQLite);
- key store: seal and open a few bytes, as every CA key and access-key secret is opened (and
  not sealed: a protected KEK file not unsealed yet makes `/readyz` say "sealed");
- object store: the local store's folder must be writable by pica (where CRLs go); an S3 store
  must answer a read of an object that need not exist (a missing object is an answer,
  unreachable or refused is not).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pica.adapters.storage.monitoring import StoredState
from pica.authority.ports import KeyStore, ObjectStore
from pica.errors import Sealed
from pica.settings import Settings
from pica.wire.health_http import ReadinessCheck

PROBE_BUCKET = "pica-readiness-probe"
PROBE_KEY = "readiness"
_PROBE_CONTEXT = "pica-readiness"


def readiness_checks(
    settings: Settings,
    state: StoredState,
    key_store: KeyStore,
    objects: ObjectStore,
    sealed: Callable[[], bool] = lambda: False,
) -> tuple[ReadinessCheck, ...]:
    def key_store_check() -> None:
        if sealed():
            raise Sealed()  # `/readyz` answers "sealed" until `pica unseal`
        plaintext = os.urandom(16)
        if key_store.open(key_store.seal(plaintext, _PROBE_CONTEXT), _PROBE_CONTEXT) != plaintext:
            raise RuntimeError("the key store opened a sealed probe to other bytes")

    def object_store_check() -> None:
        if settings.object_store == "local":
            _check_writable_folder(settings.buckets_dir)
        else:
            objects.get_object(PROBE_BUCKET, PROBE_KEY)

    return (
        ReadinessCheck("database", state.ping),
        ReadinessCheck("key_store", key_store_check),
        ReadinessCheck("object_store", object_store_check),
    )


def _check_writable_folder(folder: Path) -> None:
    """The buckets folder, or the data dir it will be made in, must be a writable folder."""
    target = folder if folder.exists() else folder.parent
    if not target.is_dir():
        raise RuntimeError(f"{target} is not a folder")
    if not os.access(target, os.W_OK | os.X_OK):
        raise RuntimeError(f"pica cannot write to {target}")

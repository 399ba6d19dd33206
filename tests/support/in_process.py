"""pica's services in-process over the in-memory store, a frozen clock and a real KEK file.

The service tests' world: no database file, no migrations, no real time. The services are
wired by `pica.app.build_services`, as `pica serve` wires them, on the in-memory store; the
defaults (partition, region, limits, lint modes, validity) come from `pica.settings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pica import settings as pica_settings
from pica.adapters.keystore.file_signer import FileSigningKeyStore
from pica.adapters.keystore.kek_file import FileKeyStore
from pica.adapters.objectstore.local_dir import LocalDirObjectStore
from pica.app import build_services
from pica.authority.ca_access import Caller
from pica.authority.ocsp.responder import OcspResponder
from pica.authority.revocation import CrlPublisher
from pica.settings import Settings
from pica.wire.awsjson.acm_handlers import AcmServices
from pica.wire.awsjson.handlers import ApiServices
from tests.support.clock import FrozenClock
from tests.support.memory_store import MemoryStore


@dataclass
class InProcess:
    """What `pica.app.Runtime` offers the service tests, on the fakes."""

    settings: Settings
    store: MemoryStore
    clock: FrozenClock
    key_store: FileKeyStore
    objects: LocalDirObjectStore
    services: ApiServices
    publisher: CrlPublisher
    ocsp: OcspResponder
    acm: AcmServices

    def new_caller(self) -> Caller:
        """A fresh account, as CreateAccount makes it."""
        return Caller(self.services.accounts.create_account().account_id)


def in_process(data_dir: Path, clock: FrozenClock | None = None, **overrides: object) -> InProcess:
    """Build the services; `data_dir` holds the KEK file and the published CRLs."""
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = pica_settings.build({"data_dir": str(data_dir), **overrides})
    clock = clock or FrozenClock()
    store = MemoryStore()
    FileKeyStore.create(settings.resolved_kek_file)
    key_store = FileKeyStore.load(settings.resolved_kek_file)
    objects = LocalDirObjectStore(settings.buckets_dir, settings.resolved_public_url)
    built = build_services(
        settings, store, key_store, FileSigningKeyStore(key_store), objects, clock
    )
    return InProcess(
        settings=settings,
        store=store,
        clock=clock,
        key_store=key_store,
        objects=objects,
        services=built.services,
        publisher=built.publisher,
        ocsp=built.ocsp,
        acm=built.acm,
    )

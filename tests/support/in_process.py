"""pica's services in-process over the in-memory store, a frozen clock and a real KEK file.

The service tests' world: no database file, no migrations, no real time. It mirrors
`pica.app.build_runtime`, which cannot take a store (it opens the installation the settings
name); the defaults (partition, region, limits, lint modes, validity) still come from
`pica.settings`, and ACM's services from `pica.app.build_acm_services` itself, so only the
wiring of the PCA services is repeated here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pica import settings as pica_settings
from pica.adapters.keystore.file_signer import FileSigningKeyStore
from pica.adapters.keystore.kek_file import FileKeyStore
from pica.adapters.objectstore.local_dir import LocalDirObjectStore
from pica.app import build_acm_services
from pica.authority.accounts import AccountService
from pica.authority.arns import ArnFactory
from pica.authority.audit_reports import AuditReportService
from pica.authority.audit_trail import AuditTrail
from pica.authority.authorities import CertificateAuthorityService, Limits
from pica.authority.ca_access import Caller
from pica.authority.certificates import CertificateService
from pica.authority.lint.gate import FindingsMode, LintGate, LintMode
from pica.authority.ocsp.responder import OcspResponder
from pica.authority.permissions import PermissionService
from pica.authority.resource_policies import ResourcePolicyService
from pica.authority.revocation import CrlPublisher, RevocationService
from pica.authority.revocation_urls import RevocationUrls
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
    keys = FileSigningKeyStore(key_store)
    objects = LocalDirObjectStore(settings.buckets_dir, settings.resolved_public_url)
    urls = RevocationUrls(
        object_url=objects.object_url,
        default_ocsp_url=f"{settings.resolved_public_url}/ocsp",
        partition_size=settings.crl_partition_size,
    )
    certificates = CertificateService(
        store,
        keys,
        clock,
        urls,
        LintGate(LintMode(settings.lint_mode), FindingsMode(settings.lint_findings)),
    )
    services = ApiServices(
        authorities=CertificateAuthorityService(
            store,
            keys,
            clock,
            ArnFactory(settings.partition, settings.region),
            objects,
            Limits(max_cas_per_account=settings.max_cas_per_account),
        ),
        certificates=certificates,
        revocation=RevocationService(store, clock),
        accounts=AccountService(store, key_store, clock),
        clock=clock,
        permissions=PermissionService(store, clock),
        policies=ResourcePolicyService(store, clock),
        audit_reports=AuditReportService(store, objects, clock),
        audit_trail=AuditTrail(store, clock),
    )
    return InProcess(
        settings=settings,
        store=store,
        clock=clock,
        key_store=key_store,
        objects=objects,
        services=services,
        publisher=CrlPublisher(store, objects, keys, clock, urls),
        ocsp=OcspResponder(store, keys, clock, delegated=settings.ocsp_signer == "delegated"),
        # build_acm_services names SqlStore but uses only the AcmStore port.
        acm=build_acm_services(settings, store, key_store, certificates, clock),  # type: ignore[arg-type]
    )

"""Composition root: build the adapters and services from Settings and mount the routes.

The only module that imports the domain, the wire layer and the adapters together.

Past ~400 lines because, as the composition root, it wires every adapter, service and route;
it holds no rule of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pica.adapters.keystore.kek_file import FileKeyStore
from pica.adapters.objectstore.local_dir import LocalDirObjectStore
from pica.adapters.objectstore.s3 import S3ObjectStore
from pica.adapters.storage.monitoring import StoredState
from pica.adapters.storage.sql_store import SqlStore
from pica.authority.accounts import AccountService, Credentials
from pica.authority.acm.certificates import AcmCertificateService
from pica.authority.acm.issuer import AcmIssuer
from pica.authority.acm.renewal import POLL_SECONDS as ACM_RENEWAL_POLL_SECONDS
from pica.authority.acm.renewal import AcmRenewals, PermissionGrants
from pica.authority.arns import ArnFactory
from pica.authority.audit_reports import AuditReportService
from pica.authority.audit_trail import AuditTrail
from pica.authority.authorities import CertificateAuthorityService, Limits
from pica.authority.certificates import CertificateService
from pica.authority.clock import SystemClock
from pica.authority.console_inventory import ConsoleInventory
from pica.authority.console_sessions import ConsoleSessions
from pica.authority.lint.gate import FindingsMode, LintGate, LintMode
from pica.authority.lint_record import FindingsFanOut, FindingsLog
from pica.authority.ocsp.responder import OcspResponder
from pica.authority.permissions import PermissionService
from pica.authority.ports import (
    AcmRenewalPermission,
    AcmStore,
    Clock,
    KeyStore,
    ObjectStore,
    SigningKeyStore,
)
from pica.authority.rate_quotas import RateSettingError, parse_policy
from pica.authority.resource_policies import ResourcePolicyService
from pica.authority.revocation import CrlPublisher, RevocationService
from pica.authority.revocation_urls import RevocationUrls
from pica.key_custody import open_signing_key_store
from pica.readiness import readiness_checks
from pica.settings import Settings
from pica.startup import StartupError, open_installation
from pica.unseal_channel import UnsealListener
from pica.wire.access_log import AccessLog
from pica.wire.api_call import ApiCallObserver
from pica.wire.api_first import ApiFirst
from pica.wire.awsjson.acm_api import acm_api
from pica.wire.awsjson.acm_handlers import AcmServices
from pica.wire.awsjson.endpoint import AwsJsonEndpoint, error_response
from pica.wire.awsjson.handlers import ApiServices
from pica.wire.awsjson.service_model import ACM_SERVICE_NAME, load_service_model
from pica.wire.awsjson.sigv4 import SigV4Verifier
from pica.wire.awsjson.validation import RequestValidator
from pica.wire.console.routes import Console, ConsoleServices
from pica.wire.crl_http import CrlEndpoint
from pica.wire.health_http import HealthEndpoints, ReadinessCheck
from pica.wire.inline import INLINE_TARGETS, serves_inline
from pica.wire.metrics import Metrics
from pica.wire.ocsp_http import is_ocsp_request, make_ocsp_endpoints
from pica.wire.throttling import Throttle, served_operations

log = logging.getLogger("pica")

PURGE_INTERVAL_SECONDS = 60.0
# How often a node looks for audit reports other nodes left to make (its own requests wake it).
AUDIT_REPORT_POLL_SECONDS = 5.0
# How often a node seals new audit trail records into the hash chain.
AUDIT_SEAL_SECONDS = 1.0
SETTINGS_ENV = "PICA_SETTINGS_JSON"


class Wakeup:
    """Lets a request thread nudge this process's CRL publisher (an asyncio event)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self.event: asyncio.Event | None = None

    def bind(self) -> asyncio.Event:
        self._loop = asyncio.get_running_loop()
        self.event = asyncio.Event()
        return self.event

    def __call__(self) -> None:
        if self._loop is not None and self.event is not None:
            self._loop.call_soon_threadsafe(self.event.set)


@dataclass
class Runtime:
    """Everything one process builds once: the store, key store and services."""

    settings: Settings
    store: SqlStore
    services: ApiServices
    publisher: CrlPublisher
    ocsp: OcspResponder
    wakeup: Wakeup
    objects: ObjectStore
    # The KEK file's store: CA keys of the file store, ACM keys; sealed or not (`pica unseal`).
    key_store: FileKeyStore
    audit_wakeup: Wakeup
    # Told of every certificate signed in spite of lint findings; the web app adds its metrics.
    findings: FindingsFanOut
    acm: AcmServices
    # Where CA keys are made and used (the file store, or a PKCS#11 token's sessions).
    signing_keys: SigningKeyStore

    def close(self) -> None:
        self.store.dispose()
        close_keys = getattr(self.signing_keys, "close", None)
        if callable(close_keys):
            close_keys()
        # The S3 adapter holds an HTTP connection pool; the local one holds nothing.
        close = getattr(self.objects, "close", None)
        if callable(close):
            close()


def build_object_store(settings: Settings) -> ObjectStore:
    if settings.object_store == "s3":
        return S3ObjectStore(
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region or settings.region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )
    return LocalDirObjectStore(settings.buckets_dir, settings.resolved_public_url)


def build_runtime(settings: Settings, *, initialise: bool, clock: Clock | None = None) -> Runtime:
    """Open the installation (`pica.startup`: `initialise` only for `pica serve`) and build the
    services on it. `clock` is the system clock unless a test moves time."""
    try:
        parse_policy(settings.throttling, served_operations())
    except RateSettingError as exc:
        raise StartupError(str(exc)) from exc
    store, key_store = open_installation(settings, initialise=initialise)
    try:
        keys = open_signing_key_store(settings, store, key_store)
    except BaseException:
        store.dispose()
        raise
    objects = build_object_store(settings)
    built = build_services(settings, store, key_store, keys, objects, clock or SystemClock())
    return Runtime(
        settings,
        store,
        built.services,
        built.publisher,
        built.ocsp,
        built.wakeup,
        objects,
        key_store,
        built.audit_wakeup,
        built.findings,
        built.acm,
        keys,
    )


@dataclass
class Services:
    """The domain services of one process, wired on whatever store and key stores it has."""

    services: ApiServices
    publisher: CrlPublisher
    ocsp: OcspResponder
    acm: AcmServices
    wakeup: Wakeup
    audit_wakeup: Wakeup
    findings: FindingsFanOut


def build_services(
    settings: Settings,
    store: AcmStore,
    key_store: FileKeyStore,
    keys: SigningKeyStore,
    objects: ObjectStore,
    clock: Clock,
) -> Services:
    """Every service on `store` (the SQL store here; the service tests pass their in-memory
    one, so the wiring is written once)."""
    urls = RevocationUrls(
        object_url=objects.object_url,
        default_ocsp_url=f"{settings.resolved_public_url}/ocsp",
        partition_size=settings.crl_partition_size,
    )
    wakeup = Wakeup()
    audit_wakeup = Wakeup()
    findings = FindingsFanOut([FindingsLog()])
    services = ApiServices(
        authorities=CertificateAuthorityService(
            store,
            keys,
            clock,
            ArnFactory(settings.partition, settings.region),
            objects,
            Limits(max_cas_per_account=settings.max_cas_per_account),
        ),
        certificates=CertificateService(
            store,
            keys,
            clock,
            urls,
            LintGate(LintMode(settings.lint_mode), FindingsMode(settings.lint_findings)),
            findings_observers=(findings,),
        ),
        revocation=RevocationService(store, clock, wakeup),
        # Access-key secrets open while sealed: SigV4 needs them for every call, reads too.
        accounts=AccountService(store, key_store.for_credentials(), clock),
        clock=clock,
        permissions=PermissionService(store, clock),
        policies=ResourcePolicyService(store, clock),
        audit_reports=AuditReportService(store, objects, clock, audit_wakeup),
        audit_trail=AuditTrail(store, clock),
    )
    return Services(
        services=services,
        publisher=CrlPublisher(store, objects, keys, clock, urls),
        ocsp=OcspResponder(store, keys, clock, delegated=settings.ocsp_signer == "delegated"),
        acm=build_acm_services(settings, store, key_store, services.certificates, clock),
        wakeup=wakeup,
        audit_wakeup=audit_wakeup,
        findings=findings,
    )


def build_acm_services(
    settings: Settings,
    store: AcmStore,
    key_store: KeyStore,
    certificates: CertificateService,
    clock: Clock,
    permission: AcmRenewalPermission | None = None,
) -> AcmServices:
    """ACM's private certificates, issued through `certificates` (IssueCertificate's path).

    `permission` answers "may ACM renew from this CA?"; by default the permission store does
    (the CA granted acm.amazonaws.com IssueCertificate, GetCertificate and ListPermissions).
    """
    issuer = AcmIssuer(store, certificates, clock, settings.acm_certificate_validity_duration)
    window = settings.acm_renewal_window_duration
    return AcmServices(
        certificates=AcmCertificateService(
            store,
            key_store,
            issuer,
            clock,
            partition=settings.partition,
            region=settings.region,
            renewal_window=window,
        ),
        renewals=AcmRenewals(
            store,
            key_store,
            issuer,
            clock,
            permission or PermissionGrants(),
            window,
        ),
        clock=clock,
    )


def build_throttle(settings: Settings, store: SqlStore) -> Throttle | None:
    """The `throttling` setting's buckets (`adapters/storage/throttle_records.py`), or None."""
    from pica.adapters.storage.throttle_records import buckets_for

    policy = parse_policy(settings.throttling, served_operations())
    return None if policy is None else Throttle(policy, buckets_for(store.engine))


def _write_private(path: Path, text: str, *, replace: bool = True) -> None:
    """Write `path` with mode 0600 whatever the umask (and whatever mode a file there had)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)


def write_client_files(settings: Settings, credentials: Credentials) -> None:
    """AWS shared credentials and config files (profile `pica`) for the first access key.

    The credentials file is never replaced: `bootstrap` refuses to start before that.
    """
    _write_private(
        settings.data_dir / "credentials",
        "[pica]\n"
        f"aws_access_key_id = {credentials.access_key_id}\n"
        f"aws_secret_access_key = {credentials.secret_access_key}\n",
        replace=False,
    )
    _write_private(
        settings.data_dir / "config",
        f"[profile pica]\nregion = {settings.region}\nendpoint_url = {settings.endpoint_url}\n"
        + _ca_bundle_line(settings),
    )


def _ca_bundle_line(settings: Settings) -> str:
    """`ca_bundle = <data-dir>/tls/ca-bundle.pem` when pica serves HTTPS with its own TLS CA."""
    from pica.tls import trust_bundle

    bundle = trust_bundle(settings)
    return "" if bundle is None else f"ca_bundle = {bundle}\n"


def bootstrap(runtime: Runtime) -> None:
    """On first start: one account, one access key, and the client files that use them."""
    settings = runtime.settings
    accounts = runtime.services.accounts
    if not accounts.list_accounts():
        credentials_file = settings.data_dir / "credentials"
        if credentials_file.exists():
            # Its keys belong to another database (a wrong database_url, or a lost one).
            raise StartupError(
                f"{credentials_file} exists but the database {runtime.store.display_url} has "
                "no account: check database_url (PICA_DATABASE_URL), or move the file away to "
                "start afresh"
            )
        account = accounts.create_account()
        credentials = accounts.create_access_key(account.account_id)
        write_client_files(settings, credentials)
        log.info(
            "created account %s and access key %s", account.account_id, credentials.access_key_id
        )
    elif (settings.data_dir / "config").exists():
        # Keep the config's endpoint in step with the address being served.
        config = settings.data_dir / "config"
        # Likewise its ca_bundle, right below it, with HTTPS served (or none without).
        lines: list[str] = []
        for line in config.read_text().splitlines():
            if line.startswith("endpoint_url"):
                lines.append(f"endpoint_url = {settings.endpoint_url}")
                lines.extend(_ca_bundle_line(settings).splitlines())
            elif not line.startswith("ca_bundle"):
                lines.append(line)
        _write_private(config, "\n".join(lines) + "\n")


def client_exports(settings: Settings) -> str:
    return (
        f"export AWS_CONFIG_FILE={settings.data_dir / 'config'} "
        f"AWS_SHARED_CREDENTIALS_FILE={settings.data_dir / 'credentials'}\n"
        "export AWS_PROFILE=pica"
    )


def _not_found(request: Request) -> Response:
    return error_response(
        404,
        "UnknownOperationException",
        f"{request.method} {request.url.path} is not an ACM Private CA endpoint; "
        "API calls are POST / with an X-Amz-Target header.",
        "-",
    )


def create_app(runtime: Runtime) -> ApiFirst:
    services = runtime.services
    settings = runtime.settings
    state = StoredState(runtime.store)
    metrics = Metrics(state)
    runtime.findings.add(metrics.lint_findings)
    # One record per API call feeds the access log and the request metrics.
    observers: list[ApiCallObserver] = [metrics.api]
    if settings.access_log != "off":
        observers.append(AccessLog(settings.access_log))
    inline = serves_inline(settings.resolved_database_url, settings.key_store)
    endpoint = AwsJsonEndpoint(
        services,
        RequestValidator(load_service_model()),
        SigV4Verifier(services.accounts.secret_for, region=settings.region),
        max_body=settings.max_body_bytes,
        observers=observers,
        other_apis=[
            acm_api(
                runtime.acm,
                RequestValidator(load_service_model(ACM_SERVICE_NAME)),
                SigV4Verifier(
                    services.accounts.secret_for, region=settings.region, service=ACM_SERVICE_NAME
                ),
            )
        ],
        throttle=build_throttle(settings, runtime.store),
        inline_targets=INLINE_TARGETS if inline else frozenset(),
        until_writable=runtime.store.until_writable if inline else None,
    )
    checks = readiness_checks(
        settings, state, runtime.key_store, runtime.objects, lambda: runtime.key_store.sealed
    )
    probe = getattr(runtime.signing_keys, "probe", None)
    if callable(probe):  # a PKCS#11 token: a logged-in session must answer
        checks = (*checks, ReadinessCheck("pkcs11_token", probe))
    health = HealthEndpoints(checks)
    ocsp = make_ocsp_endpoints(runtime.ocsp, inline=inline)
    crl = CrlEndpoint(runtime.publisher)
    console = Console(
        ConsoleServices(
            services,
            runtime.acm,
            ConsoleSessions(runtime.store, services.accounts, services.clock),
            ConsoleInventory(runtime.store, services.authorities, services.clock),
        )
    )

    async def purge_loop() -> None:
        while True:
            try:
                await run_in_threadpool(services.authorities.purge_deleted)
            except Exception:
                log.exception("purging deleted certificate authorities failed")
            await asyncio.sleep(PURGE_INTERVAL_SECONDS)

    async def publish_loop() -> None:
        wake = runtime.wakeup.bind()
        interval = runtime.settings.crl_poll_seconds
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=interval)
                # Woken by a revocation: let the ones right behind it land first, so a burst
                # of revocations is covered by one CRL.
                await asyncio.sleep(min(0.2, interval))
            wake.clear()
            if runtime.key_store.sealed:
                continue  # nothing can be signed: the published CRLs stay served meanwhile
            try:
                while await run_in_threadpool(runtime.publisher.publish_due) > 0:
                    pass
            except Exception:
                log.exception("CRL publication failed")

    async def audit_report_loop() -> None:
        wake = runtime.audit_wakeup.bind()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=AUDIT_REPORT_POLL_SECONDS)
            wake.clear()
            try:
                while await run_in_threadpool(services.audit_reports.make_due) > 0:
                    pass
            except Exception:
                log.exception("making audit reports failed")

    async def audit_seal_loop() -> None:
        while True:
            try:
                while await run_in_threadpool(services.audit_trail.seal_pending) > 0:
                    pass
            except Exception:
                log.exception("sealing the audit trail failed")
            await asyncio.sleep(AUDIT_SEAL_SECONDS)

    async def acm_renewal_loop() -> None:
        while True:
            if runtime.key_store.sealed:  # renewals wait (no key can be made or used)
                await asyncio.sleep(ACM_RENEWAL_POLL_SECONDS)
                continue
            try:
                while await run_in_threadpool(runtime.acm.renewals.run_due) > 0:
                    pass
            except Exception:
                log.exception("ACM managed renewal failed")
            await asyncio.sleep(ACM_RENEWAL_POLL_SECONDS)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Everything loaded so far (modules, the service models, pkilint's validators) lives as
        # long as the process: frozen, a full collection no longer walks it (that walk put
        # ~40 ms on the request that triggered it: the p99). The higher thresholds keep the
        # now cheap full collections from running far more often (bench/README.md).
        gc.freeze()
        gc.set_threshold(10_000, 20, 20)
        tasks = [
            asyncio.create_task(purge_loop()),
            asyncio.create_task(publish_loop()),
            asyncio.create_task(audit_report_loop()),
            asyncio.create_task(audit_seal_loop()),
            asyncio.create_task(acm_renewal_loop()),
        ]
        if settings.tls:
            from pica import tls

            tasks.append(asyncio.create_task(tls.watch(settings)))
        unseal = UnsealListener(settings.data_dir, runtime.key_store.unseal)
        await unseal.start()
        try:
            yield
        finally:
            await unseal.close()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            runtime.close()

    async def post_other(request: Request) -> Response:
        if is_ocsp_request(request):
            return await ocsp.post(request)
        if request.url.path.startswith("/service/"):
            return await endpoint.handle_cbor(request)  # Smithy RPC v2 CBOR
        return _not_found(request)

    async def get_any(request: Request) -> Response:
        path = request.path_params["path"]
        if path.endswith(".crl"):
            found = await crl.get(request, path)
            if found is not None:
                return found
        elif path:
            answered = await ocsp.get(request, path)
            if answered is not None:
                return answered
        return _not_found(request)

    async def other(request: Request) -> Response:
        return _not_found(request)

    routes = [
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/metrics", metrics.get, methods=["GET"]),
        *console.routes(),
        # `ApiFirst` hands every other POST / to the API endpoint: what reaches this route is
        # OCSP, POSTed to the URL in the AIA, which may be this root path.
        Route("/", ocsp.post, methods=["POST"]),
        Route("/{path:path}", get_any, methods=["GET"]),
        Route("/{path:path}", post_other, methods=["POST"]),
        Route("/{path:path}", other, methods=["PUT", "DELETE", "HEAD", "PATCH"]),
    ]
    # The request target's length is checked before any route parses it (`ApiFirst`).
    return ApiFirst(Starlette(routes=routes, lifespan=lifespan), endpoint.handle)


def app_from_environment() -> ApiFirst:
    """uvicorn factory for worker processes: settings travel in an environment variable."""
    settings = Settings.from_json(os.environ[SETTINGS_ENV])
    return create_app(build_runtime(settings, initialise=False))

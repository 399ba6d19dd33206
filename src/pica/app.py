"""Composition root: build the adapters and services from Settings and mount the routes.

The only module that imports the domain, the wire layer and the adapters together.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from pica.adapters.storage.sql_store import SqlStore
from pica.authority.accounts import AccountService, Credentials
from pica.authority.arns import ArnFactory
from pica.authority.authorities import CertificateAuthorityService, Limits
from pica.authority.certificates import CertificateService
from pica.authority.clock import SystemClock
from pica.authority.keys import PrivateKeyCache
from pica.settings import Settings
from pica.wire.awsjson.endpoint import AwsJsonEndpoint, error_response
from pica.wire.awsjson.handlers import ApiServices
from pica.wire.awsjson.service_model import load_service_model
from pica.wire.awsjson.sigv4 import SigV4Verifier
from pica.wire.awsjson.validation import RequestValidator

log = logging.getLogger("pica")

PURGE_INTERVAL_SECONDS = 60.0
SETTINGS_ENV = "PICA_SETTINGS_JSON"


@dataclass
class Runtime:
    """Everything one process builds once: the store, key store and services."""

    settings: Settings
    store: SqlStore
    services: ApiServices

    def close(self) -> None:
        self.store.dispose()


def prepare_data_dir(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(settings.data_dir, 0o700)


def build_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    prepare_data_dir(settings)
    store = SqlStore(settings.resolved_database_url)
    if migrate:
        store.migrate()
    key_store = FileKeyStore.open_or_create(settings.resolved_kek_file)
    clock = SystemClock()
    keys = PrivateKeyCache(key_store)
    services = ApiServices(
        authorities=CertificateAuthorityService(
            store,
            key_store,
            keys,
            clock,
            ArnFactory(settings.partition, settings.region),
            Limits(max_cas_per_account=settings.max_cas_per_account),
        ),
        certificates=CertificateService(store, keys, clock),
        accounts=AccountService(store, key_store, clock),
        clock=clock,
    )
    return Runtime(settings, store, services)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def write_client_files(settings: Settings, credentials: Credentials) -> None:
    """AWS shared credentials and config files (profile `pica`) for the first access key."""
    _write_private(
        settings.data_dir / "credentials",
        "[pica]\n"
        f"aws_access_key_id = {credentials.access_key_id}\n"
        f"aws_secret_access_key = {credentials.secret_access_key}\n",
    )
    _write_private(
        settings.data_dir / "config",
        f"[profile pica]\nregion = {settings.region}\nendpoint_url = {settings.endpoint_url}\n",
    )


def bootstrap(runtime: Runtime) -> None:
    """On first start: one account, one access key, and the client files that use them."""
    settings = runtime.settings
    accounts = runtime.services.accounts
    if not accounts.list_accounts():
        account = accounts.create_account()
        credentials = accounts.create_access_key(account.account_id)
        write_client_files(settings, credentials)
        log.info(
            "created account %s and access key %s", account.account_id, credentials.access_key_id
        )
    elif (settings.data_dir / "config").exists():
        # Keep the config's endpoint in step with the address being served.
        config = settings.data_dir / "config"
        lines = [
            f"endpoint_url = {settings.endpoint_url}" if line.startswith("endpoint_url") else line
            for line in config.read_text().splitlines()
        ]
        _write_private(config, "\n".join(lines) + "\n")


def client_exports(settings: Settings) -> str:
    return (
        f"export AWS_CONFIG_FILE={settings.data_dir / 'config'} "
        f"AWS_SHARED_CREDENTIALS_FILE={settings.data_dir / 'credentials'}\n"
        "export AWS_PROFILE=pica"
    )


async def _not_found(request: Request) -> Response:
    return error_response(
        404,
        "UnknownOperationException",
        f"{request.method} {request.url.path} is not an ACM Private CA endpoint; "
        "API calls are POST / with an X-Amz-Target header.",
        "-",
    )


def create_app(runtime: Runtime) -> Starlette:
    services = runtime.services
    endpoint = AwsJsonEndpoint(
        services,
        RequestValidator(load_service_model()),
        SigV4Verifier(services.accounts.secret_for),
        max_body=runtime.settings.max_body_bytes,
    )

    async def purge_loop() -> None:
        while True:
            try:
                await run_in_threadpool(services.authorities.purge_deleted)
            except Exception:
                log.exception("purging deleted certificate authorities failed")
            await asyncio.sleep(PURGE_INTERVAL_SECONDS)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(purge_loop())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            runtime.close()

    routes = [
        Route("/", endpoint.handle, methods=["POST"]),
        Route(
            "/{path:path}", _not_found, methods=["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"]
        ),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def app_from_environment() -> Starlette:
    """uvicorn factory for worker processes: settings travel in an environment variable."""
    settings = Settings.from_json(os.environ[SETTINGS_ENV])
    return create_app(build_runtime(settings, migrate=False))

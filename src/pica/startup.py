"""Opening an installation: what `pica serve` may create, and what every other command must find.

`pica serve` initialises: it creates the data dir (0700), the SQLite database (0600, with its
-wal and -shm files) and brings the schema up to date, and creates the key-encryption key, but
only while the database holds nothing sealed: beside sealed data a missing or wrong KEK file
stops the start instead of being replaced (a second KEK would leave the old secrets unreadable
and mix two keys in one database). `pica migrate` creates or upgrades the schema and nothing
else; `accounts`, `keys` and the worker processes open what exists and create nothing.

Whatever stops a start is a `StartupError`: one line naming the file or setting, and what to do.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pica.settings import Settings

if TYPE_CHECKING:
    # Imported where used: `pica --help` and a bad setting answer without loading SQLAlchemy.
    from pica.adapters.keystore.kek_file import FileKeyStore
    from pica.adapters.storage.sql_store import SqlStore


class StartupError(Exception):
    """pica cannot start (or a command cannot run) as configured; the message is one line."""


def prepare_data_dir(settings: Settings) -> None:
    """Create the data dir (and any missing parents) with mode 0700; keep an existing one 0700."""
    path = settings.data_dir
    try:
        _make_private_dirs(path)
    except OSError as error:
        raise StartupError(f"cannot create the data dir {path}: {_reason(error)}") from error
    if not path.is_dir():
        raise StartupError(f"the data dir {path} is not a directory")
    with contextlib.suppress(OSError):  # not ours to change: it stays as the owner made it
        os.chmod(path, 0o700)


def open_installation(settings: Settings, *, initialise: bool) -> tuple[SqlStore, FileKeyStore]:
    """The store and the key store, checked against each other.

    `initialise` (`pica serve`): create what is missing, as the module docstring says.
    Otherwise: open what exists; a missing data dir, database, schema or KEK file is an error.
    """
    store = _open_store(settings, initialise=initialise)
    try:
        if initialise:
            prepare_data_dir(settings)
        key_store = _open_key_store(settings, store, may_create=initialise)
    except BaseException:
        store.dispose()
        raise
    return store, key_store


def migrate_database(settings: Settings) -> str:
    """`pica migrate`: create or upgrade the schema (and the SQLite file, in an existing folder).

    Returns the database URL with any password hidden, for the report.
    """
    from pica.adapters.storage.sql_store import DatabaseUnavailable, SqlStore

    _require_data_dir_for_sqlite(settings)
    try:
        store = SqlStore(settings.resolved_database_url, create=True)
        try:
            store.migrate()
        finally:
            store.dispose()
    except DatabaseUnavailable as error:
        raise StartupError(str(error)) from error
    return store.display_url


def public_url_warning(settings: Settings) -> str | None:
    """A warning when certificates would carry a loopback CRL/OCSP URL although pica listens
    beyond loopback: other hosts could reach pica but not the URLs in its certificates."""
    if _is_loopback(settings.host):
        return None
    public_host = urlsplit(settings.resolved_public_url).hostname or ""
    if not _is_loopback(public_host):
        return None
    return (
        f"pica listens on {settings.host or '0.0.0.0'} but writes CRL and OCSP URLs under "
        f"{settings.resolved_public_url} into certificates, which other hosts cannot reach; "
        "set --public-url (PICA_PUBLIC_URL) to the URL clients use"
    )


def _open_store(settings: Settings, *, initialise: bool) -> SqlStore:
    from pica.adapters.storage.sql_store import DatabaseUnavailable, SqlStore

    if initialise and settings.database_url is None:
        prepare_data_dir(settings)  # the SQLite file goes into it
    elif not initialise:
        _require_data_dir_for_sqlite(settings)
    try:
        store = SqlStore(settings.resolved_database_url, create=initialise)
    except DatabaseUnavailable as error:
        raise StartupError(str(error)) from error
    try:
        if initialise:
            store.migrate()
        elif not store.schema_is_current():
            raise StartupError(
                f"the database {store.display_url} has no pica schema or an older one: "
                "run `pica migrate` (or start `pica serve`, which migrates)"
            )
    except DatabaseUnavailable as error:
        store.dispose()
        raise StartupError(str(error)) from error
    except BaseException:
        store.dispose()
        raise
    return store


def _require_data_dir_for_sqlite(settings: Settings) -> None:
    """Commands other than `serve` never create the data dir that holds the default database."""
    if settings.database_url is None and not settings.data_dir.is_dir():
        raise StartupError(
            f"no pica data dir at {settings.data_dir}: pass the --data-dir of an existing pica, "
            f"or start `pica serve --data-dir {settings.data_dir}` once to create one"
        )


def _open_key_store(settings: Settings, store: SqlStore, *, may_create: bool) -> FileKeyStore:
    from pica.adapters.keystore import is_token_ref
    from pica.adapters.keystore.kek_file import FileKeyStore, KeyStoreError, PassphraseRefused
    from pica.adapters.storage.sql_store import DatabaseUnavailable

    path = settings.resolved_kek_file
    try:
        # CA keys held in a PKCS#11 token need no KEK (`pica.key_custody` checks the token).
        used = frozenset(ref for ref in store.key_refs_in_use() if not is_token_ref(ref))
    except DatabaseUnavailable as error:
        raise StartupError(str(error)) from error
    try:
        if not _exists(path):
            if used:
                raise StartupError(
                    f"the KEK file {path} is missing, but the database holds secrets sealed "
                    f"under {_listed(used)}: restore that file from your backup, or point "
                    "kek_file (PICA_KEK_FILE) at it; pica never makes a new KEK beside sealed data"
                )
            if not may_create:
                raise StartupError(
                    f"the KEK file {path} is missing: start `pica serve` once to create it, or "
                    "point kek_file (PICA_KEK_FILE) at the existing one"
                )
            FileKeyStore.create(path)
        key_store = FileKeyStore.load(path, _passphrase(settings))
    except PassphraseRefused as error:
        raise StartupError(
            f"the passphrase in {settings.kek_passphrase_file} (kek_passphrase_file, "
            f"PICA_KEK_PASSPHRASE_FILE) does not open the KEK file {path}"
        ) from error
    except KeyStoreError as error:
        raise StartupError(str(error)) from error
    missing = used - key_store.key_refs
    if missing:
        raise StartupError(
            f"the KEK file {path} lacks {_listed(missing)}, which sealed secrets in the "
            "database: restore the KEK file that holds it, or point kek_file (PICA_KEK_FILE) at it"
        )
    return key_store


def _passphrase(settings: Settings) -> bytes | None:
    """The KEK passphrase from kek_passphrase_file, if set (one line naming it if unreadable)."""
    from pica.adapters.keystore.kek_protection import ProtectionError, read_passphrase

    if settings.kek_passphrase_file is None:
        return None
    try:
        return read_passphrase(settings.kek_passphrase_file)
    except ProtectionError as error:
        raise StartupError(str(error)) from error


def _make_private_dirs(path: Path) -> None:
    missing: list[Path] = []
    while not path.exists() and path.parent != path:
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process
            folder.mkdir(mode=0o700)
            os.chmod(folder, 0o700)  # whatever the umask


def _exists(path: Path) -> bool:
    try:
        path.stat()
    except FileNotFoundError:
        return False
    except OSError as error:
        raise StartupError(f"cannot reach the KEK file {path}: {_reason(error)}") from error
    return True


def _is_loopback(host: str) -> bool:
    name = host.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name other than localhost, or every interface ("")


def _listed(refs: frozenset[str]) -> str:
    return ", ".join(sorted(refs))


def _reason(error: OSError) -> str:
    return error.strerror or str(error)

"""`pica backup` and `pica restore`: one file that holds the database, and the key-encryption
key only when the operator asks for it.

The file is a gzip-compressed tar archive (mode 0600) of:
- `manifest.json`: the format and its version, pica's version and revision, the schema
  revision, when it was made, the database kind, whether the KEK is inside, and each member's
  SHA-256;
- `pica.db` (SQLite, a consistent online copy) or `pica.pgdump` (`pg_dump --format=custom`);
- `kek`, only with `--include-kek`. Anyone holding such a file can open every CA key in it.

It is made beside the output path and linked into place, so a half-written backup never
carries the final name and an existing file is never replaced. Client files (`credentials`,
`config`) are not in it (they are the operator's; the keys they name still work after a
restore), nor are published CRLs: a restore asks for every CRL afresh, and the first server
on the restored database publishes them.

A restore goes into an empty data dir (absent, or holding only `pica.toml`) and, for
PostgreSQL, a database without tables; anything else is refused before anything is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from pica import __version__
from pica.adapters.keystore import is_token_ref
from pica.adapters.storage import snapshots
from pica.adapters.storage.snapshots import SnapshotError
from pica.adapters.storage.sql_store import DatabaseUnavailable, SqlStore
from pica.settings import Settings
from pica.startup import StartupError, prepare_data_dir
from pica.version import revision

FORMAT = "pica-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "pica.db"
POSTGRES_MEMBER = "pica.pgdump"
KEK_MEMBER = "kek"
# What an empty data dir may already hold: the settings that point a restore at its database.
_ALLOWED_IN_EMPTY_DATA_DIR = frozenset({"pica.toml"})


@dataclass(frozen=True)
class Manifest:
    format: str
    format_version: int
    pica_version: str
    revision: str
    schema_revision: str | None
    created_at: str
    database: str
    kek_included: bool
    members: dict[str, str]  # name -> SHA-256 (hex)


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    database: str  # where it went (password hidden)
    kek_path: Path | None  # where the KEK was written, when the backup held it
    key_refs: frozenset[str]  # the KEK ids the restored data needs


def create_backup(settings: Settings, output: Path, *, include_kek: bool) -> Manifest:
    output = output.absolute()
    if output.exists() or output.is_symlink():
        raise StartupError(f"{output} exists and pica overwrites nothing: choose a new name")
    if not output.parent.is_dir():
        raise StartupError(f"no folder {output.parent} to write {output.name} into")
    kek_bytes = _read_kek(settings) if include_kek else None
    store = _open(settings, create=False)
    try:
        schema = snapshots.schema_revision(store)
        with tempfile.TemporaryDirectory(dir=output.parent, prefix=".pica-backup-") as work:
            folder = Path(work)
            database_file = snapshots.sqlite_path(settings.resolved_database_url)
            if database_file is not None:
                kind, member = "sqlite", folder / SQLITE_MEMBER
                snapshots.copy_sqlite(database_file, member)
            else:
                kind, member = "postgresql", folder / POSTGRES_MEMBER
                snapshots.dump_postgresql(settings.resolved_database_url, member)
            members = {member.name: member.read_bytes()}
            if kek_bytes is not None:
                members[KEK_MEMBER] = kek_bytes
            manifest = Manifest(
                format=FORMAT,
                format_version=FORMAT_VERSION,
                pica_version=__version__,
                revision=revision(),
                schema_revision=schema,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                database=kind,
                kek_included=kek_bytes is not None,
                members={name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
            )
            _write_archive(folder / "archive", manifest, members)
            os.link(folder / "archive", output)  # never replaces: fails if output appeared
        _sync_folder(output.parent)
    except SnapshotError as error:
        raise StartupError(str(error)) from error
    except FileExistsError as error:
        raise StartupError(f"{output} appeared meanwhile; pica overwrites nothing") from error
    finally:
        store.dispose()
    return manifest


def restore_backup(settings: Settings, source: Path) -> Restored:
    manifest, members = _read_archive(source)
    sqlite_target = snapshots.sqlite_path(settings.resolved_database_url)
    if manifest.database == "sqlite" and sqlite_target is None:
        raise StartupError(
            "this backup holds a SQLite database: restore it into a data dir without "
            "database_url (a PostgreSQL backup restores into PostgreSQL)"
        )
    if manifest.database == "postgresql" and sqlite_target is not None:
        raise StartupError(
            "this backup holds a PostgreSQL dump: give --database-url of an empty PostgreSQL "
            "database to restore it into"
        )
    if manifest.schema_revision is not None and not snapshots.known_revision(
        manifest.schema_revision
    ):
        raise StartupError(
            f"this backup's schema revision {manifest.schema_revision} is newer than this pica "
            f"knows; restore it with pica {manifest.pica_version} or later"
        )
    _require_empty_data_dir(settings.data_dir)
    kek_path = settings.resolved_kek_file
    if manifest.kek_included and (kek_path.exists() or kek_path.is_symlink()):
        raise StartupError(f"the KEK file {kek_path} exists and pica overwrites nothing")
    try:
        if sqlite_target is not None:
            prepare_data_dir(settings)
            _restore_sqlite(members[SQLITE_MEMBER], sqlite_target)
            store = _open(settings, create=False)
        else:
            store = _open(settings, create=False)
            if snapshots.has_tables(store):
                store.dispose()
                raise StartupError(
                    f"the database {store.display_url} is not empty; pica restores only into "
                    "an empty database"
                )
            prepare_data_dir(settings)
            with tempfile.TemporaryDirectory(prefix="pica-restore-") as work:
                dump = Path(work) / POSTGRES_MEMBER
                dump.write_bytes(members[POSTGRES_MEMBER])
                snapshots.restore_postgresql(settings.resolved_database_url, dump)
        try:
            snapshots.mark_crls_for_publication(store, datetime.now(UTC))
            key_refs = frozenset(r for r in store.key_refs_in_use() if not is_token_ref(r))
        finally:
            store.dispose()
    except SnapshotError as error:
        raise StartupError(str(error)) from error
    except DatabaseUnavailable as error:
        raise StartupError(str(error)) from error
    written = None
    if manifest.kek_included:
        _write_new_private(kek_path, members[KEK_MEMBER])
        written = kek_path
    return Restored(manifest, store.display_url, written, key_refs)


def _open(settings: Settings, *, create: bool) -> SqlStore:
    database_file = snapshots.sqlite_path(settings.resolved_database_url)
    if database_file is not None and not database_file.exists() and not create:
        raise StartupError(
            f"no pica database at {database_file}: pass the --data-dir (or --database-url) "
            "of an existing pica"
        )
    try:
        return SqlStore(settings.resolved_database_url, create=create)
    except DatabaseUnavailable as error:
        raise StartupError(str(error)) from error


def _read_kek(settings: Settings) -> bytes:
    path = settings.resolved_kek_file
    try:
        return path.read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        raise StartupError(f"cannot read the KEK file {path}: {reason}") from error


def _write_archive(path: Path, manifest: Manifest, members: dict[str, bytes]) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w:gz") as archive:
            entries = {MANIFEST: json.dumps(asdict(manifest), indent=2).encode(), **members}
            for name, data in entries.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o600
                info.mtime = int(datetime.now(UTC).timestamp())
                archive.addfile(info, io.BytesIO(data))
        raw.flush()
        os.fsync(raw.fileno())


def _read_archive(source: Path) -> tuple[Manifest, dict[str, bytes]]:
    """The manifest and every member it lists, each checked against its SHA-256."""
    try:
        with tarfile.open(source, mode="r:gz") as archive:
            manifest = _manifest(_member(archive, MANIFEST, source))
            members = {name: _member(archive, name, source) for name in manifest.members}
    except (OSError, tarfile.TarError, EOFError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise StartupError(f"{source} is not a readable pica backup: {reason}") from error
    for name, digest in manifest.members.items():
        if hashlib.sha256(members[name]).hexdigest() != digest:
            raise StartupError(f"{source}: {name} does not match its checksum; the file is damaged")
    database_member = SQLITE_MEMBER if manifest.database == "sqlite" else POSTGRES_MEMBER
    if database_member not in members or manifest.kek_included != (KEK_MEMBER in members):
        raise StartupError(f"{source}: the manifest does not match the archive's members")
    return manifest, members


def _member(archive: tarfile.TarFile, name: str, source: Path) -> bytes:
    try:
        handle = archive.extractfile(name)
    except KeyError:
        handle = None
    if handle is None:
        raise StartupError(f"{source} is not a pica backup: it has no {name}")
    with handle:
        return handle.read()


def _manifest(raw: bytes) -> Manifest:
    try:
        data = json.loads(raw)
        manifest = Manifest(**data)
    except (ValueError, TypeError) as error:
        raise StartupError(f"the backup's manifest is not valid: {error}") from error
    if manifest.format != FORMAT:
        raise StartupError(f"not a pica backup (format {manifest.format!r})")
    if manifest.format_version > FORMAT_VERSION:
        raise StartupError(
            f"this backup has format version {manifest.format_version}, newer than this pica "
            f"({__version__}) reads; restore it with the pica that made it "
            f"({manifest.pica_version})"
        )
    if manifest.database not in ("sqlite", "postgresql"):
        raise StartupError(f"unknown database kind {manifest.database!r} in the backup")
    return manifest


def _require_empty_data_dir(data_dir: Path) -> None:
    if not data_dir.exists():
        return
    if not data_dir.is_dir():
        raise StartupError(f"{data_dir} is not a directory")
    present = sorted(p.name for p in data_dir.iterdir() if p.name not in _ALLOWED_IN_EMPTY_DATA_DIR)
    if present:
        raise StartupError(
            f"the data dir {data_dir} is not empty ({', '.join(present[:5])}); pica restores "
            "only into an empty data dir"
        )


def _restore_sqlite(data: bytes, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.restoring")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        snapshots.check_sqlite_file(temporary)
        os.link(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    _sync_folder(target.parent)


def _write_new_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

"""`FileKeyStore`: seals secrets with AES-256-GCM under key-encryption keys kept in one local file.

The file is text, one key per line, so keys rotate by adding a line (`pica kek rotate`):

    # comments and blank lines are ignored
    kek-<16 hex: first 8 bytes of SHA-256(key)> <base64 of the 32-byte key> [created=<ISO 8601>]

The last key is the current one (used to seal); every listed key can still open. The line's label
is the `key_ref` stored beside each ciphertext, so a row names the key that opens it. The
`created=` field is optional (files written before rotation existed lack it).

A running server learns of a rotation without a restart: `open` re-reads the file when it meets
a key id it does not hold, and `seal` re-reads it (at most once a second) when the file changed,
so new secrets are sealed under the new key within a second. Keys once read stay in memory until
the process ends: a retired key's old ciphertexts still cached by a process keep opening.

A ciphertext is nonce (12 random bytes) || AES-GCM output, with the context (CA ARN, access key
id) as associated data: a ciphertext moved to another row, or altered, does not open.

The file is created with mode 0600 and a file readable by group or others is refused: it
protects every CA key, so it must be as private as the keys themselves.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pica.authority.model import SealedKey

KEY_BYTES = 32
NONCE_BYTES = 12
_LABEL_PREFIX = "kek-"
_CREATED = "created="
_HEADER = (
    "# pica key-encryption keys: one 'kek-<id> <base64 key> [created=<time>]' per line;\n"
    "# the last one seals. Losing this file makes every stored secret unreadable.\n"
)
# How often `seal` may stat the file to notice a rotation made by another process.
RELOAD_INTERVAL_SECONDS = 1.0


class KeyStoreError(Exception):
    """The key store cannot do its job: unusable KEK file, unknown key, or a bad ciphertext.

    An internal failure (a misconfigured or tampered installation), never the caller's fault.
    """


@dataclass(frozen=True)
class KekEntry:
    """One line of the KEK file: the key's id, the key, and when it was made (if recorded)."""

    ref: str
    key: bytes
    created: datetime | None = None

    def line(self) -> str:
        encoded = base64.b64encode(self.key).decode("ascii")
        if self.created is None:
            return f"{self.ref} {encoded}"
        stamp = self.created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{self.ref} {encoded} {_CREATED}{stamp}"


def new_entry() -> KekEntry:
    """A fresh random KEK, stamped now."""
    key = secrets.token_bytes(KEY_BYTES)
    return KekEntry(key_ref_for(key), key, datetime.now(UTC).replace(microsecond=0))


def key_ref_for(key: bytes) -> str:
    """The label of a KEK: a fingerprint that names the key without revealing it."""
    return _LABEL_PREFIX + hashlib.sha256(key).hexdigest()[:16]


class FileKeyStore:
    """The `KeyStore` port backed by a KEK file; every key lives in memory once opened."""

    def __init__(self, keys: dict[str, bytes], current: str, path: Path | None = None) -> None:
        if current not in keys:
            raise KeyStoreError(f"current key {current} is not among the keys")
        self._keys = {ref: AESGCM(key) for ref, key in keys.items()}
        self._current = current
        self._path = path  # None: a fixed set of keys, never re-read
        self._lock = threading.Lock()
        self._signature = _file_signature(path) if path is not None else None
        self._checked = time.monotonic()

    @property
    def current_key_ref(self) -> str:
        self._refresh_if_changed()
        return self._current

    @property
    def key_refs(self) -> frozenset[str]:
        """Every key id this store can open (those in the file, and any read earlier)."""
        return frozenset(self._keys)

    def reload(self) -> None:
        """Re-read the file: add the keys it gained and take its last key as the sealing one.

        Keys already held are kept (see the module docstring). An unreadable file leaves the
        store as it was: a rotation in progress must never stop a serving process.
        """
        if self._path is None:
            return
        signature = _file_signature(self._path)
        try:
            entries = read_entries(self._path)
        except KeyStoreError:
            return
        with self._lock:
            for entry in entries:
                if entry.ref not in self._keys:
                    self._keys[entry.ref] = AESGCM(entry.key)
            self._current = entries[-1].ref
            self._signature = signature

    def _refresh_if_changed(self) -> None:
        if self._path is None:
            return
        now = time.monotonic()
        if now - self._checked < RELOAD_INTERVAL_SECONDS:
            return
        self._checked = now
        if _file_signature(self._path) != self._signature:
            self.reload()

    @classmethod
    def create(cls, path: Path) -> None:
        """Create the KEK file at `path` with one fresh key, unless a file is already there.

        Creation is atomic and race-free: the key is written and synced to a private temporary
        file that is then hard-linked into place, so several processes starting at once end up
        sharing whichever file appeared first, and no process ever reads a half-written file.
        Whether a missing file may be created at all is the caller's decision: never beside
        data sealed under another key (`pica.startup` makes it).
        """
        if not path.exists():
            try:
                _create(path)
            except OSError as error:
                reason = error.strerror or str(error)
                raise KeyStoreError(f"cannot create the KEK file {path}: {reason}") from error

    @classmethod
    def load(cls, path: Path) -> FileKeyStore:
        """Open the KEK file at `path`; a missing file is an error, never created here."""
        return cls._load(path)

    @classmethod
    def _load(cls, path: Path) -> FileKeyStore:
        entries = read_entries(path)
        return cls({e.ref: e.key for e in entries}, entries[-1].ref, path)

    def seal(self, plaintext: bytes, context: str) -> SealedKey:
        self._refresh_if_changed()
        current = self._current
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._keys[current].encrypt(nonce, plaintext, context.encode("utf-8"))
        return SealedKey(key_ref=current, ciphertext=nonce + sealed)

    def open(self, sealed: SealedKey, context: str) -> bytes:
        aead = self._keys.get(sealed.key_ref)
        if aead is None:
            self.reload()  # sealed by a process that already knows a newer key
            aead = self._keys.get(sealed.key_ref)
        if aead is None:
            raise KeyStoreError(f"no key-encryption key {sealed.key_ref!r} in the KEK file")
        nonce, body = sealed.ciphertext[:NONCE_BYTES], sealed.ciphertext[NONCE_BYTES:]
        try:
            return aead.decrypt(nonce, body, context.encode("utf-8"))
        except InvalidTag as error:
            raise KeyStoreError(
                f"the secret sealed for {context!r} does not open: altered, or sealed for another"
            ) from error


def read_entries(path: Path) -> list[KekEntry]:
    """The keys in the KEK file at `path`, in file order (the last one seals).

    Refuses a file that is not regular, is reachable by group or others, or holds no key.
    """
    return parse_entries(_read_private_text(path), str(path))


def parse_entries(text: str, where: str) -> list[KekEntry]:
    """The keys in the KEK file's text; `where` names it in messages."""
    entries: list[KekEntry] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        entry = _parse_line(line, f"{where}:{number}")
        if entry.ref in seen:
            raise KeyStoreError(f"{where}:{number}: key {entry.ref} is listed twice")
        seen.add(entry.ref)
        entries.append(entry)
    if not entries:
        raise KeyStoreError(f"the KEK file {where} holds no key")
    return entries


def render_entries(entries: list[KekEntry]) -> str:
    """The KEK file's text for `entries` (the last one seals)."""
    return _HEADER + "".join(entry.line() + "\n" for entry in entries)


def add_key(path: Path) -> KekEntry:
    """Append a fresh key to the KEK file, atomically; it becomes the sealing key."""
    with _file_lock(path):
        entries = read_entries(path)
        entry = new_entry()
        replace_text(path, render_entries([*entries, entry]))
        return entry


def remove_key(path: Path, ref: str) -> None:
    """Drop key `ref` from the KEK file, atomically. The caller checked nothing uses it."""
    with _file_lock(path):
        entries = read_entries(path)
        kept = [entry for entry in entries if entry.ref != ref]
        if len(kept) == len(entries):
            raise KeyStoreError(f"no key-encryption key {ref} in the KEK file {path}")
        if entries[-1].ref == ref:
            raise KeyStoreError(
                f"{ref} is the current (sealing) key-encryption key: run `pica kek rotate` first"
            )
        replace_text(path, render_entries(kept))


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialise changes to the KEK file between processes (two `pica kek` at once)."""
    import fcntl

    target = path.resolve()
    lock_path = target.with_name(f".{target.name}.lock")
    descriptor = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def replace_text(path: Path, content: str) -> None:
    """Replace the KEK file's content atomically (write, fsync, rename over), mode 0600.

    A symlinked KEK file has its target replaced, so the link keeps pointing at the keys.
    """
    target = path.resolve()
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
        _sync_directory(target.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _file_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def _read_private_text(path: Path) -> str:
    try:
        # A symlink is fine (mounted secrets are links); the target's mode is what counts.
        descriptor = os.open(path, os.O_RDONLY)
    except OSError as error:
        reason = error.strerror or str(error)
        raise KeyStoreError(f"cannot open the KEK file {path}: {reason}") from error
    with os.fdopen(descriptor, "r", encoding="ascii") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise KeyStoreError(f"the KEK file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise KeyStoreError(
                f"the KEK file {path} is readable or writable by group or others "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}"
            )
        try:
            return file.read()
        except UnicodeDecodeError as error:
            raise KeyStoreError(f"the KEK file {path} is not a text file") from error


def _parse_line(line: str, where: str) -> KekEntry:
    parts = line.split()
    if len(parts) not in (2, 3) or not parts[0].startswith(_LABEL_PREFIX):
        raise KeyStoreError(f"{where}: expected 'kek-<id> <base64 key> [created=<time>]'")
    ref, encoded = parts[:2]
    created = None
    if len(parts) == 3:
        if not parts[2].startswith(_CREATED):
            raise KeyStoreError(f"{where}: expected 'created=<ISO 8601 time>' after the key")
        try:
            created = datetime.fromisoformat(parts[2][len(_CREATED) :])
        except ValueError as error:
            raise KeyStoreError(f"{where}: the created time is not ISO 8601") from error
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise KeyStoreError(f"{where}: the key is not valid base64") from error
    if len(key) != KEY_BYTES:
        raise KeyStoreError(f"{where}: a key must be {KEY_BYTES} bytes, not {len(key)}")
    if key_ref_for(key) != ref:
        raise KeyStoreError(f"{where}: the key does not match its label {ref} (corrupted?)")
    return KekEntry(ref, key, created)


def _create(path: Path) -> None:
    content = render_entries([new_entry()])
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return  # another process created it first: use theirs
        _sync_directory(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _sync_directory(directory: Path) -> None:
    """Make the new directory entry durable (a crash must not lose the key once it was used)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

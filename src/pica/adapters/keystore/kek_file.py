"""`FileKeyStore`: seals secrets with AES-256-GCM under key-encryption keys kept in one local file.

The file is text, one key per line, so keys rotate by adding a line (`pica kek rotate`):

    # comments and blank lines are ignored
    kek-<16 hex: first 8 bytes of SHA-256(key)> <base64 of the 32-byte key> [created=<ISO 8601>]

The last key is the current one (used to seal); every listed key can still open. The line's label
is the `key_ref` stored beside each ciphertext, so a row names the key that opens it. The
`created=` field is optional (files written before rotation existed lack it).

A protected file (`pica kek protect`, `kek_protection.py`) holds those lines inside a
passphrase envelope, beside `credentials kek-...` lines in the clear that seal access-key
secrets only. Until the passphrase is given (`unseal`) the store is *sealed*: it opens and seals
access-key secrets, and everything else raises `pica.errors.Sealed` (HTTP 503 on the wire).

A running server learns of a rotation without a restart: `open` re-reads the file when it meets
a key id it does not hold, and `seal` re-reads it (at most once a second) when the file changed,
so new secrets are sealed under the new key within a second. Keys once read stay in memory until
the process ends: a retired key's old ciphertexts still cached by a process keep opening.

A ciphertext is nonce (12 random bytes) || AES-GCM output, with the context (CA ARN, access key
id) as associated data: a ciphertext moved to another row, or altered, does not open.

The file is created with mode 0600 and a file readable by group or others is refused: it
protects every CA key, so it must be as private as the keys themselves.

Past ~400 lines because the file's two forms (plain and protected) and the store that follows
them while a server runs change together; changing the file is in `kek_edits.py`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pica.adapters.keystore.kek_protection import (
    CREDENTIALS,
    PROTECTED,
    Envelope,
    ProtectionError,
    WrongPassphrase,
    parse_envelope,
    read_private_file,
)
from pica.authority.model import SealedKey
from pica.errors import Sealed

KEY_BYTES = 32
NONCE_BYTES = 12
_LABEL_PREFIX = "kek-"
_CREATED = "created="
_HEADER = (
    "# pica key-encryption keys: one 'kek-<id> <base64 key> [created=<time>]' per line;\n"
    "# the last one seals. Losing this file makes every stored secret unreadable.\n"
)
_PROTECTED_HEADER = (
    "# pica key-encryption keys, protected by a passphrase (pica kek protect): the keys are in\n"
    "# the 'protected' line; 'credentials' lines seal access-key secrets only. Losing this file\n"
    "# or the passphrase makes every stored secret unreadable.\n"
)
# How often `seal` may stat the file to notice a rotation made by another process.
RELOAD_INTERVAL_SECONDS = 1.0


class KeyStoreError(Exception):
    """The key store cannot do its job: unusable KEK file, unknown key, or a bad ciphertext.

    An internal failure (a misconfigured or tampered installation), never the caller's fault.
    """


class PassphraseRefused(KeyStoreError):
    """The passphrase given does not open the protected KEK file."""


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


@dataclass(frozen=True)
class KekFile:
    """What a KEK file holds: its key lines, or an envelope and the credential keys beside it."""

    entries: tuple[KekEntry, ...]  # an unprotected file's keys (none when protected)
    envelope: Envelope | None = None
    credentials: tuple[KekEntry, ...] = ()  # a protected file's keys in the clear

    @property
    def protected(self) -> bool:
        return self.envelope is not None

    @property
    def refs(self) -> tuple[str, ...]:
        """Every key id the file names, in file order."""
        inside = self.envelope.refs if self.envelope is not None else ()
        return tuple(e.ref for e in self.entries) + inside + tuple(e.ref for e in self.credentials)

    def opened(self, derived: bytes, where: str) -> list[KekEntry]:
        """The keys inside the envelope, opened with the derived passphrase key."""
        assert self.envelope is not None
        try:
            text = self.envelope.open(derived)
        except WrongPassphrase as error:
            raise PassphraseRefused(f"the passphrase does not open the KEK file {where}") from error
        entries = parse_entries(text, f"{where} (inside the envelope)")
        if tuple(e.ref for e in entries) != self.envelope.refs:
            raise KeyStoreError(f"the KEK file {where} lists other keys than its envelope holds")
        return entries

    def render(self) -> str:
        if self.envelope is None:
            return render_entries(list(self.entries))
        return (
            _PROTECTED_HEADER
            + self.envelope.line()
            + "\n"
            + "".join(f"{CREDENTIALS} {entry.line()}\n" for entry in self.credentials)
        )


def new_entry() -> KekEntry:
    """A fresh random KEK, stamped now."""
    key = secrets.token_bytes(KEY_BYTES)
    return KekEntry(key_ref_for(key), key, datetime.now(UTC).replace(microsecond=0))


def key_ref_for(key: bytes) -> str:
    """The label of a KEK: a fingerprint that names the key without revealing it."""
    return _LABEL_PREFIX + hashlib.sha256(key).hexdigest()[:16]


class FileKeyStore:
    """The `KeyStore` port backed by a KEK file; every key lives in memory once opened."""

    def __init__(self, keys: dict[str, bytes], current: str | None, path: Path | None = None):
        if current is not None and current not in keys:
            raise KeyStoreError(f"current key {current} is not among the keys")
        self._keys = {ref: AESGCM(key) for ref, key in keys.items()}
        self._current = current  # None: sealed (a protected file not opened yet)
        self._credential_current: str | None = None  # a protected file's credential key
        self._listed: frozenset[str] = frozenset()  # ids inside the envelope, held or not
        self._unlock: tuple[bytes, bytes] | None = None  # (salt, derived key) this process used
        self._path = path  # None: a fixed set of keys, never re-read
        self._lock = threading.Lock()
        self._signature = _file_signature(path) if path is not None else None
        self._checked = time.monotonic()

    @property
    def sealed(self) -> bool:
        """True while a protected file's keys are not open: only access-key secrets work."""
        self._refresh_if_changed()
        return self._current is None

    @property
    def current_key_ref(self) -> str:
        """The key that seals CA keys and ACM keys (Sealed while sealed)."""
        self._refresh_if_changed()
        if self._current is None:
            raise Sealed()
        return self._current

    @property
    def credential_key_ref(self) -> str:
        """The key that seals access-key secrets: a protected file's credential key, else the
        current one."""
        self._refresh_if_changed()
        ref = self._credential_current or self._current
        if ref is None:
            raise Sealed()
        return ref

    @property
    def key_refs(self) -> frozenset[str]:
        """Every key id this store can open or could open unsealed (the file's, and any read
        earlier)."""
        return frozenset(self._keys) | self._listed

    def for_credentials(self) -> CredentialKeys:
        """The `KeyStore` to seal access-key secrets with (openable while sealed)."""
        return CredentialKeys(self)

    def unseal(self, passphrase: bytes) -> bool:
        """Open the protected file's keys with `passphrase`; True if the store was sealed.

        Raises PassphraseRefused for a wrong passphrase (the store stays as it was). The slow
        derivation runs outside the lock: requests keep being served meanwhile.
        """
        assert self._path is not None
        content = read_file(self._path)
        if content.envelope is None:
            self._apply(content)
            return False
        derived = content.envelope.derive(passphrase)
        inside = content.opened(derived, str(self._path))  # refuses a wrong passphrase
        with self._lock:
            was_sealed = self._current is None
            self._unlock = (content.envelope.salt, derived)
            self._apply_locked(content, inside)
            self._signature = _file_signature(self._path)
        return was_sealed

    def reload(self) -> None:
        """Re-read the file: add the keys it gained and take its last key as the sealing one.

        Keys already held are kept (see the module docstring). An unreadable file leaves the
        store as it was: a rotation in progress must never stop a serving process.
        """
        if self._path is None:
            return
        signature = _file_signature(self._path)
        try:
            content = read_file(self._path)
        except KeyStoreError:
            return
        with self._lock:
            self._apply_locked(content)
            self._signature = signature

    def _apply(self, content: KekFile) -> None:
        with self._lock:
            self._apply_locked(content)

    def _apply_locked(self, content: KekFile, inside: list[KekEntry] | None = None) -> None:
        """Take in what the file holds; `inside`: its envelope's keys, when already opened."""
        self._hold([*content.entries, *content.credentials])
        envelope = content.envelope
        if envelope is None:
            self._current = content.entries[-1].ref
            self._credential_current = None
            self._listed = frozenset()
            return
        self._listed = frozenset(envelope.refs)
        self._credential_current = content.credentials[-1].ref
        if inside is None:
            if self._unlock is None or self._unlock[0] != envelope.salt:
                return  # keep what this process holds (nothing, if it never unsealed)
            try:
                inside = content.opened(self._unlock[1], str(self._path))
            except KeyStoreError:
                return
        self._hold(inside)
        self._current = inside[-1].ref

    def _hold(self, entries: list[KekEntry]) -> None:
        for entry in entries:
            if entry.ref not in self._keys:
                self._keys[entry.ref] = AESGCM(entry.key)

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

        Creation is atomic and race-free (`kek_edits.create_file`). Whether a missing file may
        be created at all is the caller's decision: never beside data sealed under another key
        (`pica.startup` makes it).
        """
        from pica.adapters.keystore.kek_edits import create_file

        if not path.exists():
            try:
                create_file(path)
            except OSError as error:
                reason = error.strerror or str(error)
                raise KeyStoreError(f"cannot create the KEK file {path}: {reason}") from error

    @classmethod
    def load(cls, path: Path, passphrase: bytes | None = None) -> FileKeyStore:
        """Open the KEK file at `path`; a missing file is an error, never created here.

        A protected file opens sealed unless `passphrase` is given (PassphraseRefused if wrong).
        """
        content = read_file(path)
        store = cls({}, None, path)
        store._apply(content)
        if content.protected and passphrase is not None:
            store.unseal(passphrase)
        return store

    def seal(self, plaintext: bytes, context: str) -> SealedKey:
        return self.seal_under(self.current_key_ref, plaintext, context)

    def seal_credential(self, plaintext: bytes, context: str) -> SealedKey:
        return self.seal_under(self.credential_key_ref, plaintext, context)

    def seal_under(self, ref: str, plaintext: bytes, context: str) -> SealedKey:
        """Seal under the key `ref` this store holds (a rotation's re-wrap names its target)."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._keys[ref].encrypt(nonce, plaintext, context.encode("utf-8"))
        return SealedKey(key_ref=ref, ciphertext=nonce + sealed)

    def open(self, sealed: SealedKey, context: str) -> bytes:
        aead = self._keys.get(sealed.key_ref)
        if aead is None:
            self.reload()  # sealed by a process that already knows a newer key
            aead = self._keys.get(sealed.key_ref)
        if aead is None:
            if sealed.key_ref in self._listed:
                raise Sealed()
            raise KeyStoreError(f"no key-encryption key {sealed.key_ref!r} in the KEK file")
        nonce, body = sealed.ciphertext[:NONCE_BYTES], sealed.ciphertext[NONCE_BYTES:]
        try:
            return aead.decrypt(nonce, body, context.encode("utf-8"))
        except InvalidTag as error:
            raise KeyStoreError(
                f"the secret sealed for {context!r} does not open: altered, or sealed for another"
            ) from error


class CredentialKeys:
    """The `KeyStore` of access-key secrets: sealed under a protected file's credential key
    (in the clear), so SigV4 authenticates calls while pica is sealed; opens like the store."""

    def __init__(self, store: FileKeyStore) -> None:
        self._store = store

    def seal(self, plaintext: bytes, context: str) -> SealedKey:
        return self._store.seal_credential(plaintext, context)

    def open(self, sealed: SealedKey, context: str) -> bytes:
        return self._store.open(sealed, context)


def read_file(path: Path) -> KekFile:
    """What the KEK file at `path` holds, protected or not.

    Refuses a file that is not regular, is reachable by group or others, or holds no key.
    """
    return parse_file(_read_private_text(path), str(path))


def parse_file(text: str, where: str) -> KekFile:
    """The KEK file's text, protected or not; `where` names it in messages."""
    entries: list[KekEntry] = []
    credentials: list[KekEntry] = []
    envelopes: list[Envelope] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        at = f"{where}:{number}"
        if line.startswith(PROTECTED + " "):
            try:
                envelopes.append(parse_envelope(line, at))
            except ProtectionError as error:
                raise KeyStoreError(str(error)) from error
        elif line.startswith(CREDENTIALS + " "):
            credentials.append(_parse_line(line[len(CREDENTIALS) + 1 :].strip(), at))
        else:
            entries.append(_parse_line(line, at))
    if not envelopes:
        if credentials:
            raise KeyStoreError(f"the KEK file {where} has credentials lines but no protected one")
        content = KekFile(tuple(_unique(entries, where)))
    elif len(envelopes) > 1 or entries or not credentials:
        raise KeyStoreError(
            f"the KEK file {where} is damaged: a protected file holds one protected line, "
            "at least one credentials line and no other key"
        )
    else:
        content = KekFile((), envelopes[0], tuple(credentials))
    if not content.refs:
        raise KeyStoreError(f"the KEK file {where} holds no key")
    if len(set(content.refs)) != len(content.refs):
        raise KeyStoreError(f"the KEK file {where} lists a key twice")
    return content


def _unique(entries: list[KekEntry], where: str) -> list[KekEntry]:
    seen: set[str] = set()
    for entry in entries:
        if entry.ref in seen:
            raise KeyStoreError(f"{where}: key {entry.ref} is listed twice")
        seen.add(entry.ref)
    return entries


def read_entries(path: Path) -> list[KekEntry]:
    """The keys of the unprotected KEK file at `path`, in file order (the last one seals).

    Refuses a file that is not regular, is reachable by group or others, holds no key, or is
    protected by a passphrase (`read_file` reads those).
    """
    content = read_file(path)
    if content.protected:
        raise KeyStoreError(f"the KEK file {path} is protected by a passphrase")
    return list(content.entries)


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


def _file_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def _read_private_text(path: Path) -> str:
    try:
        data = read_private_file(path, "KEK file")
    except ProtectionError as error:
        raise KeyStoreError(str(error)) from error
    try:
        return data.decode("ascii")
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

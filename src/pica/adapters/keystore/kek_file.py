"""`FileKeyStore`: seals secrets with AES-256-GCM under key-encryption keys kept in one local file.

The file is text, one key per line, so keys can be rotated later by appending a line:

    # comments and blank lines are ignored
    kek-<16 hex: first 8 bytes of SHA-256(key)> <base64 of the 32-byte key>

The last key is the current one (used to seal); every listed key can still open. The line's label
is the `key_ref` stored beside each ciphertext, so a row names the key that opens it.

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
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pica.authority.model import SealedKey

KEY_BYTES = 32
NONCE_BYTES = 12
_LABEL_PREFIX = "kek-"
_HEADER = (
    "# pica key-encryption keys: one 'kek-<id> <base64 key>' per line; the last one seals.\n"
    "# Losing this file makes every stored CA key and access-key secret unreadable.\n"
)


class KeyStoreError(Exception):
    """The key store cannot do its job: unusable KEK file, unknown key, or a bad ciphertext.

    An internal failure (a misconfigured or tampered installation), never the caller's fault.
    """


def key_ref_for(key: bytes) -> str:
    """The label of a KEK: a fingerprint that names the key without revealing it."""
    return _LABEL_PREFIX + hashlib.sha256(key).hexdigest()[:16]


class FileKeyStore:
    """The `KeyStore` port backed by a KEK file; every key lives in memory once opened."""

    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        if current not in keys:
            raise KeyStoreError(f"current key {current} is not among the keys")
        self._keys = {ref: AESGCM(key) for ref, key in keys.items()}
        self._current = current

    @property
    def current_key_ref(self) -> str:
        return self._current

    @property
    def key_refs(self) -> frozenset[str]:
        """Every key id in the file: what this store can open."""
        return frozenset(self._keys)

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
                text = file.read()
            except UnicodeDecodeError as error:
                raise KeyStoreError(f"the KEK file {path} is not a text file") from error
        keys: dict[str, bytes] = {}
        current = None
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            ref, key = _parse_line(line, f"{path}:{number}")
            keys[ref] = key
            current = ref
        if current is None:
            raise KeyStoreError(f"the KEK file {path} holds no key")
        return cls(keys, current)

    def seal(self, plaintext: bytes, context: str) -> SealedKey:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._keys[self._current].encrypt(nonce, plaintext, context.encode("utf-8"))
        return SealedKey(key_ref=self._current, ciphertext=nonce + sealed)

    def open(self, sealed: SealedKey, context: str) -> bytes:
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


def _parse_line(line: str, where: str) -> tuple[str, bytes]:
    parts = line.split()
    if len(parts) != 2 or not parts[0].startswith(_LABEL_PREFIX):
        raise KeyStoreError(f"{where}: expected 'kek-<id> <base64 key>'")
    ref, encoded = parts
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise KeyStoreError(f"{where}: the key is not valid base64") from error
    if len(key) != KEY_BYTES:
        raise KeyStoreError(f"{where}: a key must be {KEY_BYTES} bytes, not {len(key)}")
    if key_ref_for(key) != ref:
        raise KeyStoreError(f"{where}: the key does not match its label {ref} (corrupted?)")
    return ref, key


def _create(path: Path) -> None:
    key = secrets.token_bytes(KEY_BYTES)
    content = f"{_HEADER}{key_ref_for(key)} {base64.b64encode(key).decode('ascii')}\n"
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

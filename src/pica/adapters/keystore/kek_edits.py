"""Changing a KEK file: create it, add and remove keys, protect and unprotect it, atomically.

Every change takes an exclusive lock beside the file (two `pica kek` commands at once cannot
lose each other's key) and replaces the file whole (write, fsync, rename over, fsync the
folder): a running server re-reading it sees the old file or the new one, never half of one.
A protected file is rewritten under the same salt and scrypt parameters, so servers that were
unsealed keep following it (`kek_file.FileKeyStore._apply_locked`); only `protect` picks a salt.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pica.adapters.keystore.kek_file import (
    KekEntry,
    KekFile,
    KeyStoreError,
    new_entry,
    read_file,
    render_entries,
)
from pica.adapters.keystore.kek_protection import (
    SCRYPT_N,
    SCRYPT_P,
    SCRYPT_R,
    derive,
    new_salt,
    seal_envelope,
)
from pica.file_lock import exclusive


def add_key(path: Path, passphrase: bytes | None = None) -> KekEntry:
    """Append a fresh key to the KEK file, atomically; it becomes the sealing key.

    A protected file needs its passphrase, and gains a fresh credential key too (access-key
    secrets move to it in the same rotation).
    """
    with _file_lock(path):
        content = read_file(path)
        entry = new_entry()
        if content.envelope is None:
            replace_text(path, render_entries([*content.entries, entry]))
            return entry
        derived = _derived(content, path, passphrase)
        inside = content.opened(derived, str(path))
        _write_protected(
            path, content, [*inside, entry], derived, [*content.credentials, new_entry()]
        )
        return entry


def remove_key(path: Path, ref: str, passphrase: bytes | None = None) -> None:
    """Drop key `ref` from the KEK file, atomically. The caller checked nothing uses it."""
    with _file_lock(path):
        content = read_file(path)
        if ref not in content.refs:
            raise KeyStoreError(f"no key-encryption key {ref} in the KEK file {path}")
        if content.envelope is None:
            if content.entries[-1].ref == ref:
                raise _current(ref)
            replace_text(path, render_entries([e for e in content.entries if e.ref != ref]))
            return
        if content.credentials[-1].ref == ref:
            raise _current(ref)  # it seals access-key secrets
        credentials = [e for e in content.credentials if e.ref != ref]
        if ref not in content.envelope.refs:
            replace_text(path, KekFile((), content.envelope, tuple(credentials)).render())
            return
        derived = _derived(content, path, passphrase)
        inside = content.opened(derived, str(path))
        if inside[-1].ref == ref:
            raise _current(ref)
        _write_protected(
            path, content, [e for e in inside if e.ref != ref], derived, content.credentials
        )


def protect(path: Path, passphrase: bytes) -> KekEntry:
    """Wrap the KEK file's keys under `passphrase`; the new credential key is returned.

    Access-key secrets are still sealed under the old keys: the caller re-wraps them under the
    credential key (`pica kek protect` does), or they cannot authenticate while sealed.
    """
    with _file_lock(path):
        content = read_file(path)
        if content.envelope is not None:
            raise KeyStoreError(
                f"the KEK file {path} is protected already; to change the passphrase run "
                "`pica kek unprotect` and then `pica kek protect` with the new one"
            )
        salt = new_salt()
        derived = derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        credential = new_entry()
        entries = list(content.entries)
        envelope = seal_envelope(
            render_entries(entries), tuple(e.ref for e in entries), derived, salt
        )
        replace_text(path, KekFile((), envelope, (credential,)).render())
        return credential


def unprotect(path: Path, passphrase: bytes) -> None:
    """Write the protected KEK file's keys back in the clear (credential keys first, so the
    last key, the one sealing, stays the one that sealed inside the envelope)."""
    with _file_lock(path):
        content = read_file(path)
        if content.envelope is None:
            raise KeyStoreError(f"the KEK file {path} is not protected by a passphrase")
        inside = content.opened(_derived(content, path, passphrase), str(path))
        replace_text(path, render_entries([*content.credentials, *inside]))


def create_file(path: Path) -> None:
    """A new KEK file with one fresh key, unless one appeared meanwhile (then it is kept).

    The key is written and synced to a private temporary file that is then hard-linked into
    place, so several processes starting at once end up sharing whichever file appeared first,
    and no process ever reads a half-written file.
    """
    temporary = _synced_temporary(path, render_entries([new_entry()]))
    try:
        try:
            os.link(temporary, path)
        except FileExistsError:
            return  # another process created it first: use theirs
        _sync_directory(path.parent)
    finally:
        temporary.unlink(missing_ok=True)


def replace_text(path: Path, content: str) -> None:
    """Replace the KEK file's content atomically (write, fsync, rename over), mode 0600.

    A symlinked KEK file has its target replaced, so the link keeps pointing at the keys.
    """
    target = path.resolve()
    temporary = _synced_temporary(target, content)
    try:
        os.replace(temporary, target)
        _sync_directory(target.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _synced_temporary(beside: Path, content: str) -> Path:
    """A new private (0600) file beside `beside` holding `content`, written and fsynced."""
    temporary = beside.with_name(f".{beside.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _derived(content: KekFile, path: Path, passphrase: bytes | None) -> bytes:
    if passphrase is None:
        raise KeyStoreError(
            f"the KEK file {path} is protected by a passphrase: give it with --passphrase-file "
            "(or PICA_KEK_PASSPHRASE_FILE)"
        )
    assert content.envelope is not None
    return content.envelope.derive(passphrase)


def _write_protected(
    path: Path,
    content: KekFile,
    inside: list[KekEntry],
    derived: bytes,
    credentials: tuple[KekEntry, ...] | list[KekEntry],
) -> None:
    old = content.envelope
    assert old is not None
    envelope = seal_envelope(
        render_entries(inside),
        tuple(e.ref for e in inside),
        derived,
        old.salt,
        n=old.n,
        r=old.r,
        p=old.p,
    )
    replace_text(path, KekFile((), envelope, tuple(credentials)).render())


def _current(ref: str) -> KeyStoreError:
    return KeyStoreError(
        f"{ref} is the current (sealing) key-encryption key: run `pica kek rotate` first"
    )


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialise changes to the KEK file between processes (two `pica kek` at once)."""
    target = path.resolve()
    with exclusive(target.with_name(f".{target.name}.lock")):
        yield


def _sync_directory(directory: Path) -> None:
    """Make the new directory entry durable (a crash must not lose the key once it was used)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

"""A protected KEK file and the store over it: sealed until the passphrase is given, credential
keys usable meanwhile, a wrong passphrase or an altered envelope refused, and an unsealed store
following a rotation of the protected file made by another process."""

from __future__ import annotations

from pathlib import Path

import pytest

from pica.adapters.keystore.kek_edits import add_key, protect, remove_key, unprotect
from pica.adapters.keystore.kek_file import (
    FileKeyStore,
    KeyStoreError,
    PassphraseRefused,
    read_entries,
    read_file,
)
from pica.adapters.keystore.kek_protection import ProtectionError, read_passphrase
from pica.errors import Sealed

PASSPHRASE = b"twelve characters or more"


@pytest.fixture
def kek_path(tmp_path: Path) -> Path:
    path = tmp_path / "kek"
    FileKeyStore.create(path)
    return path


def test_protect_wraps_the_keys_and_a_fresh_store_is_sealed(kek_path: Path) -> None:
    plain = FileKeyStore.load(kek_path)
    ca_key = plain.seal(b"ca key", "arn:ca")
    (old,) = read_entries(kek_path)
    credential = protect(kek_path, PASSPHRASE)

    text = kek_path.read_text()
    assert old.ref in text and credential.ref in text  # ids are listed in the clear
    content = read_file(kek_path)
    assert content.protected and content.envelope is not None
    assert content.envelope.refs == (old.ref,)
    with pytest.raises(KeyStoreError, match="protected"):
        read_entries(kek_path)

    sealed = FileKeyStore.load(kek_path)
    assert sealed.sealed and sealed.key_refs == {old.ref, credential.ref}
    with pytest.raises(Sealed):
        sealed.seal(b"x", "arn:other")
    with pytest.raises(Sealed):
        sealed.open(ca_key, "arn:ca")
    # Access-key secrets: sealed and opened while sealed, under the credential key.
    access = sealed.for_credentials()
    secret = access.seal(b"secret", "AKID")
    assert secret.key_ref == credential.ref
    assert access.open(secret, "AKID") == b"secret"

    with pytest.raises(PassphraseRefused):
        sealed.unseal(b"not the passphrase, no")
    assert sealed.sealed
    assert sealed.unseal(PASSPHRASE) is True
    assert not sealed.sealed
    assert sealed.open(ca_key, "arn:ca") == b"ca key"
    assert sealed.seal(b"y", "arn:y").key_ref == old.ref
    assert sealed.unseal(PASSPHRASE) is False  # already unsealed


def test_a_store_unsealed_once_follows_a_rotation_of_the_protected_file(kek_path: Path) -> None:
    protect(kek_path, PASSPHRASE)
    running = FileKeyStore.load(kek_path, PASSPHRASE)
    before = running.current_key_ref
    added = add_key(kek_path, PASSPHRASE)  # what `pica kek rotate` does in another process
    running.reload()
    assert running.current_key_ref == added.ref != before
    assert running.credential_key_ref == read_file(kek_path).credentials[-1].ref
    # A store that never had the passphrase stays sealed through the rotation.
    other = FileKeyStore.load(kek_path)
    other.reload()
    assert other.sealed


def test_rotation_and_retirement_of_a_protected_file_need_the_passphrase(kek_path: Path) -> None:
    credential = protect(kek_path, PASSPHRASE)
    with pytest.raises(KeyStoreError, match="--passphrase-file"):
        add_key(kek_path)
    with pytest.raises(PassphraseRefused):
        add_key(kek_path, b"wrong passphrase here")
    added = add_key(kek_path, PASSPHRASE)
    content = read_file(kek_path)
    assert content.envelope is not None and content.envelope.refs[-1] == added.ref
    old = content.envelope.refs[0]
    remove_key(kek_path, credential.ref)  # a credential key needs no passphrase
    with pytest.raises(KeyStoreError, match="current"):
        remove_key(kek_path, content.credentials[-1].ref)
    with pytest.raises(KeyStoreError, match="current"):
        remove_key(kek_path, added.ref, PASSPHRASE)
    remove_key(kek_path, old, PASSPHRASE)
    assert read_file(kek_path).refs == (added.ref, content.credentials[-1].ref)
    # With two credential keys, the newer one (it seals) is still never removed.
    add_key(kek_path, PASSPHRASE)
    newest = read_file(kek_path).credentials[-1].ref
    with pytest.raises(KeyStoreError, match="current"):
        remove_key(kek_path, newest)


def test_unprotect_keeps_the_sealing_key_last(kek_path: Path) -> None:
    store = FileKeyStore.load(kek_path)
    current = store.current_key_ref
    credential = protect(kek_path, PASSPHRASE)
    with pytest.raises(PassphraseRefused):
        unprotect(kek_path, b"wrong passphrase here")
    unprotect(kek_path, PASSPHRASE)
    assert [e.ref for e in read_entries(kek_path)] == [credential.ref, current]
    assert FileKeyStore.load(kek_path).current_key_ref == current


def test_an_altered_envelope_does_not_open(kek_path: Path) -> None:
    protect(kek_path, PASSPHRASE)
    text = kek_path.read_text()
    content = read_file(kek_path)
    assert content.envelope is not None
    (ref,) = content.envelope.refs
    forged = text.replace(f"keys={ref}", "keys=kek-0000000000000000")
    kek_path.write_text(forged)
    with pytest.raises(PassphraseRefused):
        FileKeyStore.load(kek_path, PASSPHRASE)
    kek_path.write_text(text.replace("n=131072", "n=65536"))
    with pytest.raises(PassphraseRefused):
        FileKeyStore.load(kek_path, PASSPHRASE)
    kek_path.write_text(text.replace("protected v1 scrypt", "protected v1 scrypt extra"))
    with pytest.raises(KeyStoreError, match="expected"):
        FileKeyStore.load(kek_path)
    credentials_only = "".join(
        line + "\n" for line in text.splitlines() if not line.startswith("protected")
    )
    kek_path.write_text(credentials_only)
    with pytest.raises(KeyStoreError, match="no protected one"):
        FileKeyStore.load(kek_path)


def test_passphrase_files(tmp_path: Path) -> None:
    path = tmp_path / "p"
    path.write_bytes(b"line one\n")
    path.chmod(0o600)
    assert read_passphrase(path) == b"line one"
    path.chmod(0o640)
    with pytest.raises(ProtectionError, match="chmod 600"):
        read_passphrase(path)
    path.write_bytes(b"\n")
    path.chmod(0o600)
    with pytest.raises(ProtectionError, match="empty"):
        read_passphrase(path)
    with pytest.raises(ProtectionError, match="cannot open"):
        read_passphrase(tmp_path / "absent")

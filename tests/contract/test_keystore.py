"""The `KeyStore` port's contract, on the KEK-file adapter.

A sealed secret opens only under the same context and only unaltered; the KEK file is private
(0600, and refused when others may read it), stable across re-opening, and ready for rotation.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
import threading
from pathlib import Path

import pytest

from pica.adapters.keystore.kek_file import FileKeyStore, KeyStoreError, key_ref_for
from pica.authority.model import SealedKey

CONTEXT = "arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/abc"
SECRET = b"-----BEGIN PRIVATE KEY-----\nnot really a key, but private all the same\n"


@pytest.fixture
def kek_path(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir(mode=0o700)
    return tmp_path / "data" / "kek"


def created(path: Path) -> FileKeyStore:
    """The store in the KEK file at `path`, creating the file first if it is missing."""
    FileKeyStore.create(path)
    return FileKeyStore.load(path)


def test_seal_open_round_trip(kek_path: Path) -> None:
    store = created(kek_path)
    sealed = store.seal(SECRET, CONTEXT)
    assert sealed.key_ref == store.current_key_ref
    assert store.open(sealed, CONTEXT) == SECRET
    assert store.open(store.seal(b"", CONTEXT), CONTEXT) == b""


def test_ciphertext_hides_the_plaintext_and_never_repeats(kek_path: Path) -> None:
    store = created(kek_path)
    first, second = store.seal(SECRET, CONTEXT), store.seal(SECRET, CONTEXT)
    assert SECRET not in first.ciphertext
    assert SECRET[:16] not in first.ciphertext
    assert first.ciphertext != second.ciphertext  # a fresh nonce every time


def test_another_context_does_not_open(kek_path: Path) -> None:
    store = created(kek_path)
    sealed = store.seal(SECRET, CONTEXT)
    with pytest.raises(KeyStoreError):
        store.open(sealed, CONTEXT + "x")


@pytest.mark.parametrize("position", [0, 11, 12, -1])  # nonce, nonce end, body, tag
def test_a_tampered_ciphertext_does_not_open(kek_path: Path, position: int) -> None:
    store = created(kek_path)
    sealed = store.seal(SECRET, CONTEXT)
    altered = bytearray(sealed.ciphertext)
    altered[position] ^= 0x01
    with pytest.raises(KeyStoreError):
        store.open(SealedKey(sealed.key_ref, bytes(altered)), CONTEXT)
    with pytest.raises(KeyStoreError):
        store.open(SealedKey(sealed.key_ref, sealed.ciphertext[:-1]), CONTEXT)


def test_an_unknown_key_ref_does_not_open(kek_path: Path) -> None:
    store = created(kek_path)
    sealed = store.seal(SECRET, CONTEXT)
    with pytest.raises(KeyStoreError, match="kek-0000000000000000"):
        store.open(SealedKey("kek-0000000000000000", sealed.ciphertext), CONTEXT)


def test_the_kek_file_is_created_private(kek_path: Path) -> None:
    created(kek_path)
    assert stat.S_IMODE(kek_path.stat().st_mode) == 0o600
    assert [p.name for p in kek_path.parent.iterdir()] == ["kek"]  # no temporary file left


def test_reopening_gives_the_same_key(kek_path: Path) -> None:
    first = created(kek_path)
    sealed = first.seal(SECRET, CONTEXT)
    again = created(kek_path)
    assert again.current_key_ref == first.current_key_ref
    assert again.open(sealed, CONTEXT) == SECRET


def test_concurrent_creation_agrees_on_one_key(kek_path: Path) -> None:
    refs: list[str] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            refs.append(created(kek_path).current_key_ref)
        except BaseException as error:
            errors.append(error)

    workers = [threading.Thread(target=create) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert len(set(refs)) == 1 and len(refs) == 8


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602])
def test_a_kek_file_others_can_reach_is_refused(kek_path: Path, mode: int) -> None:
    created(kek_path)
    os.chmod(kek_path, mode)
    with pytest.raises(KeyStoreError, match="chmod 600"):
        created(kek_path)


def test_rotation_seals_with_the_last_key_and_opens_with_all(kek_path: Path) -> None:
    old = created(kek_path)
    sealed_before = old.seal(SECRET, CONTEXT)
    new_key = secrets.token_bytes(32)
    with kek_path.open("a", encoding="ascii") as file:
        file.write(f"{key_ref_for(new_key)} {base64.b64encode(new_key).decode()}\n")
    rotated = created(kek_path)
    assert rotated.current_key_ref == key_ref_for(new_key) != old.current_key_ref
    assert rotated.open(sealed_before, CONTEXT) == SECRET
    sealed_after = rotated.seal(SECRET, CONTEXT)
    assert sealed_after.key_ref == key_ref_for(new_key)
    assert rotated.open(sealed_after, CONTEXT) == SECRET


@pytest.mark.parametrize(
    "content",
    [
        "",
        "# only a comment\n",
        "kek-0123456789abcdef not-base64!\n",
        f"kek-0123456789abcdef {base64.b64encode(bytes(32)).decode()}\n",  # label mismatch
        f"{key_ref_for(bytes(16))} {base64.b64encode(bytes(16)).decode()}\n",  # too short
        f"aes-{key_ref_for(bytes(32))[4:]} {base64.b64encode(bytes(32)).decode()}\n",
    ],
)
def test_a_malformed_kek_file_is_refused(kek_path: Path, content: str) -> None:
    descriptor = os.open(kek_path, os.O_CREAT | os.O_WRONLY, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(content)
    with pytest.raises(KeyStoreError):
        created(kek_path)


def test_loading_never_creates_a_kek_file(kek_path: Path) -> None:
    with pytest.raises(KeyStoreError, match=str(kek_path)):
        FileKeyStore.load(kek_path)
    assert not kek_path.exists()


def test_creating_never_replaces_a_kek_file(kek_path: Path) -> None:
    first = created(kek_path)
    before = kek_path.read_bytes()
    FileKeyStore.create(kek_path)
    assert kek_path.read_bytes() == before
    assert FileKeyStore.load(kek_path).key_refs == first.key_refs == {first.current_key_ref}


def test_a_kek_file_in_a_missing_folder_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "kek"
    with pytest.raises(KeyStoreError, match="cannot create"):
        FileKeyStore.create(path)
    assert not path.parent.exists()

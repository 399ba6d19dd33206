"""The KEK file's format with rotation: `created=` stamps, adding and removing keys atomically,
and a running store that learns of a rotation made by another process."""

from __future__ import annotations

import base64
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pica.adapters.keystore import kek_file
from pica.adapters.keystore.kek_edits import add_key, remove_key
from pica.adapters.keystore.kek_file import (
    FileKeyStore,
    KekEntry,
    KeyStoreError,
    key_ref_for,
    parse_entries,
    read_entries,
)
from pica.authority.model import SealedKey

KEY = bytes(range(32))
REF = key_ref_for(KEY)
B64 = base64.b64encode(KEY).decode()


@pytest.fixture
def kek_path(tmp_path: Path) -> Path:
    path = tmp_path / "kek"
    FileKeyStore.create(path)
    return path


def test_a_line_without_created_still_parses() -> None:
    (entry,) = parse_entries(f"# old file\n{REF} {B64}\n", "kek")
    assert entry == KekEntry(REF, KEY, None)


def test_created_round_trips() -> None:
    stamp = datetime(2026, 12, 7, 7, 0, 1, tzinfo=UTC)
    line = KekEntry(REF, KEY, stamp).line()
    assert line == f"{REF} {B64} created=2026-12-07T07:00:01Z"
    assert parse_entries(line, "kek") == [KekEntry(REF, KEY, stamp)]


@pytest.mark.parametrize(
    "tail", ["made=2026-12-07T07:00:01Z", "created=yesterday", "created=2026-12-07 extra"]
)
def test_a_malformed_third_field_is_refused(tail: str) -> None:
    with pytest.raises(KeyStoreError, match="kek:1"):
        parse_entries(f"{REF} {B64} {tail}\n", "kek")


def test_a_key_listed_twice_is_refused() -> None:
    with pytest.raises(KeyStoreError, match="twice"):
        parse_entries(f"{REF} {B64}\n{REF} {B64}\n", "kek")


def test_a_new_file_stamps_its_key(kek_path: Path) -> None:
    (entry,) = read_entries(kek_path)
    assert entry.created is not None
    assert abs((datetime.now(UTC) - entry.created).total_seconds()) < 60


def test_add_key_appends_a_sealing_key_atomically_and_privately(kek_path: Path) -> None:
    (first,) = read_entries(kek_path)
    added = add_key(kek_path)
    assert [e.ref for e in read_entries(kek_path)] == [first.ref, added.ref]
    assert stat.S_IMODE(kek_path.stat().st_mode) == 0o600
    assert FileKeyStore.load(kek_path).current_key_ref == added.ref
    leftovers = {p.name for p in kek_path.parent.iterdir()} - {"kek", ".kek.lock"}
    assert leftovers == set()


def test_remove_key_refuses_the_sealing_and_unknown_keys(kek_path: Path) -> None:
    (first,) = read_entries(kek_path)
    with pytest.raises(KeyStoreError, match="current"):
        remove_key(kek_path, first.ref)
    with pytest.raises(KeyStoreError, match="kek-0000"):
        remove_key(kek_path, "kek-0000000000000000")
    added = add_key(kek_path)
    remove_key(kek_path, first.ref)
    assert [e.ref for e in read_entries(kek_path)] == [added.ref]


def test_a_symlinked_kek_file_keeps_its_link(tmp_path: Path, kek_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(kek_path)
    add_key(link)
    assert link.is_symlink() and len(read_entries(kek_path)) == 2


def test_a_running_store_opens_what_a_newer_key_sealed(kek_path: Path) -> None:
    running = FileKeyStore.load(kek_path)
    add_key(kek_path)
    other = FileKeyStore.load(kek_path)  # another process, after the rotation
    sealed = other.seal(b"secret", "ctx")
    assert sealed.key_ref not in running.key_refs
    assert running.open(sealed, "ctx") == b"secret"  # re-read the file on the unknown id


def test_a_running_store_seals_under_the_new_key_within_the_interval(
    kek_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kek_file, "RELOAD_INTERVAL_SECONDS", 0.0)
    running = FileKeyStore.load(kek_path)
    old = running.current_key_ref
    sealed_before = running.seal(b"x", "ctx")
    added = add_key(kek_path)
    assert running.seal(b"x", "ctx").key_ref == added.ref
    remove_key(kek_path, old)
    # A retired key stays in a running process's memory: what it cached still opens.
    assert running.open(sealed_before, "ctx") == b"x"
    assert FileKeyStore.load(kek_path).key_refs == {added.ref}
    with pytest.raises(KeyStoreError):
        FileKeyStore.load(kek_path).open(sealed_before, "ctx")


def test_an_unreadable_file_during_reload_keeps_the_store_working(
    kek_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kek_file, "RELOAD_INTERVAL_SECONDS", 0.0)
    running = FileKeyStore.load(kek_path)
    sealed = running.seal(b"x", "ctx")
    os.chmod(kek_path, 0o644)  # refused on read
    assert running.open(sealed, "ctx") == b"x"
    assert running.seal(b"y", "ctx").key_ref == sealed.key_ref
    with pytest.raises(KeyStoreError):
        running.open(SealedKey("kek-0000000000000000", sealed.ciphertext), "ctx")

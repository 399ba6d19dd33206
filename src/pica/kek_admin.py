"""`pica kek list | rotate | retire | protect | unprotect` and `pica unseal`.

Rotation (see docs/decisions.md): add a fresh key as the last line of the KEK file (it seals from
now on: running servers notice the file changed within `RELOAD_INTERVAL_SECONDS`), then re-wrap
every secret sealed under any other key in batches of short write transactions while servers
keep serving (`adapters/storage/sealed_secrets.py`), and check once more after every server
must have switched. A rotation cut short is resumed by running it again: while any secret is
still sealed under a non-current key, `rotate` finishes that re-wrap instead of adding a key.
`retire` then removes an old key from the file, and refuses while anything is sealed under it.

Sealed mode: `protect` wraps the keys under a passphrase (`kek_protection.py`) and moves the
access-key secrets under a credential key kept in the clear, so that SigV4 still authenticates
while pica is sealed; `unprotect` undoes it; `pica unseal` gives the passphrase to every process
of the running server (`pica.unseal_channel`). A protected file's rotation and retirement need
the passphrase too (`--passphrase-file`, or kek_passphrase_file).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pica.settings import Settings
from pica.startup import StartupError

_KIND_WORDS = {"ca_keys": "CA keys", "access_keys": "access-key secrets", "acm_keys": "ACM keys"}
_MAX_PASSES = 20
_PASSPHRASE_HELP = "file holding the KEK passphrase (default: kek_passphrase_file)"


def add_kek_parser(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    """The `kek` and `unseal` commands, on the CLI's sub-command parsers."""
    kek = commands.add_parser("kek", help="list, rotate, retire and protect key-encryption keys")
    actions = kek.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="KEK ids, when made, and how many secrets each seals")
    rotate = actions.add_parser(
        "rotate", help="add a new KEK and re-wrap every sealed secret under it (server may run)"
    )
    rotate.add_argument("--batch", type=int, default=50, help="secrets per write transaction")
    retire = actions.add_parser("retire", help="remove an old KEK that nothing uses any more")
    retire.add_argument("kek_id", help="the id `pica kek list` shows (kek-...)")
    protect = actions.add_parser(
        "protect", help="wrap the KEK file under a passphrase: pica then starts sealed"
    )
    unprotect = actions.add_parser("unprotect", help="write the KEK file's keys back in the clear")
    for sub in (listing, rotate, retire, protect, unprotect):
        add_data_dir(sub)
        sub.add_argument("--json", action="store_true", help="machine-readable output")
    for sub in (rotate, retire):
        sub.add_argument("--passphrase-file", default=None, help=_PASSPHRASE_HELP)
    for sub in (protect, unprotect):
        sub.add_argument("--passphrase-file", required=True, help="file holding the passphrase")

    unseal = commands.add_parser(
        "unseal", help="give a sealed, running pica serve its KEK passphrase (all workers)"
    )
    unseal.add_argument("--passphrase-file", required=True, help="file holding the passphrase")
    add_data_dir(unseal)
    unseal.add_argument("--json", action="store_true", help="machine-readable output")


def run_kek(args: argparse.Namespace, settings: Settings) -> int:
    from pica.errors import Sealed
    from pica.startup import open_installation

    passphrase_file = getattr(args, "passphrase_file", None)
    if passphrase_file is not None and args.action in ("rotate", "retire"):
        settings = dataclasses.replace(settings, kek_passphrase_file=Path(passphrase_file))
    store, key_store = open_installation(settings, initialise=False)
    try:
        if args.action == "list":
            return _list(args, settings, store)
        if args.action == "protect":
            return _protect(args, settings, store, key_store)
        if args.action == "unprotect":
            return _unprotect(args, settings)
        if key_store.sealed:
            raise StartupError(
                f"the KEK file {settings.resolved_kek_file} is protected by a passphrase: "
                "give it with --passphrase-file (or kek_passphrase_file)"
            )
        if args.action == "rotate":
            return _rotate(args, settings, store, key_store)
        return _retire(args, settings, store)
    except Sealed as error:
        raise StartupError(error.message) from error
    finally:
        store.dispose()


def run_unseal(args: argparse.Namespace, settings: Settings) -> int:
    """`pica unseal`: check the passphrase against the KEK file, then send it to every process."""
    from pica.adapters.keystore.kek_file import PassphraseRefused, read_file
    from pica.unseal_channel import socket_folder, unseal_all

    path = settings.resolved_kek_file
    content = read_file(path)
    if content.envelope is None:
        raise StartupError(
            f"the KEK file {path} is not protected by a passphrase: nothing to unseal"
        )
    passphrase = _passphrase(Path(args.passphrase_file))
    try:
        content.opened(content.envelope.derive(passphrase), str(path))
    except PassphraseRefused as error:
        raise StartupError(
            f"the passphrase in {args.passphrase_file} does not open {path}"
        ) from error
    answers = unseal_all(settings.data_dir, passphrase)
    if not answers:
        raise StartupError(
            f"no running pica serve listens in {socket_folder(settings.data_dir)}: start "
            f"`pica serve --data-dir {settings.data_dir}` (it starts sealed), then unseal it"
        )
    refused = [a for a in answers if a.result == "refused"]
    lines = [
        f"worker {a.pid}: {a.result.replace('-', ' ')}" + (f" ({a.message})" if a.message else "")
        for a in answers
    ]
    _emit(
        args,
        {"Processes": [dataclasses.asdict(a) for a in answers]},
        "\n".join(lines),
    )
    return 1 if refused else 0


def _passphrase(path: Path) -> bytes:
    from pica.adapters.keystore.kek_protection import ProtectionError, read_passphrase

    try:
        return read_passphrase(path)
    except ProtectionError as error:
        raise StartupError(str(error)) from error


def _settings_passphrase(settings: Settings) -> bytes | None:
    """The passphrase of kek_passphrase_file (or --passphrase-file), if one is given."""
    path = settings.kek_passphrase_file
    return None if path is None else _passphrase(path)


def _list(args: argparse.Namespace, settings: Settings, store: Any) -> int:
    from pica.adapters.keystore.kek_file import read_file
    from pica.adapters.storage.sealed_secrets import usage_by_key

    content = read_file(settings.resolved_kek_file)
    usage = usage_by_key(store)
    created = {e.ref: e.created for e in (*content.entries, *content.credentials)}
    if content.envelope is None:
        keys = [(e.ref, "keys") for e in content.entries]
    else:
        keys = [(ref, "keys") for ref in content.envelope.refs]
        keys += [(e.ref, "credentials") for e in content.credentials]
    # The last key of each role seals: CA and ACM keys, and (protected) access-key secrets.
    current_refs = set({role: ref for ref, role in keys}.values())
    rows = []
    lines = ["KEK_ID                CREATED                    CA_KEYS  ACCESS_KEYS  ACM_KEYS"]
    for ref, role in keys:
        counts = usage.get(ref, {})
        made = created.get(ref)
        rows.append(
            {
                "KekId": ref,
                "CreatedAt": made.isoformat() if made else None,
                "Current": ref in current_refs,
                "Role": role,
                "InUse": {kind: counts.get(kind, 0) for kind in _KIND_WORDS},
            }
        )
        notes = []
        if ref in current_refs:
            notes.append("current")
        if role == "credentials":
            notes.append("credentials, in the clear")
        elif content.protected:
            notes.append("protected")
        lines.append(
            f"{ref:<21} {made.isoformat() if made else '-':<26} {counts.get('ca_keys', 0):>7}  "
            f"{counts.get('access_keys', 0):>11}  {counts.get('acm_keys', 0):>8}"
            + (f"  ({', '.join(notes)})" if notes else "")
        )
    _emit(args, {"Protected": content.protected, "Keks": rows}, "\n".join(lines))
    return 0


def _protect(args: argparse.Namespace, settings: Settings, store: Any, key_store: Any) -> int:
    from pica.adapters.keystore.kek_edits import protect
    from pica.adapters.keystore.kek_protection import ProtectionError, check_passphrase
    from pica.unseal_channel import unseal_all

    passphrase = _passphrase(Path(args.passphrase_file))
    try:
        check_passphrase(passphrase, args.passphrase_file)
    except ProtectionError as error:
        raise StartupError(str(error)) from error
    path = settings.resolved_kek_file
    credential = protect(path, passphrase)
    key_store.unseal(passphrase)  # this process follows the file now protected
    moved = _rewrap(store, key_store, {"access_keys": credential.ref}, batch=50)
    told = unseal_all(settings.data_dir, passphrase)
    text = [
        f"protected {path} under the passphrase in {args.passphrase_file} (scrypt)",
        f"moved {moved} access-key secrets under the credential key {credential.ref}, kept in "
        "the clear so that API calls authenticate while pica is sealed",
    ]
    if told:
        text.append(f"told {len(told)} running pica processes the passphrase")
    text.append(
        "a pica started without the passphrase now starts sealed: unseal it with "
        f"`pica unseal --data-dir {settings.data_dir} --passphrase-file <file>`, or start it "
        "with PICA_KEK_PASSPHRASE_FILE. Keep the passphrase safe: without it no CA key opens."
    )
    _emit(
        args,
        {"Protected": True, "CredentialKekId": credential.ref, "Rewrapped": moved},
        "\n".join(text),
    )
    return 0


def _unprotect(args: argparse.Namespace, settings: Settings) -> int:
    from pica.adapters.keystore.kek_edits import unprotect
    from pica.adapters.keystore.kek_file import PassphraseRefused

    path = settings.resolved_kek_file
    try:
        unprotect(path, _passphrase(Path(args.passphrase_file)))
    except PassphraseRefused as error:
        raise StartupError(
            f"the passphrase in {args.passphrase_file} does not open {path}"
        ) from error
    _emit(
        args,
        {"Protected": False},
        f"wrote the keys of {path} back in the clear (mode 0600): pica no longer starts sealed",
    )
    return 0


def _targets(key_store: Any) -> dict[str, str]:
    """Where each kind of secret belongs now: access keys under the credential key."""
    current = key_store.current_key_ref
    return {"ca_keys": current, "acm_keys": current, "access_keys": key_store.credential_key_ref}


def _rewrap(store: Any, key_store: Any, targets: dict[str, str], *, batch: int) -> int:
    from pica.adapters.storage.sealed_secrets import rewrap_pass

    def rewrap(kind: str, old: Any, context: str) -> Any:
        return key_store.seal_under(targets[kind], key_store.open(old, context), context)

    return rewrap_pass(store, targets, rewrap, batch=batch)


def _stale(usage: dict[str, dict[str, int]], targets: dict[str, str]) -> dict[str, dict[str, int]]:
    """{KEK id: {kind: count}} of the secrets not under their kind's target key."""
    left: dict[str, dict[str, int]] = {}
    for ref, kinds in usage.items():
        for kind, count in kinds.items():
            if count and targets.get(kind) != ref:
                left.setdefault(ref, {})[kind] = count
    return left


def _rotate(args: argparse.Namespace, settings: Settings, store: Any, key_store: Any) -> int:
    from pica.adapters.keystore.kek_edits import add_key
    from pica.adapters.keystore.kek_file import RELOAD_INTERVAL_SECONDS
    from pica.adapters.storage.sealed_secrets import usage_by_key

    if args.batch < 1:
        raise StartupError("--batch must be at least 1")
    path = settings.resolved_kek_file
    targets = _targets(key_store)
    added = None
    if not _stale(usage_by_key(store), targets):
        added = add_key(path, _settings_passphrase(settings)).ref
        key_store.reload()
        targets = _targets(key_store)
    current = targets["ca_keys"]
    switched_by = time.monotonic() + RELOAD_INTERVAL_SECONDS + 1.0

    total = 0
    for _ in range(_MAX_PASSES):
        if _targets(key_store) != targets:
            raise StartupError("the KEK file changed during the rotation (another rotate?)")
        swapped = _rewrap(store, key_store, targets, batch=args.batch)
        total += swapped
        if swapped == 0 and time.monotonic() >= switched_by:
            break
        if swapped == 0:
            time.sleep(max(0.0, switched_by - time.monotonic()))
    left = _stale(usage_by_key(store), targets)
    in_use = set(usage_by_key(store))
    retirable = sorted(
        ref for ref in _file_refs(settings) if ref not in targets.values() and ref not in in_use
    )
    text = [
        f"added {added}; it seals from now on" if added else f"resumed the rotation to {current}"
    ]
    text.append(f"re-wrapped {total} sealed secrets under {_listed(set(targets.values()))}")
    if left:
        text.append(
            f"still sealed under older keys: {_describe(left)}; run `pica kek rotate` again"
        )
    for ref in retirable:
        text.append(f"{ref} seals nothing now: pica kek retire {ref}")
    _emit(
        args,
        {"AddedKekId": added, "CurrentKekId": current, "Rewrapped": total, "Retirable": retirable},
        "\n".join(text),
    )
    return 1 if left else 0


def _retire(args: argparse.Namespace, settings: Settings, store: Any) -> int:
    from pica.adapters.keystore.kek_edits import remove_key
    from pica.adapters.storage.sealed_secrets import usage_by_key

    ref = args.kek_id
    used = usage_by_key(store).get(ref)
    if used:
        raise StartupError(
            f"{ref} still seals {_describe({ref: used})}: run `pica kek rotate` first"
        )
    remove_key(settings.resolved_kek_file, ref, _settings_passphrase(settings))
    _emit(args, {"RetiredKekId": ref}, f"retired {ref}")
    return 0


def _file_refs(settings: Settings) -> tuple[str, ...]:
    from pica.adapters.keystore.kek_file import read_file

    return read_file(settings.resolved_kek_file).refs


def _listed(refs: set[str]) -> str:
    return " and ".join(sorted(refs))


def _describe(usage: dict[str, dict[str, int]]) -> str:
    counts: dict[str, int] = {}
    for per_kind in usage.values():
        for kind, count in per_kind.items():
            counts[kind] = counts.get(kind, 0) + count
    return ", ".join(f"{count} {_KIND_WORDS[kind]}" for kind, count in counts.items() if count)


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2) if args.json else text)

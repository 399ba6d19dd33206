"""`pica kek list | rotate | retire`: the key-encryption keys of an installation, rotated live.

Rotation (see docs/decisions.md): add a fresh key as the last line of the KEK file (it seals from
now on: running servers notice the file changed within `RELOAD_INTERVAL_SECONDS`), then re-wrap
every secret sealed under any other key in batches of short write transactions while servers
keep serving (`adapters/storage/sealed_secrets.py`), and check once more after every server
must have switched. A rotation cut short is resumed by running it again: while any secret is
still sealed under a non-current key, `rotate` finishes that re-wrap instead of adding a key.
`retire` then removes an old key from the file, and refuses while anything is sealed under it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from pica.settings import Settings
from pica.startup import StartupError

_KIND_WORDS = {"ca_keys": "CA keys", "access_keys": "access-key secrets", "acm_keys": "ACM keys"}
_MAX_PASSES = 20


def add_kek_parser(commands: Any, add_data_dir: Callable[[argparse.ArgumentParser], None]) -> None:
    """The `kek` command and its actions, on the CLI's sub-command parsers."""
    kek = commands.add_parser("kek", help="list, rotate and retire key-encryption keys")
    actions = kek.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="KEK ids, when made, and how many secrets each seals")
    rotate = actions.add_parser(
        "rotate", help="add a new KEK and re-wrap every sealed secret under it (server may run)"
    )
    rotate.add_argument("--batch", type=int, default=50, help="secrets per write transaction")
    retire = actions.add_parser("retire", help="remove an old KEK that nothing uses any more")
    retire.add_argument("kek_id", help="the id `pica kek list` shows (kek-...)")
    for sub in (listing, rotate, retire):
        add_data_dir(sub)
        sub.add_argument("--json", action="store_true", help="machine-readable output")


def run_kek(args: argparse.Namespace, settings: Settings) -> int:
    from pica.startup import open_installation

    store, key_store = open_installation(settings, initialise=False)
    try:
        if args.action == "list":
            return _list(args, settings, store)
        if args.action == "rotate":
            return _rotate(args, settings, store, key_store)
        return _retire(args, settings, store)
    finally:
        store.dispose()


def _list(args: argparse.Namespace, settings: Settings, store: Any) -> int:
    from pica.adapters.keystore.kek_file import read_entries
    from pica.adapters.storage.sealed_secrets import usage_by_key

    entries = read_entries(settings.resolved_kek_file)
    usage = usage_by_key(store)
    rows = [
        {
            "KekId": entry.ref,
            "CreatedAt": entry.created.isoformat() if entry.created else None,
            "Current": index == len(entries) - 1,
            "InUse": {kind: usage.get(entry.ref, {}).get(kind, 0) for kind in _KIND_WORDS},
        }
        for index, entry in enumerate(entries)
    ]
    lines = ["KEK_ID                CREATED                    CA_KEYS  ACCESS_KEYS  ACM_KEYS"]
    for index, entry in enumerate(entries):
        counts = usage.get(entry.ref, {})
        created = entry.created.isoformat() if entry.created else "-"
        lines.append(
            f"{entry.ref:<21} {created:<26} {counts.get('ca_keys', 0):>7}  "
            f"{counts.get('access_keys', 0):>11}  {counts.get('acm_keys', 0):>8}"
            + ("  (current)" if index == len(entries) - 1 else "")
        )
    _emit(args, {"Keks": rows}, "\n".join(lines))
    return 0


def _rotate(args: argparse.Namespace, settings: Settings, store: Any, key_store: Any) -> int:
    from pica.adapters.keystore.kek_file import RELOAD_INTERVAL_SECONDS, add_key
    from pica.adapters.storage.sealed_secrets import rewrap_pass, usage_by_key

    if args.batch < 1:
        raise StartupError("--batch must be at least 1")
    path = settings.resolved_kek_file
    current = key_store.current_key_ref
    stale = sorted(ref for ref in usage_by_key(store) if ref != current)
    added = None
    if not stale:
        added = add_key(path).ref
        key_store.reload()
        current = key_store.current_key_ref
    switched_by = time.monotonic() + RELOAD_INTERVAL_SECONDS + 1.0

    def rewrap(old: Any, context: str) -> Any:
        return key_store.seal(key_store.open(old, context), context)

    total = 0
    for _ in range(_MAX_PASSES):
        if key_store.current_key_ref != current:
            raise StartupError("the KEK file changed during the rotation (another rotate?)")
        swapped = rewrap_pass(store, current, rewrap, batch=args.batch)
        total += swapped
        if swapped == 0 and time.monotonic() >= switched_by:
            break
        if swapped == 0:
            time.sleep(max(0.0, switched_by - time.monotonic()))
    left = {ref: n for ref, n in usage_by_key(store).items() if ref != current}
    retirable = sorted(ref for ref in _file_refs(settings) if ref != current and ref not in left)
    text = [
        f"added {added}; it seals from now on" if added else f"resumed the rotation to {current}"
    ]
    text.append(f"re-wrapped {total} sealed secrets under {current}")
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
    from pica.adapters.keystore.kek_file import remove_key
    from pica.adapters.storage.sealed_secrets import usage_by_key

    ref = args.kek_id
    used = usage_by_key(store).get(ref)
    if used:
        raise StartupError(
            f"{ref} still seals {_describe({ref: used})}: run `pica kek rotate` first"
        )
    remove_key(settings.resolved_kek_file, ref)
    _emit(args, {"RetiredKekId": ref}, f"retired {ref}")
    return 0


def _file_refs(settings: Settings) -> list[str]:
    from pica.adapters.keystore.kek_file import read_entries

    return [entry.ref for entry in read_entries(settings.resolved_kek_file)]


def _describe(usage: dict[str, dict[str, int]]) -> str:
    counts: dict[str, int] = {}
    for per_kind in usage.values():
        for kind, count in per_kind.items():
            counts[kind] = counts.get(kind, 0) + count
    return ", ".join(f"{count} {_KIND_WORDS[kind]}" for kind, count in counts.items() if count)


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2) if args.json else text)

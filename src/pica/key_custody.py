"""Which store makes and uses CA keys (`key_store`), checked against what the database holds.

`file` (the default): CA keys sealed under the KEK file (`adapters/keystore/file_signer.py`).
`pkcs11`: CA keys generated and used in a PKCS#11 token (`adapters/keystore/pkcs11_token.py`);
CAs created before the switch keep their KEK-sealed keys, which the file store still opens.
Either way the KEK file stays: access-key secrets and ACM keys (which must be exportable) are
sealed under it.

A start that cannot work stops with one line (`StartupError`): a database whose CA keys are in a
token while `key_store = file`, or in another token than the configured one; a missing module,
absent token or wrong PIN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pica.adapters.keystore import TOKEN_KEY_REF_PREFIX, is_token_ref
from pica.adapters.keystore.file_signer import FileSigningKeyStore
from pica.authority.ports import KeyStore, SigningKeyStore
from pica.settings import Settings
from pica.startup import StartupError

if TYPE_CHECKING:
    from pica.adapters.storage.sql_store import SqlStore


def open_signing_key_store(
    settings: Settings, store: SqlStore, key_store: KeyStore
) -> SigningKeyStore:
    """The signing key store `settings` names, over the KEK-file store `key_store`."""
    from pica.adapters.storage.sql_store import DatabaseUnavailable

    file_store = FileSigningKeyStore(key_store)
    try:
        tokens = sorted(
            ref[len(TOKEN_KEY_REF_PREFIX) :] for ref in store.key_refs_in_use() if is_token_ref(ref)
        )
    except DatabaseUnavailable as error:
        raise StartupError(str(error)) from error
    if settings.key_store == "file":
        if tokens:
            raise StartupError(
                f"the database holds CA keys in the PKCS#11 token {_listed(tokens)}: set "
                "key_store = pkcs11 (PICA_KEY_STORE) and the pkcs11_* settings for that token"
            )
        return file_store
    from pica.adapters.keystore.pkcs11_token import (
        Pkcs11SigningKeyStore,
        TokenConfig,
        TokenUnavailable,
    )

    assert settings.pkcs11_module is not None and settings.pkcs11_token_label is not None
    label = settings.pkcs11_token_label
    others = [token for token in tokens if token != label]
    if others:
        raise StartupError(
            f"the database holds CA keys in the PKCS#11 token {_listed(others)}, not in the "
            f"configured {label!r} (pkcs11_token_label, PICA_PKCS11_TOKEN_LABEL)"
        )
    config = TokenConfig(settings.pkcs11_module, label, _pin(settings))
    try:
        return Pkcs11SigningKeyStore(config, file_store)
    except TokenUnavailable as error:
        raise StartupError(str(error)) from error


def _pin(settings: Settings) -> str:
    if settings.pkcs11_pin is not None:
        return settings.pkcs11_pin
    path = settings.pkcs11_pin_file
    assert path is not None
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise StartupError(f"cannot read the PKCS#11 PIN file {path}: {reason}") from error


def _listed(labels: list[str]) -> str:
    return ", ".join(repr(label) for label in labels)

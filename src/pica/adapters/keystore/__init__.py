"""Key-store adapters: seal secrets so no CA key or access-key secret is stored in plaintext,
and make and use CA keys (the encrypted-file store, or a PKCS#11 token).

A `*_key_ref` column names what opens its row's secret: a KEK id (`kek-...`) for the file
store, or `pkcs11:<token label>` for a CA key held in a token (`is_token_ref`).
"""

TOKEN_KEY_REF_PREFIX = "pkcs11:"


def is_token_ref(key_ref: str) -> bool:
    """Whether a stored key reference names a PKCS#11 token rather than a KEK."""
    return key_ref.startswith(TOKEN_KEY_REF_PREFIX)

"""Opaque pagination tokens: the position after which the next page starts.

Tokens are base64url JSON so they survive any client; a token pica did not mint, or one minted
for another listing, is InvalidNextToken rather than silently restarting the listing.
"""

from __future__ import annotations

import base64
import binascii
import json

from pica.errors import InvalidNextToken


def encode_token(kind: str, position: str) -> str:
    raw = json.dumps({"k": kind, "p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_token(kind: str, token: str | None) -> str | None:
    if token is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        if (
            not isinstance(data, dict)
            or data.get("k") != kind
            or not isinstance(data.get("p"), str)
        ):
            raise ValueError("not a pica token")
        return str(data["p"])
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise InvalidNextToken("The NextToken is not valid.") from exc

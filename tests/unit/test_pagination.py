"""pagination: NextTokens pica mints, and the ones it refuses."""

from __future__ import annotations

import pytest

from pica.authority.pagination import decode_token, encode_token
from pica.errors import InvalidNextToken

CA = (
    "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/"
    "12345678-1234-1234-1234-123456789012"
)


def test_pagination_tokens_round_trip_and_reject_foreign_ones() -> None:
    assert decode_token("ca", encode_token("ca", CA)) == CA
    assert decode_token("ca", None) is None
    for token in ["garbage!!", encode_token("tags", "1"), "eyJrIjoxfQ=="]:
        with pytest.raises(InvalidNextToken):
            decode_token("ca", token)


@pytest.mark.parametrize("position", ["", "a/b+c", "ü", CA * 3])
def test_any_position_survives_the_token(position: str) -> None:
    token = encode_token("tags", position)
    assert token.isascii() and "/" not in token and "+" not in token  # base64url
    assert decode_token("tags", token) == position

"""The verifier's own canonical request and signature against botocore's ``SigV4Auth``.

pica.wire.awsjson.sigv4 builds the SigV4 canonical request itself (building a botocore
``AWSRequest`` per request was too costly). These tests hold it to botocore's answers over
generated requests: odd methods, paths (percent-escapes, dots, double slashes, characters
outside the unreserved set), query strings (repeated keys, empty values and pairs, unsorted,
special characters), header sets (mixed case, repeated names, whitespace runs, leading and
trailing spaces, ``x-amz-content-sha256``) and bodies.

Two oracles: botocore's stock signer, which picks the signed headers itself (what a client
signs), and botocore's signer told to use exactly the client's SignedHeaders list, which is
what the verifier did before (it covers lists botocore would not make: a name listed twice).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pica.wire.awsjson.sigv4 import (
    SIGNATURE_MISMATCH_MESSAGE,
    AuthenticationError,
    SigV4Verifier,
    canonical_request,
    signature,
)

ACCESS_KEY = "AKIDPICAEXAMPLE00001"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ACCOUNT = "123456789012"
REGION = "us-east-1"
SERVICE = "acm-pca"
SIGNED_AT = dt.datetime(2026, 12, 7, 12, 0, 0, tzinfo=dt.UTC)
AMZ_DATE = "20261207T120000Z"
URL_BASE = "http://pica.invalid"
# Headers the strategies set themselves (or that a verifier treats specially).
RESERVED = {"authorization", "host", "x-amz-date", "x-amz-target", "date", "x-amz-content-sha256"}

# Whitespace as ``str.split`` sees it within Latin-1 (the HTTP layer decodes headers as Latin-1),
# besides ordinary characters.
WHITESPACE = " \t\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0"
LATIN1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f")
HEADER_VALUE = st.lists(
    st.one_of(st.sampled_from([*WHITESPACE, "  ", "\t \t", ",", ";", "="]), LATIN1),
    max_size=20,
).map("".join)
TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&'*+^`|~"
HEADER_NAME = (
    st.text(st.sampled_from(TOKEN_CHARS), min_size=1, max_size=12)
    .filter(lambda name: name.lower() not in RESERVED)
    .flatmap(lambda name: st.sampled_from([name, name.lower(), name.upper(), name.title()]))
)
PATH_PIECE = st.one_of(
    st.sampled_from(
        [
            *["/", "//", ".", "..", "./", "../", "%2F", "%2f", "%20", "%41", "%", "%%", "%zz"],
            *["~", "-", "_", "+", "=", "&", ";", ":", "@", "!", "$", "'", "(", ")", "*", ","],
            *[" ", "[", "]", "{", "}", "|", "\\", "^", "`", '"', "<", ">", "é", "\xff", "\t"],
            *["#", "?"],
        ]
    ),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF), max_size=4),
)
PATH = st.lists(PATH_PIECE, max_size=10).map(lambda pieces: "/" + "".join(pieces))
QUERY_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["%20", "%3D", "%26", "%", "+", " ", "~", "é", "=", "a", "A", "b", "1"]),
        st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF), max_size=3),
    ),
    max_size=4,
).map(lambda pieces: "".join(pieces).replace("&", "").replace("#", ""))
QUERY_PAIR = st.one_of(
    st.tuples(QUERY_TEXT, QUERY_TEXT).map(lambda pair: f"{pair[0]}={pair[1]}"),
    QUERY_TEXT,  # a key without "="
    st.just(""),  # an empty pair: "a=1&&b=2"
)
QUERY = st.one_of(
    st.just(""),
    st.lists(QUERY_PAIR, max_size=6).map("&".join),
    # the same key repeated with values out of order
    st.lists(QUERY_TEXT, min_size=2, max_size=4).map(
        lambda values: "&".join(f"k={value}" for value in values)
    ),
)
METHOD = st.sampled_from(["POST", "GET", "PUT", "DELETE", "HEAD", "PATCH", "post", "Get"])


def _with_repeats(pairs: list[tuple[str, str]]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """``pairs`` and some of their names again, spelled in another case: repeated headers."""
    if not pairs:
        return st.just(pairs)
    again = st.sampled_from(pairs).flatmap(
        lambda pair: st.tuples(st.sampled_from([pair[0].upper(), pair[0]]), HEADER_VALUE)
    )
    return st.lists(again, max_size=3).map(lambda repeats: pairs + repeats)


EXTRA_HEADERS = st.lists(st.tuples(HEADER_NAME, HEADER_VALUE), max_size=8).flatmap(_with_repeats)
BODY = st.one_of(st.just(b""), st.binary(max_size=200), st.just(b'{"MaxResults": 10}'))


@st.composite
def requests(draw: Any) -> tuple[str, str, str, list[tuple[str, str]], bytes]:
    """``(method, path, query, headers, body)`` as the HTTP layer would hand them over."""
    body = draw(BODY)
    headers = [
        (draw(st.sampled_from(["Host", "host", "HOST"])), draw(HEADER_VALUE) or "pica:8443"),
        (draw(st.sampled_from(["X-Amz-Target", "x-amz-target"])), draw(HEADER_VALUE)),
        (draw(st.sampled_from(["X-Amz-Date", "x-amz-date"])), AMZ_DATE),
        *draw(EXTRA_HEADERS),
    ]
    content_sha256 = draw(
        st.sampled_from(["none", "exact", "padded", "other", "twice"]), label="content_sha256"
    )
    digest = hashlib.sha256(body).hexdigest()
    if content_sha256 == "exact":
        headers.append(("X-Amz-Content-SHA256", digest))
    elif content_sha256 == "padded":
        headers.append(("x-amz-content-sha256", f"  {digest}\t"))
    elif content_sha256 == "other":
        headers.append(("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"))
    elif content_sha256 == "twice":
        headers += [("X-Amz-Content-SHA256", digest), ("x-amz-content-sha256", "e3b0 c442")]
    headers = draw(st.permutations(headers))
    return draw(METHOD), draw(PATH), draw(QUERY), headers, body


def botocore_request(
    method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
) -> AWSRequest:
    url = f"{URL_BASE}{path}?{query}" if query else f"{URL_BASE}{path}"
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        request.headers[name] = value  # HTTPHeaders appends: repeated headers are kept
    request.context["timestamp"] = AMZ_DATE
    return request


def stock_signer() -> SigV4Auth:
    return SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), SERVICE, REGION)


class ClientSignedHeadersOnly(SigV4Auth):  # type: ignore[misc]  # botocore is untyped
    """botocore's signer over exactly the headers on the request (the verifier's old oracle)."""

    def headers_to_sign(self, request: Any) -> Any:
        return request.headers


def by_name(headers: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name.lower(), []).append(value)
    return grouped


def signed_pairs(headers: list[tuple[str, str]], signed: list[str]) -> list[tuple[str, str]]:
    """What ``SigV4Verifier.verify`` hands `canonical_request` for a SignedHeaders list."""
    grouped = by_name(headers)
    return [(name, value) for name in signed for value in grouped[name]]


def stock_signed_headers(request: AWSRequest) -> list[str]:
    return stock_signer().signed_headers(stock_signer().headers_to_sign(request)).split(";")


@settings(max_examples=1500, deadline=None, database=None)
@given(requests())
@example(("POST", "/", "", [("Host", "h"), ("X-Amz-Target", "t"), ("X-Amz-Date", AMZ_DATE)], b""))
@example(
    (
        "GET",
        "/a/./b/../../c//d/%2e%2E/%7E~/",
        "b=2&a=&a&&c=%20&a=1",
        [
            ("Host", "  h  "),
            ("X-Amz-Target", "a  b\t\tc "),
            ("X-Amz-Date", AMZ_DATE),
            ("X-Foo", " one "),
            ("x-foo", "two  words"),
            ("X-FOO", ""),
        ],
        b"body",
    )
)
def test_canonical_request_and_signature_match_botocores_signer(
    request: tuple[str, str, str, list[tuple[str, str]], bytes],
) -> None:
    method, path, query, headers, body = request
    boto_request = botocore_request(method, path, query, headers, body)
    signer = stock_signer()
    expected_canonical = signer.canonical_request(boto_request)
    signed = stock_signed_headers(boto_request)

    canonical = canonical_request(method, path, query, signed_pairs(headers, signed), body)

    assert canonical == expected_canonical
    expected_signature = signer.signature(
        signer.string_to_sign(boto_request, expected_canonical), boto_request
    )
    assert signature(canonical, AMZ_DATE, SECRET_KEY, REGION, SERVICE) == expected_signature


@settings(max_examples=700, deadline=None, database=None)
@given(requests(), st.data())
def test_any_signed_headers_list_matches_botocore_over_exactly_those_headers(
    request: tuple[str, str, str, list[tuple[str, str]], bytes], data: st.DataObject
) -> None:
    """SignedHeaders lists botocore would not write (unsorted, names listed twice, user-agent)
    are canonicalised as botocore does once told which headers to use."""
    method, path, query, headers, body = request
    names = sorted(by_name(headers))
    signed = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names) + 2))
    pairs = signed_pairs(headers, signed)
    boto_request = botocore_request(method, path, query, pairs, body)
    signer = ClientSignedHeadersOnly(Credentials(ACCESS_KEY, SECRET_KEY), SERVICE, REGION)

    assert canonical_request(method, path, query, pairs, body) == signer.canonical_request(
        boto_request
    )


@settings(max_examples=500, deadline=None, database=None)
@given(requests())
def test_requests_signed_by_botocore_verify(
    request: tuple[str, str, str, list[tuple[str, str]], bytes],
) -> None:
    """End to end: a request signed by botocore's stock signer verifies, and the same request
    with its signature's last digit changed does not."""
    method, path, query, headers, body = request
    grouped = by_name(headers)
    sent_sha256 = grouped.get("x-amz-content-sha256")
    if sent_sha256 and sent_sha256[0].strip() != hashlib.sha256(body).hexdigest():
        return  # refused before the signature is computed (tests/unit/test_sigv4.py)
    boto_request = botocore_request(method, path, query, headers, body)
    signer = stock_signer()
    string_to_sign = signer.string_to_sign(boto_request, signer.canonical_request(boto_request))
    expected = signer.signature(string_to_sign, boto_request)
    signed = ";".join(stock_signed_headers(boto_request))
    verifier = SigV4Verifier(
        {ACCESS_KEY: (SECRET_KEY, ACCOUNT)}.get, region=REGION, now=lambda: SIGNED_AT
    )

    def with_signature(value: str) -> list[tuple[str, str]]:
        authorization = (
            f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{AMZ_DATE[:8]}/{REGION}/{SERVICE}/"
            f"aws4_request, SignedHeaders={signed}, Signature={value}"
        )
        return [*headers, ("Authorization", authorization)]

    caller = verifier.verify(method, path, query, with_signature(expected), body)
    assert caller.account_id == ACCOUNT

    tampered = expected[:-1] + ("0" if expected[-1] != "0" else "1")
    with pytest.raises(AuthenticationError) as info:
        verifier.verify(method, path, query, with_signature(tampered), body)
    assert info.value.message == SIGNATURE_MISMATCH_MESSAGE


def test_the_derived_key_cache_gives_botocores_signature_on_every_call() -> None:
    boto_request = botocore_request("POST", "/", "", [("host", "h")], b"{}")
    signer = stock_signer()
    canonical = signer.canonical_request(boto_request)
    expected = signer.signature(signer.string_to_sign(boto_request, canonical), boto_request)
    for _ in range(3):  # the first call derives and keeps the key; the others reuse it
        assert signature(canonical, AMZ_DATE, SECRET_KEY, REGION, SERVICE) == expected
    other_day = "20261208T000000Z"
    boto_request.context["timestamp"] = other_day
    assert signature(canonical, other_day, SECRET_KEY, REGION, SERVICE) == signer.signature(
        signer.string_to_sign(boto_request, canonical), boto_request
    )

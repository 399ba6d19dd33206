"""Server-side verification of AWS Signature Version 4, as botocore's signer computes it.

The clients pica serves (boto3, the aws CLI) sign with botocore's ``SigV4Auth``. The verifier
recomputes the same signature: the canonical request follows AWS's documented SigV4 form with
botocore's choices where the documentation leaves room (see `canonical_request`), the string to
sign and the key derivation are AWS's, and the derived key is cached per day. Parsing the
``Authorization`` header and the policy checks around it (scope, clock skew, key lookup) are
written here too. tests/unit/test_sigv4_canonical.py checks the canonical request and the
signature against botocore's own ``SigV4Auth`` over generated requests.

Failures raise AuthenticationError carrying the error code and message AWS answers with, so the
HTTP layer only has to put them on the wire. Whatever the headers hold, ``verify`` either returns
the caller or raises AuthenticationError: a malformed request is the caller's error, never pica's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Final, NamedTuple, NoReturn
from urllib.parse import quote, urlsplit

from botocore.utils import normalize_url_path

ALGORITHM: Final = "AWS4-HMAC-SHA256"
SCOPE_TERMINATOR: Final = "aws4_request"
AMZ_DATE_FORMAT: Final = "%Y%m%dT%H%M%SZ"

MISSING_AUTHENTICATION_TOKEN: Final = "MissingAuthenticationTokenException"
INCOMPLETE_SIGNATURE: Final = "IncompleteSignatureException"
INVALID_SIGNATURE: Final = "InvalidSignatureException"
UNRECOGNIZED_CLIENT: Final = "UnrecognizedClientException"

SIGNATURE_MISMATCH_MESSAGE: Final = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)

_AMZ_DATE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_SCOPE_DATE = re.compile(r"[0-9]{8}")
_REQUIRED_PARAMETERS: Final = ("Credential", "Signature", "SignedHeaders")
# Headers a request must sign, with the spelling AWS uses in its error message. The target picks
# the operation: left unsigned, anyone who sees a request could replay it as another operation.
_REQUIRED_SIGNED_HEADERS: Final = (
    ("host", "'Host' or ':authority'"),
    ("x-amz-target", "'X-Amz-Target'"),
)
# AWS's window: a request signed more than this far from the server's clock is refused.
DEFAULT_MAX_SKEW: Final = dt.timedelta(minutes=5)
# The path and query are split as botocore splits its request URL (``urlsplit``), so this base
# makes the verifier see them exactly as the client's signer did; the host is not part of it
# (the Host the client sent is a signed header).
_URL_BASE: Final = "http://pica.invalid"


class AuthenticationError(Exception):
    """A request whose signature cannot be accepted; ``code`` is the wire ``__type``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class VerifiedCaller:
    """Who signed a request that verified, and the region their credential was scoped to."""

    access_key_id: str
    account_id: str
    region: str


class _Authorization(NamedTuple):  # a tuple: a frozen dataclass costs ~0.5 µs more to build
    access_key_id: str
    scope_date: str
    region: str
    signed_headers: tuple[str, ...]
    signature: str


# Derived signing keys by (secret, YYYYMMDD, region, service): each is valid for one day, so
# the few in use are kept; the dict is emptied if it ever grows past this (old days, rotated
# secrets). The secrets are in this process's memory anyway (the access-key lookup).
# Each is kept as an HMAC already keyed with it: a copy of that is cheaper than a new one.
_SIGNING_KEYS: dict[tuple[str, str, str, str], hmac.HMAC] = {}
_SIGNING_KEYS_KEPT = 1024


def _signing_key(secret_access_key: str, day: str, region: str, service: str) -> hmac.HMAC:
    """An HMAC-SHA256 keyed with AWS's derived key (four HMACs), kept per secret, day, region
    and service: the derivation costs as much as the rest of a check. Callers ``copy()`` it."""
    scope = (secret_access_key, day, region, service)
    keyed = _SIGNING_KEYS.get(scope)
    if keyed is None:
        key = f"AWS4{secret_access_key}".encode()
        for part in (day, region, service, SCOPE_TERMINATOR):
            key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
        keyed = hmac.new(key, digestmod=hashlib.sha256)
        if len(_SIGNING_KEYS) >= _SIGNING_KEYS_KEPT:
            _SIGNING_KEYS.clear()
        _SIGNING_KEYS[scope] = keyed
    return keyed


@lru_cache(maxsize=256)
def _canonical_uri(path: str) -> str:
    """botocore's canonical URI for services other than S3 (``SigV4Auth._normalize_url_path``):
    dot segments and empty segments removed, then the (still percent-encoded) path encoded once
    more, keeping ``/`` and ``~``. Cached: a server sees a handful of paths."""
    return quote(normalize_url_path(path), safe="/~")


def _trim_all(value: str) -> str:
    """SigV4's Trimall, as botocore does it: leading and trailing whitespace removed, each inner
    run of whitespace made one space (``str.split``'s notion of whitespace)."""
    return " ".join(value.split())


def canonical_request(
    method: str,
    path: str,
    query_string: str,
    signed_pairs: Sequence[tuple[str, str]],
    body: bytes,
) -> str:
    """The SigV4 canonical request botocore's ``SigV4Auth.canonical_request`` would build for
    this request, given ``signed_pairs``: the (name, value) pairs of exactly the headers the
    client signed, names lower-case, in the order found (a name listed twice in SignedHeaders
    contributes its values twice, as before).

    Written out rather than asked of botocore because building its ``AWSRequest`` (request
    preparation, ``email.message``-based headers, per-call ``urlsplit``) cost ~0.1 ms per
    request, ~11% of a worker's time per IssueCertificate. The form is AWS's documented one, with
    botocore's choices:

    - method upper-cased; path and query split from ``http://host<path>?<query>`` by
      ``urlsplit``, as botocore splits its URL;
    - URI: `_canonical_uri`;
    - query: the raw ``&``-separated pairs split at the first ``=`` (``a`` means ``a=``), sorted
      by key then value, *not* re-encoded (botocore signs its URL's query as sent);
    - headers: sorted names, ``name:value`` lines whose value is each occurrence's `_trim_all`
      joined with ``,``; the signed-headers line is the sorted names, lower-cased and stripped;
    - payload: the first ``x-amz-content-sha256`` value, untrimmed, when that header is signed,
      else the body's SHA-256 (botocore always hashes over plain HTTP, and pica's clients sign
      this service's bodies).
    """
    url = f"{_URL_BASE}{path}?{query_string}" if query_string else f"{_URL_BASE}{path}"
    parts = urlsplit(url)
    if parts.query:
        pairs = []
        for pair in parts.query.split("&"):
            key, _, value = pair.partition("=")
            pairs.append((key, value))
        pairs.sort()
        canonical_query = "&".join([f"{key}={value}" for key, value in pairs])
    else:
        canonical_query = ""

    values_by_name: dict[str, list[str]] = {}
    payload_hash = None
    for name, value in signed_pairs:
        values = values_by_name.get(name)
        if values is None:
            values_by_name[name] = values = []
        values.append(_trim_all(value))
        if payload_hash is None and name == "x-amz-content-sha256":
            payload_hash = value
    names = sorted(values_by_name)
    canonical_headers = "\n".join([f"{name}:{','.join(values_by_name[name])}" for name in names])
    signed_headers = ";".join(sorted([name.lower().strip() for name in names]))
    if payload_hash is None:
        payload_hash = hashlib.sha256(body).hexdigest()
    return "\n".join(
        (
            method.upper(),
            _canonical_uri(parts.path),
            canonical_query,
            canonical_headers + "\n",
            signed_headers,
            payload_hash,
        )
    )


def signature(
    canonical: str,
    amz_date: str,
    secret_access_key: str,
    region: str,
    service: str,
) -> str:
    """The hex signature of a canonical request signed at ``amz_date`` (``YYYYMMDDTHHMMSSZ``)
    for the credential scope ``<day>/<region>/<service>/aws4_request``."""
    day = amz_date[0:8]
    string_to_sign = "\n".join(
        (
            ALGORITHM,
            amz_date,
            f"{day}/{region}/{service}/{SCOPE_TERMINATOR}",
            hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        )
    )
    mac = _signing_key(secret_access_key, day, region, service).copy()
    mac.update(string_to_sign.encode("utf-8"))
    return mac.hexdigest()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _format_amz_date(moment: dt.datetime) -> str:
    """``YYYYMMDDTHHMMSSZ`` in UTC; the year is always four digits (strftime's ``%Y`` is not)."""
    utc = moment.astimezone(dt.UTC)
    return (
        f"{utc.year:04d}{utc.month:02d}{utc.day:02d}"
        f"T{utc.hour:02d}{utc.minute:02d}{utc.second:02d}Z"
    )


@lru_cache(maxsize=64)  # requests signed in the same second share it
def _amz_datetime(amz_date: str) -> dt.datetime | None:
    """The UTC time of a ``YYYYMMDDTHHMMSSZ`` string (digits where the pattern says), or None
    when it names no time (month 13, hour 24, ...): what ``strptime`` with `AMZ_DATE_FORMAT`
    decides, without its cost (~10 µs, twice per request)."""
    try:
        return dt.datetime(
            int(amz_date[0:4]),
            int(amz_date[4:6]),
            int(amz_date[6:8]),
            int(amz_date[9:11]),
            int(amz_date[11:13]),
            int(amz_date[13:15]),
            tzinfo=dt.UTC,
        )
    except ValueError:
        return None


def _describe_skew(skew: dt.timedelta) -> str:
    seconds = int(skew.total_seconds())
    return f"{seconds // 60} min." if seconds % 60 == 0 else f"{seconds} sec."


def _incomplete(message: str) -> AuthenticationError:
    return AuthenticationError(INCOMPLETE_SIGNATURE, message)


def _invalid(message: str) -> AuthenticationError:
    return AuthenticationError(INVALID_SIGNATURE, message)


class SigV4Verifier:
    """Verifies SigV4-signed API requests against the access keys pica knows.

    ``lookup(access_key_id)`` returns ``(secret_access_key, account_id)`` or None for an
    unknown key. The credential scope must name ``region`` (pica's configured region) and
    ``service``, as AWS requires: a signature made for another region is refused rather than
    silently accepted. ``now`` must return a timezone-aware datetime (tests inject a frozen clock).
    """

    def __init__(
        self,
        lookup: Callable[[str], tuple[str, str] | None],
        *,
        region: str,
        service: str = "acm-pca",
        max_skew: dt.timedelta = DEFAULT_MAX_SKEW,
        now: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self._lookup = lookup
        self._region = region
        self._service = service
        self._max_skew = max_skew
        self._now = now

    def verify(
        self,
        method: str,
        path: str,
        query_string: str,
        headers: list[tuple[str, str]],
        body: bytes,
        *,
        operation_in_path: bool = False,
    ) -> VerifiedCaller:
        """Return the caller if the request is correctly signed, else raise AuthenticationError.

        ``path`` and ``query_string`` are the raw (still percent-encoded) forms from the request
        line; ``headers`` are the request's header pairs as received, names in any case.
        ``operation_in_path``: the request names its operation in the (always signed) path, as
        RPC v2 CBOR does, so there is no X-Amz-Target that must be signed.
        """
        by_name: dict[str, list[str]] = {}
        for name, value in headers:
            by_name.setdefault(name.lower(), []).append(value)

        authorization_values = by_name.get("authorization")
        if not authorization_values:
            raise AuthenticationError(MISSING_AUTHENTICATION_TOKEN, "Missing Authentication Token")
        if len(authorization_values) > 1:
            raise _incomplete("The request carries more than one Authorization header.")
        authorization = self._parse_authorization(
            authorization_values[0], operation_in_path=operation_in_path
        )

        amz_date = self._request_timestamp(by_name)
        if authorization.scope_date != amz_date[:8]:
            raise _invalid(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                f"from HTTP: '{authorization.scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
        self._check_clock_skew(amz_date)

        found = self._lookup(authorization.access_key_id)
        if found is None:
            raise AuthenticationError(
                UNRECOGNIZED_CLIENT, "The security token included in the request is invalid."
            )
        secret_access_key, account_id = found

        signed_pairs: list[tuple[str, str]] = []
        for name in authorization.signed_headers:
            values = by_name.get(name)
            if not values:
                # The client claims to have signed a header it did not send: nothing can match.
                raise _invalid(SIGNATURE_MISMATCH_MESSAGE)
            signed_pairs.extend((name, value) for value in values)

        # botocore signs this header's value instead of hashing the body, so the body itself
        # is only covered if the value is checked against it.
        content_sha256 = by_name.get("x-amz-content-sha256")
        if (
            "x-amz-content-sha256" in authorization.signed_headers
            and content_sha256
            and content_sha256[0].strip() != hashlib.sha256(body).hexdigest()
        ):
            raise _invalid(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )

        expected = signature(
            canonical_request(method, path, query_string, signed_pairs, body),
            amz_date,
            secret_access_key,
            authorization.region,
            self._service,
        )
        if not hmac.compare_digest(
            expected.encode("ascii"), authorization.signature.encode("utf-8")
        ):
            raise _invalid(SIGNATURE_MISMATCH_MESSAGE)
        return VerifiedCaller(
            access_key_id=authorization.access_key_id,
            account_id=account_id,
            region=authorization.region,
        )

    def _parse_authorization(self, value: str, *, operation_in_path: bool) -> _Authorization:
        """Split ``AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``."""
        algorithm, _, rest = value.strip().partition(" ")
        if algorithm != ALGORITHM:
            raise _incomplete(
                f"Unsupported AWS 'algorithm': '{algorithm}'. "
                f"The Authorization header must use '{ALGORITHM}'."
            )
        parameters: dict[str, str] = {}
        for part in rest.split(","):
            part = part.strip()
            if not part:
                continue
            key, equals, item = part.partition("=")
            if not equals:
                raise _incomplete(
                    f"'{part}' not a valid key=value pair (missing equal-sign) in Authorization "
                    f"header: '{value}'."
                )
            parameters[key.strip()] = item.strip()
        missing = [name for name in _REQUIRED_PARAMETERS if not parameters.get(name)]
        if missing:
            raise _incomplete(
                " ".join(f"Authorization header requires '{name}' parameter." for name in missing)
            )

        credential = parameters["Credential"]
        scope = credential.split("/")
        if len(scope) != 5 or not scope[0]:
            raise _incomplete(
                f"Credential must have the form '<access key id>/<YYYYMMDD>/<region>/"
                f"{self._service}/{SCOPE_TERMINATOR}', got '{credential}'."
            )
        access_key_id, scope_date, region, service, terminator = scope
        if _SCOPE_DATE.fullmatch(scope_date) is None:
            raise _incomplete(f"Credential should be scoped to a valid date, not '{scope_date}'.")
        if not region:
            raise _incomplete("Credential should be scoped to a valid region.")
        if terminator != SCOPE_TERMINATOR:
            raise _incomplete(
                f"Credential should be scoped with a valid terminator: '{SCOPE_TERMINATOR}', "
                f"not '{terminator}'."
            )
        if service != self._service:
            raise _invalid(f"Credential should be scoped to correct service: '{self._service}'.")
        if region != self._region:
            raise _invalid(f"Credential should be scoped to a valid region, not '{region}'.")

        signed_headers = tuple(parameters["SignedHeaders"].split(";"))
        for header, spelling in _REQUIRED_SIGNED_HEADERS:
            if operation_in_path and header == "x-amz-target":
                continue
            if header not in signed_headers:
                raise _incomplete(f"{spelling} must be a 'SignedHeader' in the AWS Authorization.")
        return _Authorization(
            access_key_id=access_key_id,
            scope_date=scope_date,
            region=region,
            signed_headers=signed_headers,
            signature=parameters["Signature"],
        )

    def _request_timestamp(self, by_name: dict[str, list[str]]) -> str:
        """The signing time as ``YYYYMMDDTHHMMSSZ``: X-Amz-Date, else the HTTP Date header."""
        amz_dates = by_name.get("x-amz-date")
        if amz_dates:
            amz_date = amz_dates[0].strip()
            if _AMZ_DATE.fullmatch(amz_date) is None or not self._parses(amz_date):
                raise _incomplete(
                    f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. "
                    "See http://en.wikipedia.org/wiki/ISO_8601"
                )
            return amz_date
        http_dates = by_name.get("date")
        if http_dates:
            try:
                moment = parsedate_to_datetime(http_dates[0])
            except (TypeError, ValueError, OverflowError):
                # Overflow: a year too large for datetime ("Fri, 31 Dec 99999999999 ...").
                raise _incomplete(
                    f"Date must be in RFC 1123 format. Got '{http_dates[0]}'."
                ) from None
            if moment.tzinfo is None:  # "-0000" means UTC with no further claim
                moment = moment.replace(tzinfo=dt.UTC)
            try:
                return _format_amz_date(moment)
            except (OverflowError, ValueError):
                # Year 9999 west of UTC, or year 1 east of it: a valid date whose UTC time is
                # outside what datetime holds, and so outside any clock-skew window.
                self._raise_skew(http_dates[0].strip(), later=moment.year > 1)
        raise _incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )

    @staticmethod
    def _parses(amz_date: str) -> bool:
        return _amz_datetime(amz_date) is not None

    def _check_clock_skew(self, amz_date: str) -> None:
        signed_at = _amz_datetime(amz_date)
        assert signed_at is not None  # `_request_timestamp` checked it
        now = self._now()
        if signed_at < now - self._max_skew:
            self._raise_skew(amz_date, later=False)
        if signed_at > now + self._max_skew:
            self._raise_skew(amz_date, later=True)

    def _raise_skew(self, signed_at: str, *, later: bool) -> NoReturn:
        """AWS's messages for a signing time outside the window, e.g. ``Signature expired:
        20240101T000000Z is now earlier than 20240101T000500Z (20240101T001000Z - 5 min.)``."""
        now = self._now()
        skew = _describe_skew(self._max_skew)
        if later:
            raise _invalid(
                f"Signature not yet current: {signed_at} is still later than "
                f"{_format_amz_date(now + self._max_skew)} ({_format_amz_date(now)} + {skew})"
            )
        raise _invalid(
            f"Signature expired: {signed_at} is now earlier than "
            f"{_format_amz_date(now - self._max_skew)} ({_format_amz_date(now)} - {skew})"
        )

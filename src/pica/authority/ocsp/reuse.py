"""What the OCSP responder keeps between requests, so that a repeated request costs two reads.

Most OCSP traffic repeats itself: RFC 5019 clients (browsers, TLS stacks, `cryptography`) send no
nonce, and many clients ask about the same certificates. Three small bounded LRUs, per process:

- `ParsedRequests`: a request's DER to its parsed form (asn1crypto parsing costs more than the
  database reads). Only well-formed requests are kept.
- `IssuerIndex`: the CertID issuer hashes to the ARN of the CA they named, so the next request
  reads that CA by ARN through the store's versioned CA cache instead of searching by key hash
  and decoding every candidate row. The CA read is re-checked against the hashes every time.
- `AnswerMemo`: a signed, nonce-less answer, reused for `REUSE_SECONDS` while everything it was
  made from is unchanged. The key holds the request, the CA's row version, the signer and each
  certificate's status *as read in this request's transaction*: a revocation committed by any
  process changes the key at once, so reuse never serves a stale status; it only repeats a
  producedAt/thisUpdate up to `REUSE_SECONDS` old (RFC 6960 lets a responder pre-produce
  responses; AWS's own responder reflects a revocation within up to 60 minutes).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from pica.authority.ocsp.answer import OcspAnswer

REUSE_SECONDS = 1
_REUSE = timedelta(seconds=REUSE_SECONDS)
CAPACITY = 4096
# Requests longer than this are not kept (a CertID list of a few dozen certificates fits).
MAX_KEPT_REQUEST_BYTES = 4096

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Lru(Generic[K, V]):
    """A bounded, thread-safe least-recently-used map."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)


class ParsedRequests(_Lru[bytes, V]):
    """Request DER -> parsed request (see the module docstring)."""

    def keep(self, der: bytes, request: V) -> None:
        if len(der) <= MAX_KEPT_REQUEST_BYTES:
            self.put(der, request)


class IssuerIndex(_Lru[tuple[str, bytes, bytes], str]):
    """CertID (hash algorithm, issuer name hash, issuer key hash) -> CA ARN."""


class AnswerMemo(_Lru[Hashable, OcspAnswer]):
    """Signed nonce-less answers by everything they were made from (module docstring)."""

    def fresh(self, key: Hashable, now: datetime) -> OcspAnswer | None:
        answer = self.get(key)
        if answer is None or answer.produced_at is None:
            return None
        if not answer.produced_at <= now < answer.produced_at + _REUSE:
            return None
        if answer.next_update is not None and answer.next_update <= now:
            return None
        return answer

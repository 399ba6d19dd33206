"""What signing under one CA certificate needs, worked out once per CA version and cached."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from cryptography import x509

from pica.authority.issuance import IssuerIdentity
from pica.authority.model import CertificateAuthority


@dataclass(frozen=True)
class Issuer:
    """What signing under one CA certificate needs, worked out once per CA version: the parsed
    certificate, its path length constraint, and the issuer name, key and key identifier."""

    certificate: x509.Certificate
    path_length: int | None
    identity: IssuerIdentity


class IssuerCache:
    """`Issuer`s by CA ARN, each valid for the CA version it was made from (a new CA
    certificate, imported or renewed, bumps the version); bounded, least recently used first."""

    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, tuple[int, Issuer]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, ca: CertificateAuthority) -> Issuer | None:
        with self._lock:
            entry = self._entries.get(ca.arn)
            if entry is None or entry[0] != ca.version:
                return None
            self._entries.move_to_end(ca.arn)
            return entry[1]

    def put(self, ca: CertificateAuthority, issuer: Issuer) -> None:
        with self._lock:
            self._entries[ca.arn] = (ca.version, issuer)
            self._entries.move_to_end(ca.arn)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

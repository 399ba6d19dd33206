"""One record per API call, whatever the wire protocol: what the access log writes and the
request metrics count.

An endpoint (AWS JSON 1.1 today, Smithy RPC v2 CBOR next) opens an `ApiCall` when a request
arrives, fills in what it learns as it goes (the operation once the target is read, the caller
once the signature verified, the resources from the checked parameters and the result), and
calls `finish` with the HTTP status and error code of its answer. `finish` hands the record to
every `ApiCallObserver` the composition root wired, once. Nothing here knows a protocol: member
names are the acm-pca model's, which every protocol of the service shares.

The record holds only what may be logged: never a secret, a CSR, a certificate body or a key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pica.errors import PicaError

log = logging.getLogger("pica.api")

# Members of acm-pca requests and results that name the resource a call acts on.
_CA_ARN = "CertificateAuthorityArn"
_CERTIFICATE_ARN = "CertificateArn"
_SERIAL = "CertificateSerial"
_CERTIFICATE_MARKER = "/certificate/"


class ApiCallObserver(Protocol):
    """Told of every finished API call (on the event loop: keep it cheap, never block)."""

    def api_call(self, call: ApiCall) -> None: ...


@dataclass
class ApiCall:
    """What one API call did: who, what, on which resource, with which outcome, how long."""

    request_id: str
    protocol: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    operation: str | None = None
    account_id: str | None = None
    access_key_id: str | None = None
    ca_arn: str | None = None
    certificate_arn: str | None = None
    serial: str | None = None
    status: int = 0
    error_code: str | None = None
    # The domain error the call failed with, for counters that need more than the wire code
    # (a lint refusal is one kind of InvalidArgsException). Never logged as such.
    error: PicaError | None = None
    duration: float = 0.0
    _clock_start: float = field(default_factory=time.perf_counter, repr=False)

    def note_caller(self, account_id: str, access_key_id: str) -> None:
        self.account_id = account_id
        self.access_key_id = access_key_id

    def note_parameters(self, parameters: Mapping[str, Any]) -> None:
        """Take the resource a checked request names (CA ARN, certificate ARN, serial)."""
        self._take(parameters)
        serial = parameters.get(_SERIAL)
        if isinstance(serial, str):
            self.serial = serial.replace(":", "").lower()

    def note_result(self, result: Mapping[str, Any]) -> None:
        """Take the resource a result names (the ARN of a CA or certificate just made)."""
        self._take(result)

    def finish(
        self, status: int, error_code: str | None, observers: Sequence[ApiCallObserver]
    ) -> None:
        """Record the outcome and tell each observer; an observer's failure is logged only."""
        self.status = status
        self.error_code = error_code
        self.duration = time.perf_counter() - self._clock_start
        for observer in observers:
            try:
                observer.api_call(self)
            except Exception:
                log.exception("recording API call %s failed", self.request_id)

    def _take(self, members: Mapping[str, Any]) -> None:
        ca_arn = members.get(_CA_ARN)
        if isinstance(ca_arn, str):
            self.ca_arn = ca_arn
        certificate_arn = members.get(_CERTIFICATE_ARN)
        if isinstance(certificate_arn, str):
            self.certificate_arn = certificate_arn
            ca_part, marker, serial = certificate_arn.rpartition(_CERTIFICATE_MARKER)
            if marker:
                self.ca_arn = self.ca_arn or ca_part
                self.serial = serial.lower()

"""What the responder hands the HTTP layer: the DER response, its status, and its times."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class OcspResponseStatus(enum.StrEnum):
    """OCSPResponseStatus (RFC 6960 4.2.1), spelled as asn1crypto names the values."""

    SUCCESSFUL = "successful"
    MALFORMED_REQUEST = "malformed_request"
    INTERNAL_ERROR = "internal_error"
    TRY_LATER = "try_later"
    SIG_REQUIRED = "sign_required"
    UNAUTHORIZED = "unauthorized"


@dataclass(frozen=True)
class OcspAnswer:
    """A DER OCSPResponse and the times an HTTP layer needs for RFC 5019 caching headers.

    `cacheable` is False for unsuccessful responses and for responses that echo a nonce (they
    answer one request only).
    """

    der: bytes
    status: OcspResponseStatus
    produced_at: datetime | None = None
    next_update: datetime | None = None
    cacheable: bool = False

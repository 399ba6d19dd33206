"""One AWS JSON 1.1 service as the endpoint serves it: the target prefix that picks it, its
dispatch table, the validator compiled from its model, the SigV4 scope it accepts and its error
table.

ACM Private CA (`ACMPrivateCA.`) and ACM (`CertificateManager.`) share one endpoint and port, as
the design asks; everything that differs between them lives in one of these records, so the
endpoint's request flow (body, signature, operation, JSON, model, handler) is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pica.authority.ca_access import Caller
from pica.errors import PicaError
from pica.wire.awsjson.sigv4 import SigV4Verifier
from pica.wire.awsjson.validation import RequestValidator

Json = dict[str, Any]
# A handler takes the context the service builds for a caller, and the checked request.
Handler = Callable[[Any, Json], Json]


@dataclass(frozen=True)
class ServedApi:
    """`dispatch` maps the full `X-Amz-Target` to (operation, handler or None: not built)."""

    target_prefix: str
    title: str  # "ACM Private CA", "ACM": named in UnknownOperationException messages
    dispatch: Mapping[str, tuple[str, Handler | None]]
    validator: RequestValidator
    verifier: SigV4Verifier
    context: Callable[[Caller], Any]
    code_for: Callable[[PicaError], str]


def dispatch_table(
    prefix: str, operations: Mapping[str, Handler | None]
) -> dict[str, tuple[str, Handler | None]]:
    """The table keyed on the full target, from one keyed on operation names."""
    return {prefix + name: (name, handler) for name, handler in operations.items()}

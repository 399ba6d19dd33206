"""The ACM API (`CertificateManager.`) as one more service on pica's AWS JSON endpoint."""

from __future__ import annotations

from pica.authority.ca_access import Caller
from pica.wire.awsjson.acm_dispatch import DISPATCH, TARGET_PREFIX
from pica.wire.awsjson.acm_errors import acm_code_for
from pica.wire.awsjson.acm_handlers import AcmContext, AcmServices
from pica.wire.awsjson.served_api import ServedApi
from pica.wire.awsjson.sigv4 import SigV4Verifier
from pica.wire.awsjson.validation import RequestValidator


def acm_api(
    services: AcmServices, validator: RequestValidator, verifier: SigV4Verifier
) -> ServedApi:
    """`validator` is compiled from botocore's `acm` model; `verifier` accepts scope `acm`."""

    def context(caller: Caller) -> AcmContext:
        return AcmContext(caller, services)

    return ServedApi(TARGET_PREFIX, "ACM", DISPATCH, validator, verifier, context, acm_code_for)

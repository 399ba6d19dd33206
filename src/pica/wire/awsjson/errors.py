"""The one table that maps domain errors to AWS `__type` codes and HTTP statuses."""

from __future__ import annotations

from pica import errors as e

# Not in the service models: the code AWS services answer with HTTP 503, which every SDK's
# retry handler retries (the call succeeds once pica is unsealed).
SERVICE_UNAVAILABLE = "ServiceUnavailableException"

# Every ACM PCA modelled exception is HTTP 400; `status_for` names the exceptions to that.
ERROR_CODES: dict[type[e.PicaError], str] = {
    e.NotFound: "ResourceNotFoundException",
    e.AccessDenied: "AccessDeniedException",
    e.InvalidState: "InvalidStateException",
    e.InvalidArgs: "InvalidArgsException",
    e.InvalidArn: "InvalidArnException",
    e.InvalidRequest: "InvalidRequestException",
    e.MalformedCsr: "MalformedCSRException",
    e.MalformedCertificate: "MalformedCertificateException",
    e.CertificateMismatch: "CertificateMismatchException",
    e.RequestInProgress: "RequestInProgressException",
    e.RequestFailed: "RequestFailedException",
    e.RequestAlreadyProcessed: "RequestAlreadyProcessedException",
    e.LimitExceeded: "LimitExceededException",
    e.InvalidTag: "InvalidTagException",
    e.TooManyTags: "TooManyTagsException",
    e.InvalidNextToken: "InvalidNextTokenException",
    e.InvalidPolicy: "InvalidPolicyException",
    e.LockoutPrevented: "LockoutPreventedException",
    e.PermissionAlreadyExists: "PermissionAlreadyExistsException",
    e.ConcurrentModification: "ConcurrentModificationException",
    e.Sealed: SERVICE_UNAVAILABLE,
}


def code_for(error: e.PicaError) -> str:
    for cls in type(error).__mro__:
        code = ERROR_CODES.get(cls)
        if code is not None:
            return code
    # Conflict or a bare PicaError reaching the edge: the request raced and lost.
    return "ConcurrentModificationException"


def status_for(error: e.PicaError) -> int:
    """The HTTP status of a refusal: 503 for sealed (retryable), 400 for all the rest."""
    return 503 if isinstance(error, e.Sealed) else 400

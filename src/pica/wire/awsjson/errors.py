"""The one table that maps domain errors to AWS `__type` codes and HTTP statuses."""

from __future__ import annotations

from pica import errors as e

# Every ACM PCA modelled exception is HTTP 400.
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
}


def code_for(error: e.PicaError) -> str:
    for cls in type(error).__mro__:
        code = ERROR_CODES.get(cls)
        if code is not None:
            return code
    # Conflict or a bare PicaError reaching the edge: the request raced and lost.
    return "ConcurrentModificationException"

"""The ACM API's error table: domain errors to the `__type` codes of botocore's `acm` model.

ACM names some failures differently from ACM PCA (InvalidParameterException where PCA says
InvalidArgsException, ConflictException for a race); every ACM modelled exception is HTTP 400.
"""

from __future__ import annotations

from pica import errors as e
from pica.wire.awsjson.errors import SERVICE_UNAVAILABLE

ERROR_CODES: dict[type[e.PicaError], str] = {
    e.NotFound: "ResourceNotFoundException",
    e.InvalidState: "InvalidStateException",
    e.InvalidArgs: "InvalidParameterException",
    e.InvalidArn: "InvalidArnException",
    e.InvalidRequest: "ValidationException",
    e.MalformedCertificate: "ValidationException",
    e.CertificateMismatch: "ValidationException",
    e.RequestInProgress: "RequestInProgressException",
    e.RequestFailed: "InternalServerException",
    e.LimitExceeded: "LimitExceededException",
    e.InvalidTag: "InvalidTagException",
    e.TooManyTags: "TooManyTagsException",
    e.InvalidNextToken: "InvalidArgsException",
    e.ConcurrentModification: "ConflictException",
    e.Conflict: "ConflictException",
    e.Sealed: SERVICE_UNAVAILABLE,
}


def acm_code_for(error: e.PicaError) -> str:
    for cls in type(error).__mro__:
        code = ERROR_CODES.get(cls)
        if code is not None:
            return code
    return "ConflictException"

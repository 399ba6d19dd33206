"""Protocol-neutral errors raised by the domain and the adapters.

Each class names a failure the way AWS ACM PCA names it; the wire layer maps the class to the
`__type` it puts on the wire (one table, in `pica.wire.awsjson.errors`). Nothing here knows about
HTTP or JSON.
"""

from __future__ import annotations


class PicaError(Exception):
    """Base class: a failure the caller caused or can act on (never an internal bug)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(PicaError):
    """The named resource does not exist (or is not visible to the caller)."""


class InvalidState(PicaError):
    """The resource exists but its state forbids the operation."""


class InvalidArgs(PicaError):
    """An argument is well-formed but not acceptable for this operation."""


class NameConstraintViolation(InvalidArgs):
    """The certificate would certify a name outside the name constraints of a CA above it.

    On the acm-pca wire it is InvalidArgsException (its base class); ACM's RequestCertificate
    and renewal report it as the certificate's FailureReason `acm_failure_reason`.
    """

    acm_failure_reason = "PCA_NAME_CONSTRAINTS_VALIDATION"

    def __init__(self, message: str, *, name: str, constraint: str, ca: str) -> None:
        super().__init__(message)
        self.name = name
        self.constraint = constraint
        self.ca = ca


class LintRejected(InvalidArgs):
    """The lint gate refused to sign: the certificate would not conform (InvalidArgsException on
    the wire, its base class). A class of its own so that operators can count refusals."""


class AccessDenied(PicaError):
    """The caller may see the resource (it is shared with it) but not take this action."""


class InvalidArn(PicaError):
    """An ARN that cannot name a resource of the expected kind."""


class InvalidRequest(PicaError):
    """The request as a whole is not acceptable (AWS InvalidRequestException)."""


class MalformedCsr(PicaError):
    """The certificate signing request cannot be parsed or its signature does not verify."""


class MalformedCertificate(PicaError):
    """A certificate (or chain) cannot be parsed or breaks a structural rule."""


class CertificateMismatch(PicaError):
    """The certificate does not belong to this CA's key or does not chain as claimed."""


class RequestInProgress(PicaError):
    """The thing asked for is still being produced; ask again later."""


class RequestFailed(PicaError):
    """The request failed for a reason on pica's side that the caller can retry."""


class RequestAlreadyProcessed(PicaError):
    """The same change was already made (for example revoking twice)."""


class LimitExceeded(PicaError):
    """A count quota was reached."""


class InvalidTag(PicaError):
    """A tag key or value is not acceptable."""


class TooManyTags(PicaError):
    """A resource would carry more tags than allowed."""


class InvalidNextToken(PicaError):
    """A pagination token that pica did not hand out, or that no longer applies."""


class InvalidPolicy(PicaError):
    """A resource policy that cannot be accepted."""


class LockoutPrevented(PicaError):
    """The change would lock the owner out of their own resource."""


class PermissionAlreadyExists(PicaError):
    """A permission for the same principal is already attached."""


class ConcurrentModification(PicaError):
    """Another change to the same resource won the race; retry."""


class Conflict(PicaError):
    """A uniqueness constraint in the store was violated (raised by store adapters).

    The domain catches it where a race is expected (serial numbers, idempotency tokens) and
    retries or re-reads; it never reaches the wire unless it is a bug.
    """


class Sealed(PicaError):
    """pica is sealed: the key-encryption keys are passphrase-protected and not yet unsealed.

    Retryable (HTTP 503 ServiceUnavailableException): the same call succeeds once an operator
    runs `pica unseal`. Raised before anything is stored, so a refused call changes nothing.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message or SEALED_MESSAGE)


SEALED_MESSAGE = (
    "pica is sealed: its key-encryption keys are protected by a passphrase and are not unsealed "
    "yet; an operator unseals it with `pica unseal --passphrase-file <file>`. Retry later."
)

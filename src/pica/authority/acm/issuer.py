"""Issuing an ACM private certificate: a CSR for pica's own key, signed by the caller's CA
through the very path IssueCertificate takes (`CertificateService.issue`: lint gate, name
constraints, CRL/OCSP extensions), so an ACM certificate is exactly a PCA certificate with a key
ACM keeps.

A CA that refuses is not an error of the request: the ACM certificate becomes FAILED with the
FailureReason ACM documents, which `IssueRefused` carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from pica.authority.acm.facts import certificate_facts
from pica.authority.acm.keys import AcmPrivateKey
from pica.authority.ca_access import Caller, authorize_ca
from pica.authority.certificates import CertificateService, IssueRequest
from pica.authority.model import CaStatus, CertificateAuthority, Validity, ValidityType
from pica.authority.ports import Clock, Store
from pica.errors import (
    AccessDenied,
    InvalidArgs,
    InvalidArn,
    InvalidState,
    LimitExceeded,
    NotFound,
    PicaError,
    RequestFailed,
    Sealed,
)

# RFC 5280's upper bound for a CommonName; ACM: the first domain name cannot exceed 64 octets.
MAX_COMMON_NAME = 64


class IssueRefused(Exception):
    """The CA did not issue; `reason` is ACM's FailureReason (PCA_INVALID_STATE, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Issued:
    certificate_pem: str
    chain_pem: str
    serial: int
    not_before: datetime
    not_after: datetime


def failure_reason(error: PicaError) -> str:
    """ACM's FailureReason for what the issuance path raised."""
    specific = getattr(error, "acm_failure_reason", None)
    if isinstance(specific, str):
        return specific  # NameConstraintViolation: PCA_NAME_CONSTRAINTS_VALIDATION
    for cls, reason in (
        (AccessDenied, "PCA_ACCESS_DENIED"),
        (NotFound, "PCA_RESOURCE_NOT_FOUND"),
        (InvalidState, "PCA_INVALID_STATE"),
        (InvalidArn, "PCA_INVALID_ARN"),
        (InvalidArgs, "PCA_INVALID_ARGS"),
        (LimitExceeded, "PCA_LIMIT_EXCEEDED"),
        (RequestFailed, "PCA_REQUEST_FAILED"),
    ):
        if isinstance(error, cls):
            return reason
    return "OTHER"


def check_common_name(domain_name: str) -> None:
    if len(domain_name.encode("ascii", "replace")) > MAX_COMMON_NAME:
        raise InvalidArgs(
            f"The first domain name can be no longer than {MAX_COMMON_NAME} characters: "
            f"{domain_name!r} is {len(domain_name)}."
        )


def _csr(names: tuple[str, ...], key: AcmPrivateKey) -> bytes:
    builder = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False
        )
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.PEM)


class AcmIssuer:
    def __init__(
        self, store: Store, certificates: CertificateService, clock: Clock, validity: timedelta
    ) -> None:
        self._store = store
        self._certificates = certificates
        self._clock = clock
        self._validity = validity

    def _issuing_ca(self, caller: Caller, ca_arn: str, now: datetime) -> CertificateAuthority:
        with self._store.transaction(read_only=True) as tx:
            try:
                return authorize_ca(tx, caller, ca_arn, now, action="IssueCertificate")
            except NotFound as error:
                if tx.get_ca(ca_arn) is not None:
                    raise IssueRefused(
                        "PCA_ACCESS_DENIED",
                        f"The certificate authority {ca_arn} does not let this account issue.",
                    ) from error
                raise IssueRefused("PCA_RESOURCE_NOT_FOUND", error.message) from error

    def issue(
        self, caller: Caller, ca_arn: str, names: tuple[str, ...], key: AcmPrivateKey
    ) -> Issued:
        """CN = names[0], SAN = names; valid for the configured validity, never beyond the
        CA's own NotAfter. Raises IssueRefused."""
        now = self._clock.now()
        ca = self._issuing_ca(caller, ca_arn, now)
        status = ca.effective_status(now)
        if status is not CaStatus.ACTIVE:
            raise IssueRefused(
                "PCA_INVALID_STATE", f"The certificate authority {ca_arn} is {status}, not ACTIVE."
            )
        not_after = (now + self._validity).replace(microsecond=0)
        if ca.not_after is None or not_after > ca.not_after:
            raise IssueRefused(
                "PCA_INVALID_DURATION",
                f"The certificate would be valid until {not_after.isoformat()}, after its "
                f"certificate authority ({ca.not_after.isoformat() if ca.not_after else '-'}).",
            )
        request = IssueRequest(
            ca_arn=ca_arn,
            csr=_csr(names, key),
            signing_algorithm=ca.configuration.signing_algorithm,
            validity=Validity(int(not_after.timestamp()), ValidityType.ABSOLUTE),
        )
        try:
            certificate_arn = self._certificates.issue(caller, request)
            issued = self._certificates.get(caller, ca_arn, certificate_arn)
        except Sealed:
            raise  # not a refusal: the same request succeeds once pica is unsealed
        except PicaError as error:
            raise IssueRefused(failure_reason(error), error.message) from error
        facts = certificate_facts(issued.certificate)
        return Issued(
            issued.certificate, issued.chain, facts.serial, facts.not_before, facts.not_after
        )

"""pica's services in-process, on a real runtime (SQLite store, file key store) in a temporary
directory, with a clock the test can move: for behaviour that depends on time and not on the
wire (the live-server tests cannot move the server's clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from cryptography import x509

from pica.authority.authorities import CreateCaRequest
from pica.authority.ca_access import Caller
from pica.authority.certificates import IssueRequest
from pica.authority.model import (
    CaConfiguration,
    CaType,
    KeyAlgorithm,
    OcspConfiguration,
    RevocationConfiguration,
    SigningAlgorithm,
    Subject,
    Validity,
    ValidityType,
)
from pica.wire.awsjson.handlers import ApiServices

ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"
FIVE_YEARS = Validity(5, ValidityType.YEARS)


class HasServices(Protocol):
    """A `pica.app.Runtime`, or the fakes' `tests.support.in_process.InProcess`."""

    @property
    def services(self) -> ApiServices: ...


class MovableClock:
    """Real time unless a test moves it (`offset`)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def active_root(
    runtime: HasServices,
    caller: Caller,
    key_algorithm: KeyAlgorithm = KeyAlgorithm.EC_prime256v1,
    signing_algorithm: SigningAlgorithm = SigningAlgorithm.SHA256WITHECDSA,
    *,
    validity: Validity = FIVE_YEARS,
    ocsp_enabled: bool = False,
    common_name: str = "in-process test CA",
) -> tuple[str, x509.Certificate]:
    """A root made ACTIVE the way a user does it (create, sign its CSR, import): ARN, cert."""
    services = runtime.services
    arn = services.authorities.create(
        caller,
        CreateCaRequest(
            type=CaType.ROOT,
            configuration=CaConfiguration(
                key_algorithm,
                signing_algorithm,
                Subject(country="US", organization="pica tests", common_name=common_name),
            ),
            revocation_configuration=RevocationConfiguration(
                ocsp=OcspConfiguration(enabled=ocsp_enabled)
            ),
        ),
    )
    csr = services.authorities.get_csr(caller, arn)
    cert_arn = services.certificates.issue(
        caller,
        IssueRequest(
            ca_arn=arn,
            csr=csr.encode(),
            signing_algorithm=signing_algorithm,
            validity=validity,
            template_arn=ROOT_TEMPLATE,
        ),
    )
    pem = services.certificates.get(caller, arn, cert_arn).certificate
    services.authorities.import_certificate(caller, arn, pem.encode(), None)
    return arn, x509.load_pem_x509_certificate(pem.encode())

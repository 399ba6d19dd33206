"""RevocationService and CrlPublisher in-process (memory store, frozen clock): a revocation is
stored with its time and reason, and that reason reaches both what a relying party reads, the
CRL the publisher writes and the OCSP responder's answer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from pica.authority.ca_access import Caller
from pica.authority.certificates import IssueRequest
from pica.authority.model import (
    CrlConfiguration,
    OcspConfiguration,
    RevocationConfiguration,
    RevocationReason,
    SigningAlgorithm,
    Validity,
    ValidityType,
)
from pica.errors import RequestAlreadyProcessed
from tests.support.in_process import InProcess, in_process
from tests.support.pki import make_csr
from tests.support.runtime import active_root

BUCKET = "unit-crls"


@pytest.fixture
def world(tmp_path: Path) -> InProcess:
    return in_process(tmp_path / "data")


def revocable_leaf(
    world: InProcess, caller: Caller, days: int = 30
) -> tuple[str, x509.Certificate, x509.Certificate]:
    """An ACTIVE root publishing a CRL and answering OCSP, and a leaf it issued."""
    ca_arn, root = active_root(world, caller, ocsp_enabled=True)
    world.services.authorities.update(
        caller,
        ca_arn,
        None,
        RevocationConfiguration(
            crl=CrlConfiguration(enabled=True, expiration_in_days=7, s3_bucket_name=BUCKET),
            ocsp=OcspConfiguration(enabled=True),
        ),
    )
    certificates = world.services.certificates
    leaf_arn = certificates.issue(
        caller,
        IssueRequest(
            ca_arn=ca_arn,
            csr=make_csr(),
            signing_algorithm=SigningAlgorithm.SHA256WITHECDSA,
            validity=Validity(days, ValidityType.DAYS),
        ),
    )
    pem = certificates.get(caller, ca_arn, leaf_arn).certificate
    return ca_arn, root, x509.load_pem_x509_certificate(pem.encode())


def published_crl(world: InProcess, ca_arn: str) -> x509.CertificateRevocationList:
    world.publisher.publish_due()
    ca_id = ca_arn.rsplit("/", 1)[1]
    body = world.objects.get_object(BUCKET, f"crl/{ca_id}.crl")
    assert body is not None, "no CRL was published"
    return x509.load_der_x509_crl(body)


def ocsp_answer(
    world: InProcess, leaf: x509.Certificate, root: x509.Certificate
) -> ocsp.OCSPResponse:
    request = ocsp.OCSPRequestBuilder().add_certificate(leaf, root, hashes.SHA1()).build()
    return ocsp.load_der_ocsp_response(world.ocsp.respond(request.public_bytes(Encoding.DER)))


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        (RevocationReason.KEY_COMPROMISE, x509.ReasonFlags.key_compromise),
        (RevocationReason.SUPERSEDED, x509.ReasonFlags.superseded),
        (RevocationReason.CESSATION_OF_OPERATION, x509.ReasonFlags.cessation_of_operation),
    ],
)
def test_the_reason_reaches_the_stored_entry_the_crl_and_the_ocsp_answer(
    world: InProcess, reason: RevocationReason, code: x509.ReasonFlags
) -> None:
    caller = world.new_caller()
    ca_arn, root, leaf = revocable_leaf(world, caller)
    assert (
        published_crl(world, ca_arn).get_revoked_certificate_by_serial_number(leaf.serial_number)
        is None
    )
    good = ocsp_answer(world, leaf, root)
    assert good.certificate_status is ocsp.OCSPCertStatus.GOOD

    revoked_at = world.clock.now()
    world.services.revocation.revoke(caller, ca_arn, f"{leaf.serial_number:x}", reason)

    with world.store.transaction(read_only=True) as tx:
        stored = tx.get_certificate(ca_arn, leaf.serial_number)
        state = tx.get_crl_state(ca_arn)
    assert stored is not None
    assert (stored.revoked_at, stored.revocation_reason) == (revoked_at, reason)
    assert state is not None and state.dirty_since == revoked_at

    crl = published_crl(world, ca_arn)
    entry = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
    assert entry is not None
    assert entry.revocation_date_utc == revoked_at
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is code
    assert crl.is_signature_valid(root.public_key())  # type: ignore[arg-type]

    answer = ocsp_answer(world, leaf, root)
    assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_time_utc == revoked_at
    assert answer.revocation_reason is code


def test_a_certificate_is_revoked_once(world: InProcess) -> None:
    caller = world.new_caller()
    ca_arn, _, leaf = revocable_leaf(world, caller)
    serial = f"{leaf.serial_number:x}"
    world.services.revocation.revoke(caller, ca_arn, serial, RevocationReason.KEY_COMPROMISE)
    first = world.clock.now()
    with pytest.raises(RequestAlreadyProcessed):
        world.services.revocation.revoke(caller, ca_arn, serial, RevocationReason.SUPERSEDED)
    with world.store.transaction(read_only=True) as tx:
        stored = tx.get_certificate(ca_arn, leaf.serial_number)
    assert stored is not None
    assert (stored.revoked_at, stored.revocation_reason) == (first, RevocationReason.KEY_COMPROMISE)


def test_a_crl_is_refreshed_at_half_its_lifetime(world: InProcess) -> None:
    caller = world.new_caller()
    ca_arn, _, _ = revocable_leaf(world, caller)
    published_at = world.clock.now()
    first = published_crl(world, ca_arn)
    assert first.last_update_utc == published_at
    assert first.next_update_utc == published_at + timedelta(days=7)

    world.clock.advance(timedelta(days=3, hours=12) - timedelta(seconds=1))
    assert world.publisher.publish_due() == 0
    world.clock.advance(timedelta(seconds=1))
    second = published_crl(world, ca_arn)
    assert second.last_update_utc == world.clock.now()
    number = first.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert second.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number > number


def test_an_expired_revoked_certificate_stays_on_one_more_crl(world: InProcess) -> None:
    caller = world.new_caller()
    ca_arn, _, leaf = revocable_leaf(world, caller, days=1)
    world.services.revocation.revoke(
        caller, ca_arn, f"{leaf.serial_number:x}", RevocationReason.KEY_COMPROMISE
    )

    def listed() -> bool:
        crl = published_crl(world, ca_arn)
        return crl.get_revoked_certificate_by_serial_number(leaf.serial_number) is not None

    assert listed()
    world.clock.advance(timedelta(days=4))  # the leaf expired; the CRL is due for refresh
    assert world.clock.now() > leaf.not_valid_after_utc
    assert listed()
    world.clock.advance(timedelta(days=4))
    assert not listed()

"""ocsp.delegation: delegated responder certificates, reused and renewed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.support.ocsp_world import (
    World,
    check_signature,
    key_sha1,
    single_request,
)
from tests.support.runtime import MovableClock

# --- delegated responder ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_algorithm", "signing_algorithm"),
    [
        ("EC_prime256v1", "SHA256WITHECDSA"),
        ("RSA_2048", "SHA256WITHRSA_PSS"),
        ("ML_DSA_65", "ML_DSA_65"),
    ],
)
def test_delegated_responder_certificate(
    world: World, key_algorithm: str, signing_algorithm: str
) -> None:
    ca = world.ca(key_algorithm, signing_algorithm)
    leaf = world.issue(ca)
    der = world.responder(delegated=True).respond(single_request(ca, leaf))

    response = ocsp.load_der_ocsp_response(der)
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    (signer,) = response.certificates
    signer.verify_directly_issued_by(ca.certificate)
    check_signature(der, signer.public_key(), ca)
    assert response.responder_key_hash == key_sha1(signer.public_key())
    assert type(signer.public_key()) is type(ca.certificate.public_key())

    extensions = signer.extensions
    eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.OCSP_SIGNING]
    ku = extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    assert extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert not extensions.get_extension_for_class(x509.OCSPNoCheck).critical
    aki = extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert signer.issuer == ca.certificate.subject
    lifetime = signer.not_valid_after_utc - signer.not_valid_before_utc
    assert timedelta(days=1) < lifetime <= timedelta(days=3, minutes=5)
    assert response.next_update_utc is not None
    assert response.next_update_utc <= signer.not_valid_after_utc


def test_delegated_certificate_is_reused_then_renewed(world: World) -> None:
    ca = world.ca()
    leaf = world.issue(ca)
    clock = MovableClock()
    responder = world.responder(clock, delegated=True)
    request = single_request(ca, leaf)

    def signer() -> x509.Certificate:
        (certificate,) = ocsp.load_der_ocsp_response(responder.respond(request)).certificates
        return certificate

    first = signer()
    assert signer().serial_number == first.serial_number
    clock.offset = timedelta(days=2, hours=1)  # past two thirds of a three-day certificate
    renewed = signer()
    assert renewed.serial_number != first.serial_number
    assert renewed.not_valid_after_utc > first.not_valid_after_utc


def test_delegated_responder_refuses_a_certificate_shorter_than_its_responses(world: World) -> None:
    with pytest.raises(ValueError, match="outlive"):
        world.responder(delegated=True, delegated_validity=timedelta(hours=2))

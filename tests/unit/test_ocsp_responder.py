"""ocsp.responder: what the responder answers, for whom, signed by the CA."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asn1crypto import algos as asn1_algos
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from pica.authority.model import (
    CaStatus,
    OcspConfiguration,
    RevocationConfiguration,
    RevocationReason,
)
from pica.authority.ocsp.responder import OcspResponder
from tests.support.ocsp_world import (
    World,
    basic_response,
    cert_id,
    check_signature,
    key_sha1,
    ocsp_request,
    single_request,
    status_of,
)
from tests.support.pki import ec_key
from tests.support.revocation import REASON_CODES
from tests.support.runtime import MovableClock

# --- statuses ---------------------------------------------------------------------------


ALGORITHMS = [
    ("EC_prime256v1", "SHA256WITHECDSA"),
    ("EC_secp384r1", "SHA384WITHECDSA"),
    ("RSA_2048", "SHA256WITHRSA"),
    ("RSA_2048", "SHA512WITHRSA_PSS"),
    ("ML_DSA_44", "ML_DSA_44"),
    ("ML_DSA_87", "ML_DSA_87"),
]


@pytest.mark.parametrize(("key_algorithm", "signing_algorithm"), ALGORITHMS)
def test_good_response_is_signed_by_the_ca(
    world: World, key_algorithm: str, signing_algorithm: str
) -> None:
    ca = world.ca(key_algorithm, signing_algorithm)
    leaf = world.issue(ca)
    clock = MovableClock()
    before = clock.now().replace(microsecond=0)
    der = world.responder(clock).respond(single_request(ca, leaf))

    check_signature(der, ca.certificate.public_key(), ca)
    response = ocsp.load_der_ocsp_response(der)
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == leaf.serial_number
    assert response.responder_key_hash == key_sha1(ca.certificate.public_key())
    assert response.responder_name is None
    assert response.certificates == []  # the CA signs: no certificate to include
    assert response.this_update_utc >= before
    assert response.produced_at_utc == response.this_update_utc
    assert response.next_update_utc == response.this_update_utc + timedelta(hours=1)
    assert list(response.extensions) == []


@pytest.mark.parametrize("reason", list(RevocationReason))
def test_revoked_shows_time_and_reason_at_once(world: World, reason: RevocationReason) -> None:
    ca = world.ca()
    leaf = world.issue(ca)
    responder = world.responder()
    request = single_request(ca, leaf)
    good = ocsp.load_der_ocsp_response(responder.respond(request))
    assert good.certificate_status is ocsp.OCSPCertStatus.GOOD

    revoked_at = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    world.revoke(ca, leaf.serial_number, reason, revoked_at)
    response = ocsp.load_der_ocsp_response(responder.respond(request))
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_time_utc == revoked_at.replace(microsecond=0)
    assert response.revocation_reason is REASON_CODES[reason]


@pytest.mark.parametrize("serial", [0, -5, 1 << 170, 0x1234567890ABCDEF])
def test_serial_never_issued_is_unknown(world: World, serial: int) -> None:
    ca = world.ca()
    der = world.responder().respond(ocsp_request([cert_id(ca.certificate, serial)]))
    basic = basic_response(der)
    (single,) = basic["tbs_response_data"]["responses"]
    assert single["cert_status"].name == "unknown"
    assert single["cert_id"]["serial_number"].native == serial


def test_several_certificates_in_one_request_in_request_order(world: World) -> None:
    ca = world.ca("RSA_2048", "SHA256WITHRSA")
    good, revoked = world.issue(ca), world.issue(ca)
    world.revoke(ca, revoked.serial_number, RevocationReason.SUPERSEDED, datetime.now(UTC))
    ids = [
        cert_id(ca.certificate, revoked.serial_number),
        cert_id(ca.certificate, good.serial_number, "sha256"),
        cert_id(ca.certificate, 0x7777),
        cert_id(ca.certificate, good.serial_number),
    ]
    der = world.responder().respond(ocsp_request(ids))

    check_signature(der, ca.certificate.public_key(), ca)
    responses = list(basic_response(der)["tbs_response_data"]["responses"])
    assert [r["cert_status"].name for r in responses] == ["revoked", "good", "unknown", "good"]
    # Each CertID is echoed exactly as asked (hash algorithm, hashes, serial).
    assert [r["cert_id"].dump() for r in responses] == [i.dump() for i in ids]
    assert responses[0]["cert_status"].chosen["revocation_reason"].native == "superseded"
    for single in responses:
        this_update, next_update = single["this_update"].native, single["next_update"].native
        assert next_update - this_update == timedelta(hours=1)


def test_cert_id_with_absent_hash_parameters_is_echoed_byte_for_byte(world: World) -> None:
    ca = world.ca()
    leaf = world.issue(ca)
    # cryptography writes NULL parameters; this CertID omits them, as some clients do.
    bare = cert_id(ca.certificate, leaf.serial_number)
    bare["hash_algorithm"] = asn1_algos.DigestAlgorithm.load(bytes.fromhex("300706052b0e03021a"))
    der = world.responder().respond(ocsp_request([bare]))
    (single,) = basic_response(der)["tbs_response_data"]["responses"]
    assert single["cert_id"].dump() == bare.dump()
    assert single["cert_status"].name == "good"


def test_nonce_is_echoed(world: World) -> None:
    ca = world.ca()
    leaf = world.issue(ca)
    nonce = secrets.token_bytes(16)
    der = world.responder().answer(
        ocsp_request([cert_id(ca.certificate, leaf.serial_number)], nonce)
    )
    response = ocsp.load_der_ocsp_response(der.der)
    extension = response.extensions.get_extension_for_class(x509.OCSPNonce)
    assert not extension.critical and extension.value.nonce == nonce
    assert not der.cacheable  # a nonce makes the response unique to its request


@pytest.mark.parametrize("nonce", [b"", bytes(33)], ids=["empty", "33-octets"])
def test_nonce_outside_rfc_8954_range_is_malformed(world: World, nonce: bytes) -> None:
    ca = world.ca()
    request = ocsp_request([cert_id(ca.certificate, 1)], nonce)
    assert status_of(world.responder().respond(request)) == "malformed_request"


def _valid_request(world: World) -> bytes:
    return ocsp_request([cert_id(world.ca().certificate, 1)])


@pytest.mark.parametrize(
    "make",
    [
        lambda w: b"",
        lambda w: b"not DER at all",
        lambda w: bytes.fromhex("3000"),  # a SEQUENCE, but no TBSRequest
        lambda w: asn1_ocsp.OCSPRequest({"tbs_request": {"request_list": []}}).dump(),
        lambda w: _valid_request(w) + b"\x00",  # trailing bytes
        lambda w: _valid_request(w)[:-3],  # truncated
        lambda w: x509.load_pem_x509_certificate(
            w.ca().certificate.public_bytes(Encoding.PEM)
        ).public_bytes(Encoding.DER),
    ],
    ids=["empty", "garbage", "empty-sequence", "no-certificates", "trailing", "truncated", "cert"],
)
def test_malformed_request_gets_malformed_request(world: World, make: Any) -> None:
    der = world.responder().respond(make(world))
    response = asn1_ocsp.OCSPResponse.load(der)
    assert response["response_status"].native == "malformed_request"
    assert response["response_bytes"].native is None
    assert ocsp.load_der_ocsp_response(der).response_status is (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )


# --- who may be answered for ------------------------------------------------------------


def test_unknown_issuer_is_unauthorized(world: World) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not a pica CA")])
    key = ec_key()
    foreign = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.now(UTC))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    der = world.responder().respond(ocsp_request([cert_id(foreign, 1)]))
    assert status_of(der) == "unauthorized"
    assert asn1_ocsp.OCSPResponse.load(der)["response_bytes"].native is None


def test_issuer_name_hash_must_match(world: World) -> None:
    ca = world.ca()
    leaf = world.issue(ca)
    wrong_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "impostor")]).public_bytes()
    request = ocsp_request([cert_id(ca.certificate, leaf.serial_number, name=wrong_name)])
    assert status_of(world.responder().respond(request)) == "unauthorized"


def test_unsupported_cert_id_hash_is_unauthorized(world: World) -> None:
    ca = world.ca()
    leaf = world.issue(ca)
    request = ocsp_request([cert_id(ca.certificate, leaf.serial_number, "sha384")])
    assert status_of(world.responder().respond(request)) == "unauthorized"


def test_ca_without_ocsp_is_unauthorized(world: World) -> None:
    ca = world.ca(ocsp_enabled=False)
    leaf = world.issue(ca)
    assert status_of(world.responder().respond(single_request(ca, leaf))) == "unauthorized"


def test_certificates_of_two_cas_in_one_request_are_unauthorized(world: World) -> None:
    first, second = world.ca(), world.ca("RSA_2048", "SHA256WITHRSA")
    a, b = world.issue(first), world.issue(second)
    request = ocsp_request(
        [cert_id(first.certificate, a.serial_number), cert_id(second.certificate, b.serial_number)]
    )
    assert status_of(world.responder().respond(request)) == "unauthorized"
    # Either one alone is answered.
    assert status_of(world.responder().respond(single_request(first, a))) == "successful"


def test_disabled_ca_answers_deleted_does_not(world: World) -> None:
    ca = world.ca(fresh=True)
    leaf = world.issue(ca)
    authorities = world.runtime.services.authorities
    authorities.update(world.caller, ca.arn, CaStatus.DISABLED, None)
    responder = world.responder()
    response = ocsp.load_der_ocsp_response(responder.respond(single_request(ca, leaf)))
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD

    authorities.delete(world.caller, ca.arn, 7)
    assert status_of(responder.respond(single_request(ca, leaf))) == "unauthorized"


def test_expired_ca_is_unauthorized(world: World) -> None:
    ca = world.ca()
    leaf = world.issue(ca)
    clock = MovableClock()
    clock.offset = ca.certificate.not_valid_after_utc - clock.now() + timedelta(seconds=1)
    assert status_of(world.responder(clock).respond(single_request(ca, leaf))) == "unauthorized"


def test_next_update_never_passes_the_ca_certificate(world: World) -> None:
    ca = world.ca()
    leaf = world.issue(ca)
    clock = MovableClock()
    clock.offset = ca.certificate.not_valid_after_utc - clock.now() - timedelta(minutes=10)
    response = ocsp.load_der_ocsp_response(world.responder(clock).respond(single_request(ca, leaf)))
    assert response.next_update_utc == ca.certificate.not_valid_after_utc


class BrokenStore:
    def transaction(self, *, read_only: bool = False) -> Any:
        raise RuntimeError("database unreachable")


def test_store_failure_is_internal_error_not_an_exception(world: World) -> None:
    responder = OcspResponder(BrokenStore(), world.keys, MovableClock())
    assert status_of(responder.respond(_valid_request(world))) == "internal_error"


def test_unsuccessful_answers_are_not_cacheable(world: World) -> None:
    answer = world.responder().answer(b"junk")
    assert not answer.cacheable and answer.next_update is None


# --- what is kept between requests (reuse.py) ---------------------------------------------


def test_a_repeated_nonce_less_request_reuses_the_signed_answer_within_a_second(
    world: World,
) -> None:
    ca = world.ca()
    leaf = world.issue(ca)
    clock = MovableClock()
    clock.offset = timedelta(days=1) - timedelta(microseconds=clock.now().microsecond)
    responder = world.responder(clock)
    request = single_request(ca, leaf)
    first = responder.respond(request)
    assert responder.respond(request) == first  # same producedAt, same signature: reused
    clock.offset += timedelta(seconds=1)
    later = responder.respond(request)
    assert later != first
    assert ocsp.load_der_ocsp_response(later).produced_at_utc == ocsp.load_der_ocsp_response(
        first
    ).produced_at_utc + timedelta(seconds=1)


def test_a_revocation_is_answered_at_once_even_within_the_reuse_second(world: World) -> None:
    ca = world.ca()
    leaf = world.issue(ca)
    clock = MovableClock()
    responder = world.responder(clock)
    request = single_request(ca, leaf)
    good = ocsp.load_der_ocsp_response(responder.respond(request))
    assert good.certificate_status is ocsp.OCSPCertStatus.GOOD
    world.revoke(ca, leaf.serial_number, RevocationReason.KEY_COMPROMISE, clock.now())
    revoked = ocsp.load_der_ocsp_response(responder.respond(request))
    assert revoked.certificate_status is ocsp.OCSPCertStatus.REVOKED


def test_requests_with_a_nonce_are_never_reused(world: World) -> None:
    ca = world.ca()
    leaf = world.issue(ca)
    responder = world.responder()
    request = ocsp_request([cert_id(ca.certificate, leaf.serial_number)], nonce=b"n" * 16)
    first, second = responder.respond(request), responder.respond(request)
    # ECDSA signatures are randomised: a fresh signature each time means a fresh answer.
    assert basic_response(first)["signature"].native != basic_response(second)["signature"].native


def test_an_indexed_ca_that_stops_answering_is_unauthorized_at_once(world: World) -> None:
    ca = world.ca(fresh=True)
    leaf = world.issue(ca)
    responder = world.responder()
    request = single_request(ca, leaf)
    assert status_of(responder.respond(request)) == "successful"
    world.runtime.services.authorities.update(
        world.caller, ca.arn, None, RevocationConfiguration(ocsp=OcspConfiguration(enabled=False))
    )
    assert status_of(responder.respond(request)) == "unauthorized"

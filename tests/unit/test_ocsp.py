"""The OCSP responder on a real runtime (SQLite store, file key store) in a temporary directory.

Requests are built with asn1crypto so several certificates can go in one; single responses are
read back with cryptography, multi-certificate ones with asn1crypto, and every signature is
verified with the signer's public key.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis
import pytest
from asn1crypto import algos as asn1_algos
from asn1crypto import csr as asn1_csr
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given
from hypothesis import strategies as st

from pica import settings
from pica.adapters.keystore.kek_file import FileKeyStore
from pica.app import Runtime, build_runtime
from pica.authority.algorithms import signature_scheme
from pica.authority.authorities import CreateCaRequest
from pica.authority.ca_access import Caller
from pica.authority.certificates import IssueRequest
from pica.authority.key_hashes import subject_public_key_bits
from pica.authority.keys import PrivateKeyCache
from pica.authority.model import (
    CaConfiguration,
    CaStatus,
    CaType,
    KeyAlgorithm,
    OcspConfiguration,
    RevocationConfiguration,
    RevocationReason,
    SigningAlgorithm,
    Subject,
    Validity,
    ValidityType,
)
from pica.authority.ocsp import OcspResponder, signature_algorithm_identifier
from pica.wire.ocsp_http import request_from_path
from tests.support.pki import ec_key, make_csr, rsa_key

ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"


class MovableClock:
    """Real time unless a test moves it."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass(frozen=True)
class Ca:
    arn: str
    certificate: x509.Certificate
    signing_algorithm: SigningAlgorithm


@dataclass
class World:
    runtime: Runtime
    caller: Caller
    keys: PrivateKeyCache
    cas: dict[tuple[str, str, bool], Ca]

    def ca(
        self,
        key_algorithm: str = "EC_prime256v1",
        signing_algorithm: str = "SHA256WITHECDSA",
        *,
        ocsp_enabled: bool = True,
        fresh: bool = False,
    ) -> Ca:
        """An ACTIVE root; shared between tests unless `fresh` (for tests that change it)."""
        slot = (key_algorithm, signing_algorithm, ocsp_enabled)
        if fresh or slot not in self.cas:
            created = self._new_ca(
                KeyAlgorithm(key_algorithm), SigningAlgorithm(signing_algorithm), ocsp_enabled
            )
            if fresh:
                return created
            self.cas[slot] = created
        return self.cas[slot]

    def _new_ca(
        self, key_algorithm: KeyAlgorithm, signing_algorithm: SigningAlgorithm, ocsp_enabled: bool
    ) -> Ca:
        services = self.runtime.services
        arn = services.authorities.create(
            self.caller,
            CreateCaRequest(
                type=CaType.ROOT,
                configuration=CaConfiguration(
                    key_algorithm,
                    signing_algorithm,
                    Subject(country="US", organization="pica tests", common_name="OCSP unit CA"),
                ),
                revocation_configuration=RevocationConfiguration(
                    ocsp=OcspConfiguration(enabled=ocsp_enabled)
                ),
            ),
        )
        csr = services.authorities.get_csr(self.caller, arn)
        cert_arn = services.certificates.issue(
            self.caller,
            IssueRequest(
                ca_arn=arn,
                csr=csr.encode(),
                signing_algorithm=signing_algorithm,
                validity=Validity(5, ValidityType.YEARS),
                template_arn=ROOT_TEMPLATE,
            ),
        )
        pem = services.certificates.get(self.caller, arn, cert_arn).certificate
        services.authorities.import_certificate(self.caller, arn, pem.encode(), None)
        return Ca(arn, x509.load_pem_x509_certificate(pem.encode()), signing_algorithm)

    def issue(self, ca: Ca) -> x509.Certificate:
        services = self.runtime.services
        cert_arn = services.certificates.issue(
            self.caller,
            IssueRequest(
                ca_arn=ca.arn,
                csr=make_csr(),
                signing_algorithm=ca.signing_algorithm,
                validity=Validity(30, ValidityType.DAYS),
            ),
        )
        pem = services.certificates.get(self.caller, ca.arn, cert_arn).certificate
        return x509.load_pem_x509_certificate(pem.encode())

    def revoke(self, ca: Ca, serial: int, reason: RevocationReason, at: datetime) -> None:
        with self.runtime.store.transaction() as tx:
            assert tx.revoke_certificate(ca.arn, serial, at, reason)

    def responder(self, clock: MovableClock | None = None, **options: Any) -> OcspResponder:
        return OcspResponder(self.runtime.store, self.keys, clock or MovableClock(), **options)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data_dir = tmp_path_factory.mktemp("ocsp") / "data"
    runtime = build_runtime(settings.build({"data_dir": str(data_dir)}), initialise=True)
    try:
        account = runtime.services.accounts.create_account()
        # The responder gets its own key cache, as a separate OCSP process would.
        keys = PrivateKeyCache(FileKeyStore.load(runtime.settings.resolved_kek_file))
        yield World(runtime, Caller(account.account_id), keys, {})
    finally:
        runtime.close()


# --- building requests and reading responses --------------------------------------------


def cert_id(
    issuer: x509.Certificate, serial: int, algorithm: str = "sha1", *, name: bytes | None = None
) -> Any:
    digest = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384}[algorithm]
    return asn1_ocsp.CertId(
        {
            "hash_algorithm": {"algorithm": algorithm},
            "issuer_name_hash": digest(name or issuer.subject.public_bytes()).digest(),
            "issuer_key_hash": digest(subject_public_key_bits(issuer.public_key())).digest(),
            "serial_number": serial,
        }
    )


def ocsp_request(cert_ids: list[Any], nonce: bytes | None = None) -> bytes:
    tbs: dict[str, Any] = {"request_list": [{"req_cert": c} for c in cert_ids]}
    if nonce is not None:
        tbs["request_extensions"] = [{"extn_id": "nonce", "extn_value": nonce}]
    der: bytes = asn1_ocsp.OCSPRequest({"tbs_request": tbs}).dump()
    return der


def single_request(ca: Ca, certificate: x509.Certificate) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(certificate, ca.certificate, hashes.SHA1())
    return builder.build().public_bytes(Encoding.DER)


def basic_response(der: bytes) -> Any:
    response = asn1_ocsp.OCSPResponse.load(der)
    assert response["response_status"].native == "successful"
    return response["response_bytes"]["response"].parsed


def status_of(der: bytes) -> str:
    native: str = asn1_ocsp.OCSPResponse.load(der)["response_status"].native
    return native


def verify(
    public_key: CertificatePublicKeyTypes,
    algorithm: SigningAlgorithm,
    signature: bytes,
    data: bytes,
) -> None:
    """Raise InvalidSignature unless `signature` is the algorithm's signature of `data`."""
    scheme = signature_scheme(algorithm)
    if isinstance(public_key, rsa.RSAPublicKey):
        rsa_padding = scheme.rsa_padding()
        assert rsa_padding is not None and scheme.hash_algorithm is not None
        public_key.verify(signature, data, rsa_padding, scheme.hash_algorithm)
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        assert scheme.hash_algorithm is not None
        public_key.verify(signature, data, ec.ECDSA(scheme.hash_algorithm))
    else:
        assert isinstance(
            public_key, mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey
        )
        public_key.verify(signature, data)


def check_signature(der: bytes, public_key: CertificatePublicKeyTypes, ca: Ca) -> None:
    basic = basic_response(der)
    assert basic["signature_algorithm"].dump() == signature_algorithm_identifier(
        ca.signing_algorithm
    )
    verify(
        public_key,
        ca.signing_algorithm,
        basic["signature"].native,
        basic["tbs_response_data"].dump(),
    )


def key_sha1(public_key: CertificatePublicKeyTypes) -> bytes:
    return hashlib.sha1(subject_public_key_bits(public_key)).digest()


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
    expected = {
        RevocationReason.UNSPECIFIED: x509.ReasonFlags.unspecified,
        RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
        RevocationReason.CERTIFICATE_AUTHORITY_COMPROMISE: x509.ReasonFlags.ca_compromise,
        RevocationReason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
        RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
        RevocationReason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
        RevocationReason.PRIVILEGE_WITHDRAWN: x509.ReasonFlags.privilege_withdrawn,
        RevocationReason.A_A_COMPROMISE: x509.ReasonFlags.aa_compromise,
    }
    assert response.revocation_reason is expected[reason]


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


# --- signature algorithm identifiers ----------------------------------------------------


@pytest.mark.parametrize("algorithm", [a for a in SigningAlgorithm if a.name != "SM3WITHSM2"])
def test_signature_algorithm_identifier_matches_cryptographys(algorithm: SigningAlgorithm) -> None:
    """The identifier a response declares is the one cryptography writes into certificates."""
    scheme = signature_scheme(algorithm)
    key: Any = {
        "RSA": lambda: rsa_key(),
        "ECDSA": lambda: ec_key(),
        "ML_DSA_44": mldsa.MLDSA44PrivateKey.generate,
        "ML_DSA_65": mldsa.MLDSA65PrivateKey.generate,
        "ML_DSA_87": mldsa.MLDSA87PrivateKey.generate,
    }[scheme.family.value]()
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "alg")])
    )
    signed = csr.sign(key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())
    parsed = asn1_csr.CertificationRequest.load(signed.public_bytes(Encoding.DER))
    assert parsed["signature_algorithm"].dump() == signature_algorithm_identifier(algorithm)


def test_pss_padding_matches_the_declared_salt_length() -> None:
    assert isinstance(
        signature_scheme(SigningAlgorithm.SHA384WITHRSA_PSS).rsa_padding(), padding.PSS
    )
    identifier = asn1_algos.SignedDigestAlgorithm.load(
        signature_algorithm_identifier(SigningAlgorithm.SHA384WITHRSA_PSS)
    )
    assert identifier["parameters"]["salt_length"].native == 48


# --- GET paths --------------------------------------------------------------------------


def test_request_from_path_finds_base64_containing_slashes(world: World) -> None:
    ca = world.ca()
    # Find a request whose base64 has a "/" in it, as a real one often does.
    while True:
        der = ocsp_request([cert_id(ca.certificate, secrets.randbits(64) | 1)])
        encoded = base64.b64encode(der).decode()
        if "/" in encoded and "+" in encoded:
            break
    for prefix in ("", "ocsp/", "some/deep/prefix/"):
        assert request_from_path(prefix + encoded) == der
        assert request_from_path("/" + prefix + encoded) == der
    # A "+" decoded to a space on the way is still read as "+".
    assert request_from_path("ocsp/" + encoded.replace("+", " ")) == der


@pytest.mark.parametrize(
    "path",
    ["", "ocsp", "ocsp/", "favicon.ico", "ocsp/bm90IGRlcg==", "ocsp/MAA", "crl/x.crl", "MA/\x80"],
)
def test_request_from_path_rejects_what_is_not_a_der_request(path: str) -> None:
    assert request_from_path(path) is None


def test_unsuccessful_answers_are_not_cacheable(world: World) -> None:
    answer = world.responder().answer(b"junk")
    assert not answer.cacheable and answer.next_update is None


@pytest.mark.parametrize(
    "path",
    [
        "/" * 20_000,
        "MA/" * 20_000,
        "ocsp/" + "MIIB/" * 20_000,
        "/".join("MAA" + "A" * i for i in range(300)),
    ],
    ids=["slashes", "tiny-sequences", "long-form-headers", "growing-segments"],
)
def test_request_from_path_is_linear_in_the_path(path: str) -> None:
    """The parser once tried every trailing run of segments as base64: quadratic, and 9 s on
    the event loop for a 50,000-slash GET."""
    started = time.perf_counter()
    assert request_from_path(path) is None
    assert time.perf_counter() - started < 1.0  # the old parser: 4 to 10 s


def test_request_from_path_finds_the_request_after_a_long_prefix(world: World) -> None:
    der = ocsp_request([cert_id(world.ca().certificate, 7)])
    encoded = base64.b64encode(der).decode()
    assert request_from_path("x/" * 20_000 + encoded) == der
    # A request is found whatever a crafted prefix claims about its own length.
    assert request_from_path("MIIB/" * 1_000 + encoded) == der


@given(path=st.text(alphabet="MIAB/+= ab\x80é", max_size=300))
@hypothesis.settings(max_examples=300, deadline=None, database=None)
def test_request_from_path_returns_a_whole_der_sequence_or_none(path: str) -> None:
    der = request_from_path(path)
    if der is not None:
        assert der[0] == 0x30 and base64.b64encode(der).decode() in path.replace(" ", "+")

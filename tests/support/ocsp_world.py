"""The OCSP responder's unit-test world: a real runtime (SQLite store, file key store) in a
temporary directory, ACTIVE roots on it, and requests and responses built and read with
asn1crypto and cryptography, every signature verified with the signer's public key."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from pica import settings
from pica.adapters.keystore.file_signer import FileSigningKeyStore
from pica.adapters.keystore.kek_file import FileKeyStore
from pica.app import Runtime, build_runtime
from pica.authority.algorithms import signature_scheme
from pica.authority.ca_access import Caller
from pica.authority.certificates import IssueRequest
from pica.authority.key_hashes import subject_public_key_bits
from pica.authority.model import (
    KeyAlgorithm,
    RevocationReason,
    SigningAlgorithm,
    Validity,
    ValidityType,
)
from pica.authority.ocsp.responder import OcspResponder
from pica.authority.ocsp.signature import signature_algorithm_identifier
from tests.support.pki import make_csr
from tests.support.runtime import MovableClock, active_root


@dataclass(frozen=True)
class Ca:
    arn: str
    certificate: x509.Certificate
    signing_algorithm: SigningAlgorithm


@dataclass
class World:
    runtime: Runtime
    caller: Caller
    keys: FileSigningKeyStore
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
        arn, certificate = active_root(
            self.runtime,
            self.caller,
            key_algorithm,
            signing_algorithm,
            ocsp_enabled=ocsp_enabled,
            common_name="OCSP unit CA",
        )
        return Ca(arn, certificate, signing_algorithm)

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


@contextlib.contextmanager
def open_world(data_dir: Path) -> Iterator[World]:
    runtime = build_runtime(settings.build({"data_dir": str(data_dir)}), initialise=True)
    try:
        account = runtime.services.accounts.create_account()
        # The responder gets its own key cache, as a separate OCSP process would.
        keys = FileSigningKeyStore(FileKeyStore.load(runtime.settings.resolved_kek_file))
        yield World(runtime, Caller(account.account_id), keys, {})
    finally:
        runtime.close()


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

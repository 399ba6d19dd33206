"""What the lint gate costs per certificate, next to what signing it costs.

Run: `.venv/bin/python -m bench.lint_gate [N]` (N certificates per measurement, default 300).

For an EC P-256 and an RSA-2048 issuer, prints the time per certificate of
- (a) signing the certificate with the CA key (what issuance does anyway),
- (b) the gate's fast path: throwaway signature + structural rules (every certificate),
- (c) the gate with pkilint: throwaway signature in the CA's family + structural rules +
  pkilint's PKIX validators (passthrough, Blank and CA certificates by default),
with (b) and (c) as ratios of (a). The certificates look like pica's EndEntityCertificate/V1
output: EC P-256 subject key, SAN, keyUsage, extendedKeyUsage, CRL distribution point, OCSP URL.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    ExtendedKeyUsageOID,
    NameOID,
)

from pica.authority.algorithms import signature_scheme
from pica.authority.issuance import new_serial
from pica.authority.lint.gate import LintGate, LintMode
from pica.authority.model import SigningAlgorithm
from pica.authority.throwaway import throwaway_key

NOW = datetime.now(UTC).replace(microsecond=0)
WARM_UP = 20


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pica bench"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def issuer_certificate(
    key: CertificateIssuerPrivateKeyTypes, algorithm: SigningAlgorithm
) -> x509.Certificate:
    name = _name("bench root")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    scheme = signature_scheme(algorithm)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(new_serial())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())
    )


def end_entity_builders(issuer: x509.Certificate, count: int) -> list[x509.CertificateBuilder]:
    """`count` distinct unsigned end-entity certificates, built before any clock starts."""
    issuer_ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builders = []
    for index in range(count):
        public = ec.generate_private_key(ec.SECP256R1()).public_key()
        host = f"host{index}.bench.example"
        builders.append(
            x509.CertificateBuilder()
            .subject_name(_name(host))
            .issuer_name(issuer.subject)
            .public_key(public)
            .serial_number(new_serial())
            .not_valid_before(NOW)
            .not_valid_after(NOW + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier("http://127.0.0.1:8080/crl/bench.crl")],
                            None,
                            None,
                            None,
                        )
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier("http://127.0.0.1:8080/ocsp/bench"),
                        )
                    ]
                ),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
                critical=False,
            )
        )
    return builders


def per_certificate(
    builders: list[x509.CertificateBuilder], action: Callable[[x509.CertificateBuilder], object]
) -> float:
    """Seconds per certificate of `action`, after a warm-up on the first builders."""
    for builder in builders[:WARM_UP]:
        action(builder)
    start = time.perf_counter()
    for builder in builders:
        action(builder)
    return (time.perf_counter() - start) / len(builders)


def measure(
    label: str, key: CertificateIssuerPrivateKeyTypes, algorithm: SigningAlgorithm, count: int
) -> None:
    issuer = issuer_certificate(key, algorithm)
    builders = end_entity_builders(issuer, count)
    scheme = signature_scheme(algorithm)
    throwaway_key(scheme.family)  # made once per process; not part of any certificate's cost
    fast = LintGate(LintMode.OFF)
    full = LintGate(LintMode.ALL)

    def sign(builder: x509.CertificateBuilder) -> object:
        return builder.sign(key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())

    def gate(lint: LintGate) -> Callable[[x509.CertificateBuilder], object]:
        def check(builder: x509.CertificateBuilder) -> object:
            lint.check(builder, signing_algorithm=algorithm, issuer=issuer, shaped=True)
            return None

        return check

    signing = per_certificate(builders, sign)
    structural = per_certificate(builders, gate(fast))
    pkilint = per_certificate(builders, gate(full))
    print(
        f"  {label:<26} {1e6 * signing:9.0f} µs {1e6 * structural:9.0f} µs "
        f"{1e6 * pkilint:9.0f} µs {structural / signing:8.2f}x {pkilint / signing:8.2f}x"
    )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    print(f"Lint gate cost per certificate ({count} end-entity certificates each):")
    print(
        f"  {'issuer':<26} {'(a) sign':>12} {'(b) struct':>12} {'(c) +pkilint':>12} "
        f"{'(b)/(a)':>9} {'(c)/(a)':>9}"
    )
    measure(
        "EC P-256 / SHA256WITHECDSA",
        ec.generate_private_key(ec.SECP256R1()),
        SigningAlgorithm.SHA256WITHECDSA,
        count,
    )
    measure(
        "RSA-2048 / SHA256WITHRSA",
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        SigningAlgorithm.SHA256WITHRSA,
        count,
    )
    print(
        "  (b) runs on every certificate; (c) where the caller shapes it (passthrough, Blank, CA)"
        " or everywhere with LintMode.ALL."
    )


if __name__ == "__main__":
    main()

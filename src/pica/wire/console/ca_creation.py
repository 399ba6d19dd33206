""" "Create certificate authority": the API's calls, made in one go from one form.

A root CA is created with CRL and OCSP on (CRLs in the bucket `pica-crl-<account>`, as `pica
init` names it), self-signed with RootCACertificate/V1 and activated by importing that
certificate: CreateCertificateAuthority, GetCertificateAuthorityCsr, IssueCertificate,
GetCertificate, ImportCertificateAuthorityCertificate, each authorized and audited as the API's.
A subordinate CA is only created: its CSR is shown for the parent CA to sign.
"""

from __future__ import annotations

from dataclasses import dataclass

from pica.authority.authorities import CreateCaRequest
from pica.authority.ca_access import Caller
from pica.authority.certificates import IssueRequest
from pica.authority.model import (
    CaConfiguration,
    CaType,
    CrlConfiguration,
    KeyAlgorithm,
    OcspConfiguration,
    RevocationConfiguration,
    SigningAlgorithm,
    Subject,
    Validity,
    ValidityType,
)
from pica.errors import InvalidArgs
from pica.wire.awsjson.handlers import ApiServices

ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"
ROOT_VALIDITY_YEARS = 10
CRL_DAYS = 7

# The key algorithms the form offers, with the signing algorithm each signs with.
SIGNING = {
    KeyAlgorithm.EC_prime256v1: SigningAlgorithm.SHA256WITHECDSA,
    KeyAlgorithm.EC_secp384r1: SigningAlgorithm.SHA384WITHECDSA,
    KeyAlgorithm.EC_secp521r1: SigningAlgorithm.SHA512WITHECDSA,
    KeyAlgorithm.RSA_2048: SigningAlgorithm.SHA256WITHRSA,
    KeyAlgorithm.RSA_3072: SigningAlgorithm.SHA256WITHRSA,
    KeyAlgorithm.RSA_4096: SigningAlgorithm.SHA256WITHRSA,
    KeyAlgorithm.ML_DSA_44: SigningAlgorithm.ML_DSA_44,
    KeyAlgorithm.ML_DSA_65: SigningAlgorithm.ML_DSA_65,
    KeyAlgorithm.ML_DSA_87: SigningAlgorithm.ML_DSA_87,
}
KEY_ALGORITHMS = tuple(algorithm.value for algorithm in SIGNING)


@dataclass(frozen=True)
class CreatedCa:
    arn: str
    csr_pem: str | None  # a subordinate's CSR, to take to the parent CA


def create_ca(
    services: ApiServices, caller: Caller, common_name: str, key_algorithm: str, ca_type: str
) -> CreatedCa:
    key = next((k for k in SIGNING if k.value == key_algorithm), None)
    if key is None:
        raise InvalidArgs(f"Key algorithm must be one of {', '.join(KEY_ALGORITHMS)}.")
    if ca_type not in (CaType.ROOT.value, CaType.SUBORDINATE.value):
        raise InvalidArgs("Type must be ROOT or SUBORDINATE.")
    if not common_name.strip():
        raise InvalidArgs("Common name must not be empty.")
    signing = SIGNING[key]
    arn = services.authorities.create(
        caller,
        CreateCaRequest(
            type=CaType(ca_type),
            configuration=CaConfiguration(
                key_algorithm=key,
                signing_algorithm=signing,
                subject=Subject(common_name=common_name.strip()),
            ),
            revocation_configuration=RevocationConfiguration(
                crl=CrlConfiguration(
                    enabled=True,
                    expiration_in_days=CRL_DAYS,
                    s3_bucket_name=f"pica-crl-{caller.account_id}",
                ),
                ocsp=OcspConfiguration(enabled=True),
            ),
        ),
    )
    csr = services.authorities.get_csr(caller, arn)
    if ca_type == CaType.SUBORDINATE.value:
        return CreatedCa(arn, csr)
    certificate_arn = services.certificates.issue(
        caller,
        IssueRequest(
            ca_arn=arn,
            csr=csr.encode("ascii"),
            signing_algorithm=signing,
            validity=Validity(ROOT_VALIDITY_YEARS, ValidityType.YEARS),
            template_arn=ROOT_TEMPLATE,
        ),
    )
    pem = services.certificates.get(caller, arn, certificate_arn).certificate
    services.authorities.import_certificate(caller, arn, pem.encode("ascii"), None)
    return CreatedCa(arn, None)

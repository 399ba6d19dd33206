"""`pica init`: a usable root CA in one command, made by the services the API handlers call.

What the six AWS calls of the documented flow do (CreateCertificateAuthority with CRL and
OCSP on, GetCertificateAuthorityCsr, IssueCertificate with RootCACertificate/V1,
GetCertificate, ImportCertificateAuthorityCertificate), in-process, on the same database as
the server: so it works whether a server runs on the data dir or not (SQLite in WAL mode or a
shared PostgreSQL), and a running server sees the CA at once.

Set-up, as `step ca init`: on an absent or empty data dir it first initialises what `pica
serve` would (data dir, database, KEK, the first account and its client files). On an
existing installation it adds the CA to the account whose key is in the data dir's
`credentials` file (or `--account`) and writes nothing else but the root certificate file,
which it never overwrites: an existing file stops it before anything is made.

CRLs go to the object store pica is configured with, in a bucket pica names after the account
(`pica-crl-<account id>`, owned by that account, see docs/decisions.md "Buckets are owned");
with the local store pica serves them itself, and OCSP is answered at `<public_url>/ocsp`.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from pica.app import Runtime, bootstrap, build_runtime, client_exports
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
from pica.settings import Settings
from pica.startup import StartupError

ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"
CRL_DAYS = 7
MAX_YEARS = 100
ROOT_FILE = "root-ca.pem"

# The signing algorithm a root of each key algorithm signs with (AWS pairs them by family).
SIGNING_ALGORITHMS = {
    KeyAlgorithm.RSA_2048: SigningAlgorithm.SHA256WITHRSA,
    KeyAlgorithm.RSA_3072: SigningAlgorithm.SHA256WITHRSA,
    KeyAlgorithm.RSA_4096: SigningAlgorithm.SHA256WITHRSA,
    KeyAlgorithm.EC_prime256v1: SigningAlgorithm.SHA256WITHECDSA,
    KeyAlgorithm.EC_secp384r1: SigningAlgorithm.SHA384WITHECDSA,
    KeyAlgorithm.EC_secp521r1: SigningAlgorithm.SHA512WITHECDSA,
    KeyAlgorithm.ML_DSA_44: SigningAlgorithm.ML_DSA_44,
    KeyAlgorithm.ML_DSA_65: SigningAlgorithm.ML_DSA_65,
    KeyAlgorithm.ML_DSA_87: SigningAlgorithm.ML_DSA_87,
}


@dataclass(frozen=True)
class RootRequest:
    common_name: str
    key_algorithm: str = KeyAlgorithm.RSA_2048.value
    validity_years: int = 10
    organization: str | None = None
    account_id: str | None = None
    output: Path | None = None  # default: root-ca.pem in the data dir


@dataclass(frozen=True)
class RootCa:
    """What `pica init` made, for the report."""

    arn: str
    account_id: str
    sha256_fingerprint: str
    certificate_path: Path
    crl_bucket: str
    signing_algorithm: SigningAlgorithm
    new_account_exports: str | None  # the client exports, when init created the account

    def next_command(self) -> str:
        """The AWS guide's issuance command, for this CA."""
        return (
            f"aws acm-pca issue-certificate --certificate-authority-arn {self.arn} "
            f'--csr fileb://cert_1.csr --signing-algorithm "{self.signing_algorithm}" '
            '--validity Value=365,Type="DAYS" --idempotency-token 1234'
        )


def create_root(settings: Settings, request: RootRequest) -> RootCa:
    key_algorithm = next((k for k in SIGNING_ALGORITHMS if k.value == request.key_algorithm), None)
    if key_algorithm is None:
        raise StartupError(
            f"--key-algorithm {request.key_algorithm!r} is not one of "
            + ", ".join(SIGNING_ALGORITHMS)
        )
    if not 1 <= request.validity_years <= MAX_YEARS:
        raise StartupError(f"--validity-years must be between 1 and {MAX_YEARS}")
    output = (request.output or settings.data_dir / ROOT_FILE).absolute()
    if output.exists():
        raise StartupError(
            f"{output} exists and pica overwrites nothing: move it away, or pass --output "
            "to write the root certificate elsewhere"
        )
    if not output.parent.is_dir() and request.output is not None:
        raise StartupError(f"no folder {output.parent} to write {output.name} into")
    runtime = build_runtime(settings, initialise=True)
    try:
        exports = None
        if not runtime.services.accounts.list_accounts():
            bootstrap(runtime)
            exports = client_exports(settings)
        account_id = request.account_id or _data_dir_account(runtime)
        return _make_root(runtime, request, key_algorithm, account_id, output, exports)
    finally:
        runtime.close()


def _data_dir_account(runtime: Runtime) -> str:
    """The account whose access key the data dir's `credentials` file holds (profile pica)."""
    path = runtime.settings.data_dir / "credentials"
    parser = configparser.ConfigParser()
    try:
        found = parser.read(path)
    except configparser.Error as error:
        raise StartupError(f"cannot read {path}: {error.message}") from error
    key = parser.get("pica", "aws_access_key_id", fallback=None) if found else None
    if key is None:
        raise StartupError(
            f"no access key in {path} (profile pica): pass --account with the account id "
            "the root CA is for"
        )
    owner = runtime.services.accounts.secret_for(key)
    if owner is None:
        raise StartupError(
            f"the access key {key} in {path} is not in the database "
            f"{runtime.store.display_url}: check --database-url, or pass --account"
        )
    return owner[1]


def _make_root(
    runtime: Runtime,
    request: RootRequest,
    key_algorithm: KeyAlgorithm,
    account_id: str,
    output: Path,
    exports: str | None,
) -> RootCa:
    services = runtime.services
    caller = Caller(account_id)
    signing = SIGNING_ALGORITHMS[key_algorithm]
    bucket = f"pica-crl-{account_id}"
    arn = services.authorities.create(
        caller,
        CreateCaRequest(
            type=CaType.ROOT,
            configuration=CaConfiguration(
                key_algorithm=key_algorithm,
                signing_algorithm=signing,
                subject=Subject(common_name=request.common_name, organization=request.organization),
            ),
            revocation_configuration=RevocationConfiguration(
                crl=CrlConfiguration(
                    enabled=True, expiration_in_days=CRL_DAYS, s3_bucket_name=bucket
                ),
                ocsp=OcspConfiguration(enabled=True),
            ),
        ),
    )
    csr = services.authorities.get_csr(caller, arn)
    certificate_arn = services.certificates.issue(
        caller,
        IssueRequest(
            ca_arn=arn,
            csr=csr.encode("ascii"),
            signing_algorithm=signing,
            validity=Validity(request.validity_years, ValidityType.YEARS),
            template_arn=ROOT_TEMPLATE,
        ),
    )
    pem = services.certificates.get(caller, arn, certificate_arn).certificate
    services.authorities.import_certificate(caller, arn, pem.encode("ascii"), None)
    certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    _write_new(output, pem if pem.endswith("\n") else pem + "\n")
    return RootCa(
        arn=arn,
        account_id=account_id,
        sha256_fingerprint=certificate.fingerprint(hashes.SHA256()).hex(":").upper(),
        certificate_path=output,
        crl_bucket=bucket,
        signing_algorithm=signing,
        new_account_exports=exports,
    )


def _write_new(path: Path, text: str) -> None:
    """Create `path` (0644: a root certificate is public) and fail if it appeared meanwhile."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(descriptor, "w") as handle:
        os.fchmod(handle.fileno(), 0o644)
        handle.write(text)

"""`pica init`: a usable root CA in one command, with or without a running server, on SQLite
and PostgreSQL; and README's walkthrough, run as a user pastes it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from pica.cli import main
from tests.support.pki import issue
from tests.support.server import LiveServer, free_port

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def run_pica(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PICA_"))}
    return subprocess.run(
        [sys.executable, "-m", "pica", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


def walkthrough() -> str:
    """The shell block README marks as the walkthrough, exactly as written there."""
    text = README.read_text()
    start = text.index("<!-- walkthrough")
    return text[start:].split("```sh\n", 1)[1].split("\n```", 1)[0] + "\n"


def test_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    # The reader's checkout: its .venv (pica, aws) and ./pica-data, served by `make run`.
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    live = LiveServer(tmp_path / "pica-data", free_port())
    live.start()
    try:
        env = live.cli_env()
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        completed = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", walkthrough()],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        live.stop()
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "cert.pem: OK" in completed.stdout
    assert "certificate revoked" in output
    assert "refused: revoked" in completed.stdout
    assert "Response verify OK" in output
    assert "cert.pem: revoked" in completed.stdout
    assert "Key Compromise" in completed.stdout
    certificate = x509.load_pem_x509_certificate((tmp_path / "cert.pem").read_bytes())
    assert certificate.subject.rfc4514_string() == "CN=www.example.com"


def test_init_prints_what_was_made_and_the_next_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No server running: init sets the data dir up, then a server started on it issues."""
    data = tmp_path / "data"
    completed = run_pica(
        "init", "--data-dir", str(data), "--common-name", "Ops Root", "--key-algorithm",
        "EC_prime256v1", "--validity-years", "3", "--json",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    made = json.loads(completed.stdout)
    pem = Path(made["CertificatePath"])
    assert pem == data / "root-ca.pem"
    root = x509.load_pem_x509_certificate(pem.read_bytes())
    assert root.fingerprint(hashes.SHA256()).hex(":").upper() == made["Sha256Fingerprint"]
    assert root.subject == root.issuer
    assert root.subject.rfc4514_string() == "CN=Ops Root"
    assert 3 * 365 <= (root.not_valid_after_utc - root.not_valid_before_utc).days <= 3 * 366
    arn = made["CertificateAuthorityArn"]
    assert made["NextCommand"].startswith(
        f"aws acm-pca issue-certificate --certificate-authority-arn {arn}"
    )
    assert '--signing-algorithm "SHA256WITHECDSA"' in made["NextCommand"]
    assert (data / "credentials").is_file()
    assert (data / "kek").is_file()

    live = LiveServer(data, free_port())
    live.start()
    try:
        pca = live.client()
        ca = pca.describe_certificate_authority(
            CertificateAuthorityArn=made["CertificateAuthorityArn"]
        )["CertificateAuthority"]
        assert ca["Status"] == "ACTIVE"
        assert ca["Type"] == "ROOT"
        revocation = ca["RevocationConfiguration"]
        assert revocation["CrlConfiguration"]["Enabled"] is True
        assert revocation["CrlConfiguration"]["S3BucketName"] == made["CrlBucket"]
        assert revocation["OcspConfiguration"]["Enabled"] is True
        certificate, _ = issue(pca, made["CertificateAuthorityArn"])
        assert certificate.issuer == root.subject
        urls = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints)
        crl_url = urls.value[0].full_name[0].value  # type: ignore[index]
        assert crl_url.startswith(f"{live.endpoint}/{made['CrlBucket']}/crl/")
        aia = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
        assert [d.access_location.value for d in aia.value] == [f"{live.endpoint}/ocsp"]

        # A second root needs a file of its own: nothing is overwritten.
        assert main(["init", "--data-dir", str(data), "--common-name", "Another"]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "overwrites nothing" in error
        another = ["--common-name", "Another", "--output", str(tmp_path / "another.pem")]
        assert main(["init", "--data-dir", str(data), *another]) == 0
        arn = re.search(r"CA ARN\s+(\S+)", capsys.readouterr().out)
        assert arn is not None
        # Made while the server runs: the server sees it at once.
        described = pca.describe_certificate_authority(CertificateAuthorityArn=arn.group(1))
        assert described["CertificateAuthority"]["Status"] == "ACTIVE"
    finally:
        live.stop()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--key-algorithm", "SM2"), "--key-algorithm"),
        (("--validity-years", "0"), "--validity-years"),
        (("--output", "/nonexistent-folder/root.pem"), "no folder"),
    ],
)
def test_init_refuses_bad_requests_in_one_line(
    tmp_path: Path, args: tuple[str, ...], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    assert main(["init", "--data-dir", str(data), "--common-name", "X", *args]) == 2
    error = capsys.readouterr().err
    assert error.startswith("pica: ") and error.count("\n") == 1
    assert says in error
    assert not data.exists()  # refused before anything was made

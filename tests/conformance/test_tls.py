"""`pica serve --tls`: HTTPS with the internal TLS CA, as boto3, the aws CLI and openssl see it;
keep-alive without Nagle stalls; renewal of the server certificate while the server runs; the
operator's own certificate files; start-up errors in one line."""

from __future__ import annotations

import configparser
import http.client
import os
import socket
import ssl
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from tests.support.pki import (
    ca_certificate,
    cdp_url,
    issue,
    make_csr,
    new_root,
    new_root_with_revocation,
    ocsp_url,
)
from tests.support.revocation import OCSP_REQUEST, der_request, revoke
from tests.support.server import LiveServer, free_port


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(
        tmp_path_factory.mktemp("tls") / "data",
        free_port(),
        extra_args=("--tls", "--workers", "2"),
        tls=True,
    )
    live.start()
    try:
        yield live
    finally:
        live.stop()


def _profile_env(server: LiveServer) -> dict[str, str]:
    """Only the generated files: no CA bundle variable, no endpoint, no flags."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k not in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
    }
    env.update(
        AWS_CONFIG_FILE=str(server.data_dir / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(server.data_dir / "credentials"),
        AWS_PROFILE="pica",
    )
    return env


def _profile_client(server: LiveServer, monkeypatch: pytest.MonkeyPatch, service: str) -> Any:
    for name in [k for k in os.environ if k.startswith("AWS_")] + ["REQUESTS_CA_BUNDLE"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in _profile_env(server).items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    return boto3.session.Session().client(service)


def _peer_certificate(port: int, cafile: Path | None = None) -> x509.Certificate:
    context = (
        ssl.create_default_context(cafile=str(cafile))
        if cafile
        else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    )
    if cafile is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as wrapped,
    ):
        der = wrapped.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def test_the_profile_names_the_https_endpoint_and_the_bundle(tls_server: LiveServer) -> None:
    config = configparser.ConfigParser()
    config.read(tls_server.data_dir / "config")
    profile = config["profile pica"]
    assert profile["endpoint_url"] == tls_server.endpoint
    bundle = Path(profile["ca_bundle"])
    assert bundle == tls_server.data_dir / "tls" / "ca-bundle.pem"
    root = x509.load_pem_x509_certificate(bundle.read_bytes())
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_boto3_with_the_generated_profile_works_over_https(
    tls_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pca = _profile_client(tls_server, monkeypatch, "acm-pca")
    assert pca.meta.endpoint_url.startswith("https://")
    root = new_root(pca)
    certificate, chain = issue(pca, root, make_csr())
    assert chain.startswith("-----BEGIN CERTIFICATE-----")
    assert certificate.subject.rfc4514_string() == "CN=www.example.com"
    acm = _profile_client(tls_server, monkeypatch, "acm")
    assert "CertificateSummaryList" in acm.list_certificates()
    # The tenant's API never shows the internal TLS root.
    names = [
        ca["CertificateAuthorityConfiguration"]["Subject"].get("CommonName", "")
        for ca in pca.list_certificate_authorities()["CertificateAuthorities"]
    ]
    assert not any("internal TLS" in name for name in names)


def test_the_aws_cli_works_over_https_with_the_profile_alone(
    tls_server: LiveServer, tmp_path: Path
) -> None:
    aws = Path(sys.executable).with_name("aws")
    done = subprocess.run(
        [str(aws), "acm-pca", "list-certificate-authorities", "--output", "json"],
        env=_profile_env(tls_server),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "CertificateAuthorities" in done.stdout
    # The same call with the ca_bundle line removed fails verification: it is what trusts pica.
    config = tmp_path / "config"
    text = (tls_server.data_dir / "config").read_text()
    config.write_text("".join(line for line in text.splitlines(True) if "ca_bundle" not in line))
    env = {**_profile_env(tls_server), "AWS_CONFIG_FILE": str(config)}
    refused = subprocess.run(
        [str(aws), "acm-pca", "list-certificate-authorities"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0 and "SSL" in refused.stderr


def _https(url: str, bundle: Path, body: bytes | None = None) -> bytes:
    request = urllib.request.Request(url, data=body)
    if body is not None:
        request.add_header("Content-Type", OCSP_REQUEST)
    context = ssl.create_default_context(cafile=str(bundle))
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        answer: bytes = response.read()
        return answer


def test_ocsp_and_crls_are_served_over_https_at_the_urls_in_certificates(
    tls_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pca = _profile_client(tls_server, monkeypatch, "acm-pca")
    ca = new_root_with_revocation(
        pca,
        {
            "CrlConfiguration": {"Enabled": True, "S3BucketName": "tls-crl"},
            "OcspConfiguration": {"Enabled": True},
        },
    )
    leaf, _ = issue(pca, ca, make_csr())
    issuer = ca_certificate(pca, ca)
    bundle = tls_server.data_dir / "tls" / "ca-bundle.pem"
    assert ocsp_url(leaf).startswith(f"https://127.0.0.1:{tls_server.port}")
    assert cdp_url(leaf).startswith(f"https://127.0.0.1:{tls_server.port}/")
    revoke(pca, ca, leaf)
    answer = ocsp.load_der_ocsp_response(_https(ocsp_url(leaf), bundle, der_request(issuer, leaf)))
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    deadline = time.monotonic() + 15
    revoked = None
    while revoked is None and time.monotonic() < deadline:
        try:
            crl = x509.load_der_x509_crl(_https(cdp_url(leaf), bundle))
            revoked = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
        except urllib.error.HTTPError as error:
            assert error.code == 404
        time.sleep(0.3)
    assert revoked is not None, "no CRL listing the certificate over https within 15 s"


def _s_client(port: int, bundle: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *("openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", str(bundle)),
            *("-verify_return_error", "-showcerts", *flags),
        ],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_openssl_sees_tls_1_2_or_later_and_the_chain(tls_server: LiveServer) -> None:
    bundle = tls_server.data_dir / "tls" / "ca-bundle.pem"
    done = _s_client(tls_server.port, bundle)
    assert done.returncode == 0, done.stderr
    assert "Verify return code: 0 (ok)" in done.stdout
    assert "TLSv1.3" in done.stdout
    assert done.stdout.count("-----BEGIN CERTIFICATE-----") == 2  # server certificate + root
    twelve = _s_client(tls_server.port, bundle, "-tls1_2")
    assert twelve.returncode == 0 and "TLSv1.2" in twelve.stdout
    for old in ("-tls1", "-tls1_1"):
        refused = _s_client(tls_server.port, bundle, old)
        assert refused.returncode != 0, old
    leaf = _peer_certificate(tls_server.port, bundle)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert x509.IPAddress(ip_address("127.0.0.1")) in names
    assert x509.DNSName("localhost") in names


def test_keep_alive_answers_without_nagle_stalls(tls_server: LiveServer) -> None:
    bundle = tls_server.data_dir / "tls" / "ca-bundle.pem"
    context = ssl.create_default_context(cafile=str(bundle))
    connection = http.client.HTTPSConnection("127.0.0.1", tls_server.port, context=context)
    try:
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        sock = connection.sock
        timings = []
        for _ in range(30):
            started = time.perf_counter()
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            timings.append(time.perf_counter() - started)
            assert response.status == 200
        assert connection.sock is sock  # one connection for all of them
    finally:
        connection.close()
    # A response held back by Nagle waits for the delayed ACK: ~40 ms each.
    assert statistics.median(timings) < 0.02, timings


def test_the_server_certificate_is_renewed_while_serving(tmp_path: Path) -> None:
    live = LiveServer(
        tmp_path / "data",
        free_port(),
        extra_args=("--tls", "--workers", "2"),
        tls=True,
        env={
            "PICA_TLS_CERTIFICATE_VALIDITY": "40s",
            "PICA_TLS_RENEW_BEFORE": "34s",
            "PICA_TLS_CHECK_SECONDS": "0.5",
        },
    )
    live.start()
    try:
        assert live.process is not None
        pid = live.process.pid
        bundle = live.data_dir / "tls" / "ca-bundle.pem"
        first = _peer_certificate(live.port, bundle)
        assert first.not_valid_after_utc - first.not_valid_before_utc <= timedelta(minutes=6)
        deadline = time.monotonic() + 30
        renewed = first
        while time.monotonic() < deadline and renewed.serial_number == first.serial_number:
            time.sleep(0.5)
            renewed = _peer_certificate(live.port, bundle)
        assert renewed.serial_number != first.serial_number, "not renewed within 30 s"
        assert renewed.not_valid_after_utc > first.not_valid_after_utc
        assert live.process.poll() is None and live.process.pid == pid  # no restart
        time.sleep(1.5)  # every worker's check has run by now
        for _ in range(6):  # new connections land on both workers: none serves the old one
            assert _peer_certificate(live.port, bundle).not_valid_after_utc > (
                first.not_valid_after_utc
            )
    finally:
        live.stop()
    assert "Traceback" not in live.log_text()


def _self_signed(folder: Path, common_name: str = "operator's own") -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = folder / "own.pem", folder / "own.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_the_operators_own_certificate_files_are_served_and_reloaded(tmp_path: Path) -> None:
    cert_file, key_file = _self_signed(tmp_path)
    live = LiveServer(
        tmp_path / "data",
        free_port(),
        extra_args=("--tls-cert-file", str(cert_file), "--tls-key-file", str(key_file)),
        tls=True,
        env={"PICA_TLS_CHECK_SECONDS": "0.2"},
    )
    live.start()
    try:
        served = _peer_certificate(live.port, cert_file)
        assert served.subject.rfc4514_string() == "CN=operator's own"
        assert "ca_bundle" not in (live.data_dir / "config").read_text()
        assert not (live.data_dir / "tls").exists()
        # An external renewer replaces the certificate first, the key a moment later: in
        # between the pair does not match, and pica keeps serving the old one.
        new_cert, new_key = _self_signed(tmp_path / "renewed", "operator's renewed")
        os.replace(new_cert, cert_file)
        time.sleep(1.0)
        assert _peer_certificate(live.port).subject.rfc4514_string() == "CN=operator's own"
        os.replace(new_key, key_file)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            served = _peer_certificate(live.port)
            if served.subject.rfc4514_string() == "CN=operator's renewed":
                break
            time.sleep(0.2)
        assert served.subject.rfc4514_string() == "CN=operator's renewed"
    finally:
        live.stop()
    assert "cannot reload the TLS certificate" in live.log_text()
    assert "Traceback" not in live.log_text()


def _serve(tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PICA_"))}
    data = str(tmp_path / "data")
    command = [
        sys.executable,
        "-m",
        "pica",
        "serve",
        "--port",
        str(free_port()),
        "--data-dir",
        data,
    ]
    return subprocess.run(
        [*command, *flags],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bad_tls_settings_stop_the_start_with_one_line(tmp_path: Path) -> None:
    cert_file, key_file = _self_signed(tmp_path)
    cases = [
        (("--tls-cert-file", str(cert_file)), "tls_cert_file and tls_key_file go together"),
        (
            ("--tls-cert-file", str(tmp_path / "none.pem"), "--tls-key-file", str(key_file)),
            "cannot serve HTTPS with",
        ),
        (("--tls-cert-file", str(key_file), "--tls-key-file", str(cert_file)), "cannot serve"),
    ]
    for flags, named in cases:
        done = _serve(tmp_path, *flags)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("pica: "), done.stderr
        assert named in done.stderr

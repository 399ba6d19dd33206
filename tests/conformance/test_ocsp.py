"""OCSP against the live server: `openssl ocsp` over POST, plain HTTP GET, and pkilint.

The CA's OcspCustomCname points at the test server itself, so the URL in each certificate's AIA
extension is the one the clients use, exactly as a relying party would.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509 import ocsp

from tests.support.pki import (
    ca_certificate,
    issue,
    new_root_with_revocation,
    ocsp_url,
    pkilint_findings,
)
from tests.support.revocation import (
    OCSP_REQUEST,
    OCSP_RESPONSE,
    der_request,
    http,
    openssl_ocsp,
    revoke,
)
from tests.support.server import LiveServer, free_port


def ocsp_root(pca: Any, server: LiveServer, *, cname: bool = True) -> str:
    configuration: dict[str, Any] = {"Enabled": True}
    if cname:
        configuration["OcspCustomCname"] = f"127.0.0.1:{server.port}"
    return new_root_with_revocation(pca, {"OcspConfiguration": configuration})


@pytest.fixture(scope="module")
def ocsp_ca(pca: Any, server: LiveServer) -> str:
    """An ACTIVE EC root with OCSP on, its AIA naming this server (`http://127.0.0.1:<port>`)."""
    return ocsp_root(pca, server)


def ocsp_lint_findings(response: bytes, workdir: Path) -> str:
    """pkilint's `lint_ocsp_response` (the real CLI): findings of severity ERROR and above."""
    path = workdir / "lint-response.der"
    path.write_bytes(response)
    lint = Path(sys.executable).with_name("lint_ocsp_response")
    completed = subprocess.run(
        [str(lint), "lint", "-s", "ERROR", "-f", "TEXT", "--document-format", "DER", str(path)],
        capture_output=True,
        text=True,
    )
    assert completed.returncode in (0, 1), completed.stderr
    return (completed.stdout + completed.stderr).strip()


# --- openssl ocsp (POST) ----------------------------------------------------------------


def test_issued_certificate_names_this_responder(
    pca: Any, server: LiveServer, ocsp_ca: str
) -> None:
    leaf, _ = issue(pca, ocsp_ca)
    assert ocsp_url(leaf) == f"http://127.0.0.1:{server.port}"


def test_openssl_reports_good_then_revoked_at_once(pca: Any, ocsp_ca: str, workdir: Path) -> None:
    leaf, _ = issue(pca, ocsp_ca)
    issuer = ca_certificate(pca, ocsp_ca)

    completed, good = openssl_ocsp(workdir, issuer, leaf, url=ocsp_url(leaf))
    assert completed.returncode == 0, completed.stderr
    assert "Response verify OK" in completed.stderr
    assert "nonce" not in completed.stderr.lower()  # openssl sent one; pica echoed it
    assert f"{workdir / 'cert0.pem'}: good" in completed.stdout
    assert ocsp_lint_findings(good, workdir) == ""

    revoked_before = datetime.now(UTC).replace(microsecond=0)
    revoke(pca, ocsp_ca, leaf, "KEY_COMPROMISE")
    completed, revoked = openssl_ocsp(workdir, issuer, leaf, url=ocsp_url(leaf))
    assert completed.returncode == 0, completed.stderr
    assert "Response verify OK" in completed.stderr
    assert f"{workdir / 'cert0.pem'}: revoked" in completed.stdout
    assert "Reason: keyCompromise" in completed.stdout
    assert ocsp_lint_findings(revoked, workdir) == ""
    parsed = ocsp.load_der_ocsp_response(revoked)
    assert parsed.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert parsed.revocation_time_utc is not None
    assert revoked_before - timedelta(seconds=5) <= parsed.revocation_time_utc
    assert parsed.revocation_time_utc <= datetime.now(UTC)


def test_two_certificates_in_one_openssl_request(pca: Any, ocsp_ca: str, workdir: Path) -> None:
    first, _ = issue(pca, ocsp_ca)
    second, _ = issue(pca, ocsp_ca)
    revoke(pca, ocsp_ca, second, "SUPERSEDED")
    completed, response = openssl_ocsp(
        workdir, ca_certificate(pca, ocsp_ca), first, second, url=ocsp_url(first)
    )
    assert completed.returncode == 0, completed.stderr
    assert "Response verify OK" in completed.stderr
    assert f"{workdir / 'cert0.pem'}: good" in completed.stdout
    assert f"{workdir / 'cert1.pem'}: revoked" in completed.stdout
    assert "Reason: superseded" in completed.stdout
    assert completed.stdout.count("Cert Status:") == 2  # one response, two answers
    assert ocsp_lint_findings(response, workdir) == ""


def test_default_responder_url_is_pica_ocsp_path(
    pca: Any, server: LiveServer, workdir: Path
) -> None:
    ca_arn = ocsp_root(pca, server, cname=False)
    leaf, _ = issue(pca, ca_arn)
    assert ocsp_url(leaf) == f"{server.endpoint}/ocsp"
    completed, _ = openssl_ocsp(workdir, ca_certificate(pca, ca_arn), leaf, url=ocsp_url(leaf))
    assert completed.returncode == 0, completed.stderr
    assert f"{workdir / 'cert0.pem'}: good" in completed.stdout


def test_ocsp_posted_to_the_root_path_is_answered(
    pca: Any, server: LiveServer, workdir: Path
) -> None:
    """POST / carries API calls too: an OCSP request there (a CNAME'd responder URL with no
    path) is still answered as OCSP."""
    ca_arn = ocsp_root(pca, server, cname=False)
    leaf, _ = issue(pca, ca_arn)
    completed, _ = openssl_ocsp(
        workdir, ca_certificate(pca, ca_arn), leaf, url=f"{server.endpoint}/"
    )
    assert completed.returncode == 0, completed.stderr
    assert f"{workdir / 'cert0.pem'}: good" in completed.stdout


def test_ca_without_ocsp_is_unauthorized(
    pca: Any, server: LiveServer, root_ca: str, workdir: Path
) -> None:
    leaf, _ = issue(pca, root_ca)  # the shared root has no OCSP configuration
    completed, response = openssl_ocsp(
        workdir, ca_certificate(pca, root_ca), leaf, url=f"{server.endpoint}/ocsp"
    )
    assert "unauthorized (6)" in completed.stdout + completed.stderr
    assert ocsp.load_der_ocsp_response(response).response_status is (
        ocsp.OCSPResponseStatus.UNAUTHORIZED
    )


# --- raw HTTP ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/ocsp"])
def test_post_with_the_ocsp_content_type(
    pca: Any, server: LiveServer, ocsp_ca: str, path: str
) -> None:
    leaf, _ = issue(pca, ocsp_ca)
    request = der_request(ca_certificate(pca, ocsp_ca), leaf)
    status, headers, body = http(server.endpoint + path, request, f"{OCSP_REQUEST}; charset=x")
    assert status == 200
    assert headers["content-type"] == OCSP_RESPONSE
    assert ocsp.load_der_ocsp_response(body).certificate_status is ocsp.OCSPCertStatus.GOOD


def test_get_with_base64_request_and_caching_headers(
    pca: Any, server: LiveServer, ocsp_ca: str
) -> None:
    issuer = ca_certificate(pca, ocsp_ca)
    # Some request whose base64 contains "/": it must work raw and percent-encoded.
    while True:
        leaf, _ = issue(pca, ocsp_ca)
        encoded = base64.b64encode(der_request(issuer, leaf)).decode()
        if "/" in encoded:
            break
    quoted = urllib.parse.quote(encoded, safe="")
    for url in (
        f"{ocsp_url(leaf)}/{quoted}",
        f"{ocsp_url(leaf)}/{encoded}",
        f"{server.endpoint}/ocsp/{quoted}",
        f"{server.endpoint}/ocsp/{encoded}",
    ):
        status, headers, body = http(url)
        assert status == 200, url
        assert headers["content-type"] == OCSP_RESPONSE
        response = ocsp.load_der_ocsp_response(body)
        assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
        assert response.serial_number == leaf.serial_number
        # RFC 5019 6.2: cacheable until nextUpdate.
        assert response.next_update_utc is not None
        cache_control = headers["cache-control"]
        assert "public" in cache_control and "no-transform" in cache_control
        assert "max-age=3600" in cache_control
        assert parsedate_to_datetime(headers["expires"]) == response.next_update_utc
        assert parsedate_to_datetime(headers["last-modified"]) == response.produced_at_utc
        assert headers["etag"].startswith('"')


def test_get_after_revocation_is_revoked(pca: Any, server: LiveServer, ocsp_ca: str) -> None:
    leaf, _ = issue(pca, ocsp_ca)
    encoded = base64.b64encode(der_request(ca_certificate(pca, ocsp_ca), leaf)).decode()
    url = f"{server.endpoint}/ocsp/{urllib.parse.quote(encoded, safe='')}"
    assert ocsp.load_der_ocsp_response(http(url)[2]).certificate_status is (
        ocsp.OCSPCertStatus.GOOD
    )
    revoke(pca, ocsp_ca, leaf, "CESSATION_OF_OPERATION")
    response = ocsp.load_der_ocsp_response(http(url)[2])
    assert response.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert response.revocation_reason is x509.ReasonFlags.cessation_of_operation


def test_malformed_post_is_answered_with_malformed_request(server: LiveServer) -> None:
    status, headers, body = http(f"{server.endpoint}/ocsp", b"\x30\x03junk", OCSP_REQUEST)
    assert status == 200 and headers["content-type"] == OCSP_RESPONSE
    assert ocsp.load_der_ocsp_response(body).response_status is (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )


def test_oversized_post_is_refused(server: LiveServer) -> None:
    status, _, _ = http(f"{server.endpoint}/ocsp", b"\x30" * (64 * 1024 + 1), OCSP_REQUEST)
    assert status == 413


def test_get_of_something_else_is_not_ocsp(server: LiveServer) -> None:
    status, headers, _ = http(f"{server.endpoint}/ocsp/not-a-request")
    assert status == 404
    assert headers["content-type"] != OCSP_RESPONSE


# --- delegated responder ----------------------------------------------------------------


@pytest.fixture(scope="module")
def delegated_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A second pica whose responses are signed by OCSP-signing certificates (pica.toml)."""
    data_dir = tmp_path_factory.mktemp("pica-delegated") / "data"
    data_dir.mkdir()
    (data_dir / "pica.toml").write_text('ocsp_signer = "delegated"\n')
    live = LiveServer(data_dir, free_port())
    live.start()
    try:
        yield live
    finally:
        live.stop()


def test_delegated_responder_is_accepted_by_openssl(
    delegated_server: LiveServer, workdir: Path
) -> None:
    pca = delegated_server.client()
    ca_arn = ocsp_root(pca, delegated_server)
    leaf, _ = issue(pca, ca_arn)
    issuer = ca_certificate(pca, ca_arn)

    completed, response = openssl_ocsp(workdir, issuer, leaf, url=ocsp_url(leaf))
    assert completed.returncode == 0, completed.stderr
    # openssl accepts a responder certificate only if the CA issued it for OCSP signing.
    assert "Response verify OK" in completed.stderr
    assert f"{workdir / 'cert0.pem'}: good" in completed.stdout
    (signer,) = ocsp.load_der_ocsp_response(response).certificates
    signer.verify_directly_issued_by(issuer)
    assert signer.extensions.get_extension_for_class(x509.OCSPNoCheck)
    assert pkilint_findings(signer, workdir) == ""
    assert ocsp_lint_findings(response, workdir) == ""

    revoke(pca, ca_arn, leaf, "PRIVILEGE_WITHDRAWN")
    completed, response = openssl_ocsp(workdir, issuer, leaf, url=ocsp_url(leaf))
    assert "Response verify OK" in completed.stderr
    assert f"{workdir / 'cert0.pem'}: revoked" in completed.stdout
    # OpenSSL 3.0 has no name for reasons 9 and 10; read the reason with cryptography.
    parsed = ocsp.load_der_ocsp_response(response)
    assert parsed.revocation_reason is x509.ReasonFlags.privilege_withdrawn

"""pica through the AWS SDK for JavaScript v3 (`@aws-sdk/client-acm-pca`), driven by Node.

tests/js/acm-pca-flow.mjs creates and activates a root, issues a leaf, fetches it, revokes it and
lists CAs one per page, printing what the SDK returned; this test checks that against pica via
boto3. The SDK version is pinned in tests/js/package.json (and its lockfile) to the newest the
npm registry served when written; `npm ci` installs it once into a cache directory keyed by the
lockfile's hash. The version pinned (3.523.0) speaks AWS JSON 1.1, which the wire record checks.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from tests.support.pki import create_ca, make_csr
from tests.support.server import LiveServer

JS_DIR = Path(__file__).resolve().parent.parent / "js"


def _cache_dir() -> Path:
    base = Path(os.environ.get("PICA_TEST_CACHE", Path.home() / ".cache" / "pica-tests"))
    lock = (JS_DIR / "package-lock.json").read_bytes()
    return base / f"js-{hashlib.sha256(lock).hexdigest()[:16]}"


@pytest.fixture(scope="module")
def js_project() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm are not installed: the JavaScript SDK test needs Node.js")
    target = _cache_dir()
    if not (target / "node_modules/@aws-sdk/client-acm-pca/package.json").exists():
        target.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(JS_DIR / name, target / name)
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=target,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            pytest.skip(f"npm ci could not install the SDK (offline?): {done.stderr[-300:]}")
    shutil.copy(JS_DIR / "acm-pca-flow.mjs", target / "acm-pca-flow.mjs")
    return target


def test_js_sdk_drives_the_ca_lifecycle(
    js_project: Path, server: LiveServer, pca: Any, tmp_path: Path
) -> None:
    other = create_ca(pca)  # so that listing one per page takes more than one page
    csr_file = tmp_path / "leaf.csr"
    csr_file.write_bytes(make_csr(dns_names=("js.example.com",)))
    key, secret = server.credentials()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),  # no ~/.aws of the machine's user leaks in
        "PICA_ENDPOINT": server.endpoint,
        "PICA_CSR_FILE": str(csr_file),
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
    }
    done = subprocess.run(
        ["node", "acm-pca-flow.mjs"],
        cwd=js_project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)

    # The protocol this SDK version speaks.
    assert all(call["target"].startswith("ACMPrivateCA.") for call in out["wire"])
    assert {call["contentType"] for call in out["wire"]} == {"application/x-amz-json-1.1"}

    ca = pca.describe_certificate_authority(CertificateAuthorityArn=out["caArn"])[
        "CertificateAuthority"
    ]
    assert out["status"] == ca["Status"] == "ACTIVE"
    assert out["createdAtIsDate"]
    assert out["createdAt"] == pytest.approx(ca["CreatedAt"].timestamp(), abs=0.001)
    assert pca.list_tags(CertificateAuthorityArn=out["caArn"])["Tags"] == [
        {"Key": "sdk", "Value": "js"}
    ]

    leaf = x509.load_pem_x509_certificate(out["leafCertificate"].encode())
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["js.example.com"]
    assert out["leafChain"].strip() == out["rootCertificate"].strip()
    assert out["revokeAgain"] == {"name": "RequestAlreadyProcessedException", "status": 400}

    # Pagination: one CA per page, every CA of the account exactly once.
    pages = out["pages"]
    assert len(pages) >= 2 and all(len(page) == 1 for page in pages)
    listed = [arn for page in pages for arn in page]
    assert len(set(listed)) == len(listed)
    assert {out["caArn"], other} <= set(listed)

"""The shortest path a new user takes: root CA, end-entity certificate, openssl accepts it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.pki import issue, make_csr, openssl_verify, pkilint_findings


def test_end_entity_from_root_verifies(pca: Any, root_ca: str, tmp_path: Path) -> None:
    certificate, chain = issue(pca, root_ca, make_csr(dns_names=("www.example.com",)))
    result = openssl_verify(tmp_path, certificate, chain)
    assert result.returncode == 0, result.stdout + result.stderr
    assert pkilint_findings(certificate, tmp_path) == ""

"""What the console's certificate search matches: part of the subject or of a DNS name (any
case), or the leading hex digits of the serial (colons, case and leading zeros ignored)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pica.authority.console_inventory import CertificateLine

LINE = CertificateLine(
    ca_arn="arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/x",
    serial=0x0A1B2C3D4E,
    subject="CN=app.example.internal,O=Example",
    dns_names=("app.example.internal", "api.example.internal"),
    not_before=datetime(2026, 1, 1, tzinfo=UTC),
    not_after=datetime(2027, 1, 1, tzinfo=UTC),
    revoked_at=None,
    revocation_reason=None,
)


@pytest.mark.parametrize(
    "text",
    ["app.example", "API.EXAMPLE", "O=Example", "a1b2c3d4e", "0A:1B:2C:3D:4E", "a1b2", " a1b "],
)
def test_matches(text: str) -> None:
    assert LINE.matches(text)


@pytest.mark.parametrize("text", ["", "   ", "other.example", "1b2c", "0", "::", "ff"])
def test_does_not_match(text: str) -> None:
    assert not LINE.matches(text)


def test_the_arn_names_the_serial_in_hex() -> None:
    assert LINE.arn.endswith("/certificate/a1b2c3d4e") and LINE.serial_hex == "a1b2c3d4e"

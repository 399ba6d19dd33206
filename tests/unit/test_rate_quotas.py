"""The `throttling` setting parsed into a policy, and the TLS settings that come with it."""

from __future__ import annotations

import pytest

from pica.authority.rate_quotas import (
    ACM,
    PCA,
    RateSettingError,
    parse_policy,
)
from pica.settings import SettingsError, build

SERVED = {
    PCA: frozenset({"IssueCertificate", "GetCertificate"}),
    ACM: frozenset({"GetCertificate"}),
}


def test_off_is_no_policy_and_aws_holds_the_documented_rates() -> None:
    assert parse_policy("off") is None
    policy = parse_policy("aws")
    assert policy is not None
    assert policy.rate_for(PCA, "IssueCertificate") == 25
    assert policy.rate_for(PCA, "GetCertificate") == 75
    assert policy.rate_for(PCA, "CreateCertificateAuthority") == 1
    assert policy.rate_for(ACM, "RequestCertificate") == 5
    assert policy.rate_for(ACM, "GetCertificate") is None  # AWS documents none


def test_a_table_replaces_single_rates_and_keeps_the_others() -> None:
    for text in (
        "IssueCertificate=5, acm:GetCertificate=2",
        '{"IssueCertificate": 5, "acm:GetCertificate": 2}',
    ):
        policy = parse_policy(text, SERVED)
        assert policy is not None
        assert policy.rate_for(PCA, "IssueCertificate") == 5
        assert policy.rate_for(ACM, "GetCertificate") == 2
        assert policy.rate_for(PCA, "GetCertificate") == 75


@pytest.mark.parametrize(
    "text", ["fast", "IssueCertificate=0", "IssueCertificate=nan", "Nope=1", "=3", "[1]"]
)
def test_bad_tables_are_refused(text: str) -> None:
    with pytest.raises(RateSettingError):
        parse_policy(text, SERVED)


def test_a_toml_table_reaches_the_setting_as_json() -> None:
    settings = build({"throttling": {"IssueCertificate": 3}})
    policy = parse_policy(settings.throttling)
    assert policy is not None and policy.rate_for(PCA, "IssueCertificate") == 3


def test_tls_settings() -> None:
    assert build({"tls": "true"}).endpoint_url.startswith("https://")
    assert not build({"tls": "0"}).tls
    assert build({"tls_cert_file": "/c.pem", "tls_key_file": "/k.pem"}).tls
    with pytest.raises(SettingsError):
        build({"tls": "maybe"})
    with pytest.raises(SettingsError):
        build({"tls_cert_file": "/c.pem"})
    with pytest.raises(SettingsError):
        build({"tls_certificate_validity": "10d", "tls_renew_before": "20d"})

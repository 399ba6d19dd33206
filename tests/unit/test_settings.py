"""settings: typed coercion of every source's values, and the defaults the domain applies."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pica.authority.authorities import Limits
from pica.authority.revocation_urls import RevocationUrls
from pica.settings import Settings, SettingsError, build, load, settings_table


def test_text_values_become_the_type_each_setting_holds(tmp_path: Path) -> None:
    settings = build(
        {
            "port": "9000",
            "crl_poll_seconds": "0.25",
            "kek_file": str(tmp_path / "kek"),
            "region": "eu-west-1",
            "data_dir": str(tmp_path),
        }
    )
    assert settings.port == 9000
    assert settings.crl_poll_seconds == 0.25
    assert settings.kek_file == (tmp_path / "kek").resolve()
    assert settings.region == "eu-west-1"


def test_toml_numbers_are_accepted_for_float_and_int_settings() -> None:
    settings = build({"request_read_timeout": 5, "max_connections": 7.0})
    assert settings.request_read_timeout == 5.0 and isinstance(settings.request_read_timeout, float)
    assert settings.max_connections == 7 and isinstance(settings.max_connections, int)


def test_a_relative_path_is_resolved_and_none_stays_none() -> None:
    settings = build({"kek_file": "relative/kek", "database_url": None})
    assert settings.kek_file == Path("relative/kek").resolve()
    assert settings.database_url is None


@pytest.mark.parametrize(("name", "value"), [("port", "eighty"), ("crl_poll_seconds", "soon")])
def test_a_value_that_is_not_of_the_type_is_a_settings_error(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"setting {name}: '{value}' is not valid"):
        build({name: value})


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(SettingsError, match="unknown settings: nope"):
        build({"nope": 1})


def test_environment_variables_are_coerced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PICA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PICA_WORKERS", "3")
    monkeypatch.setenv("PICA_CRL_POLL_SECONDS", "2.5")
    settings = load({})
    assert (settings.workers, settings.crl_poll_seconds) == (3, 2.5)
    assert settings.data_dir == tmp_path.resolve()


def test_the_defaults_are_the_ones_the_domain_applies() -> None:
    defaults = Settings()
    assert defaults.max_cas_per_account == Limits().max_cas_per_account == 200
    urls = RevocationUrls(object_url=lambda bucket, key: key, default_ocsp_url="http://x/ocsp")
    assert defaults.crl_partition_size == urls.partition_size == 100_000
    assert defaults.max_body_bytes == 4 * 1024 * 1024


def test_the_help_table_shows_every_setting_and_its_default() -> None:
    table = settings_table()
    for item in dataclasses.fields(Settings):
        assert f"PICA_{item.name.upper()}" in table
    assert "PICA_MAX_CAS_PER_ACCOUNT" in table and " 200\n" in table


def test_the_pkcs11_key_store_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PICA_KEY_STORE", "pkcs11")
    monkeypatch.setenv("PICA_PKCS11_MODULE", "/opt/hsm/module.so")
    monkeypatch.setenv("PICA_PKCS11_TOKEN_LABEL", "pica")
    monkeypatch.setenv("PICA_PKCS11_PIN", "1234")
    settings = load({"data_dir": str(tmp_path)})
    assert settings.key_store == "pkcs11"
    assert settings.pkcs11_module == Path("/opt/hsm/module.so")
    assert (settings.pkcs11_token_label, settings.pkcs11_pin) == ("pica", "1234")
    assert build({}).key_store == "file"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"key_store": "hsm"}, "key_store must be file or pkcs11, not 'hsm'"),
        (
            {"key_store": "pkcs11", "pkcs11_token_label": "t", "pkcs11_pin": "1"},
            "needs pkcs11_module",
        ),
        (
            {"key_store": "pkcs11", "pkcs11_module": "/m.so", "pkcs11_pin": "1"},
            "pkcs11_token_label",
        ),
        (
            {"key_store": "pkcs11", "pkcs11_module": "/m.so", "pkcs11_token_label": "t"},
            "exactly one",
        ),
        (
            {
                "key_store": "pkcs11",
                "pkcs11_module": "/m.so",
                "pkcs11_token_label": "t",
                "pkcs11_pin": "1",
                "pkcs11_pin_file": "/pin",
            },
            "exactly one of pkcs11_pin",
        ),
    ],
)
def test_an_incomplete_pkcs11_key_store_is_a_settings_error(
    values: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        build(values)

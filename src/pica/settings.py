"""One frozen Settings object, validated at start-up.

Sources, later ones winning: defaults, `<data-dir>/pica.toml`, `PICA_*` environment variables,
command-line flags. The data directory holds the SQLite database, the key-encryption key and
the generated AWS credentials/config files.

Past ~400 lines because it declares every setting with its default, coercion and check in one
place (a rule or default defined anywhere else would be defined twice).
"""

from __future__ import annotations

import dataclasses
import json
import os
import textwrap
import tomllib
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pica.authority.quotas import CRL_PARTITION_SIZE, MAX_CAS_PER_ACCOUNT
from pica.authority.rate_quotas import RateSettingError, parse_policy
from pica.durations import parse_duration

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_DATA_DIR = "./pica-data"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
ACCESS_LOG_FORMATS = ("logfmt", "json", "off")
# The API endpoint takes no default of its own: a 2 MiB chain in base64 plus JSON fits.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024


class SettingsError(ValueError):
    """A setting that cannot work; reported at start-up, before anything is served."""


def _meaning(text: str) -> dict[str, str]:
    """Field metadata: what `pica serve --help` prints under the setting's name and default."""
    return {"meaning": text}


@dataclass(frozen=True)
class Settings:
    """Every setting pica reads; each field's metadata says what it means (`settings_table`)."""

    host: str = field(
        default=DEFAULT_HOST,
        metadata=_meaning("address to listen on (0.0.0.0 or :: for every interface)"),
    )
    port: int = field(default=DEFAULT_PORT, metadata=_meaning("TCP port to listen on"))
    data_dir: Path = field(
        default=Path(DEFAULT_DATA_DIR),
        metadata=_meaning(
            "folder for the SQLite database, the KEK, the client files and the CRL buckets "
            "(a flag or variable only: pica.toml lives in it)"
        ),
    )
    database_url: str | None = field(
        default=None,
        metadata=_meaning(
            "SQLAlchemy URL of the database (default: SQLite file pica.db in the data dir)"
        ),
    )
    kek_file: Path | None = field(
        default=None,
        metadata=_meaning(
            "key-encryption key file (default: kek in the data dir); back it up with the database"
        ),
    )
    kek_passphrase_file: Path | None = field(
        default=None,
        metadata=_meaning(
            "file holding the passphrase of a protected KEK file (pica kek protect); without "
            "it such a pica starts sealed until `pica unseal`"
        ),
    )
    region: str = field(default="us-east-1", metadata=_meaning("AWS region written into ARNs"))
    partition: str = field(default="aws", metadata=_meaning("AWS partition written into ARNs"))
    workers: int = field(default=1, metadata=_meaning("worker processes"))
    log_level: str = field(
        default="info", metadata=_meaning("critical, error, warning, info or debug")
    )
    max_body_bytes: int = field(
        default=DEFAULT_MAX_BODY_BYTES,
        metadata=_meaning("largest request body accepted (413 beyond)"),
    )
    max_cas_per_account: int = field(
        default=MAX_CAS_PER_ACCOUNT,
        metadata=_meaning("certificate authorities an account may hold"),
    )
    public_url: str | None = field(
        default=None,
        metadata=_meaning(
            "http(s) URL clients reach pica at, the base of the CRL and OCSP URLs written into "
            "certificates (default: the address served)"
        ),
    )
    object_store: str = field(
        default="local",
        metadata=_meaning(
            "where CRLs go: local (folders under <data-dir>/buckets, served by pica) or s3"
        ),
    )
    s3_endpoint_url: str | None = field(
        default=None, metadata=_meaning("S3-compatible endpoint (default: AWS S3)")
    )
    s3_region: str | None = field(
        default=None, metadata=_meaning("region of the S3 store (default: region)")
    )
    s3_access_key_id: str | None = field(
        default=None, metadata=_meaning("S3 access key (default: boto3's own sources)")
    )
    s3_secret_access_key: str | None = field(default=None, metadata=_meaning("S3 secret key"))
    key_store: str = field(
        default="file",
        metadata=_meaning(
            "where CA keys are made and used: file (sealed under the KEK file) or pkcs11 "
            "(generated in the PKCS#11 token pkcs11_token_label, never extractable)"
        ),
    )
    pkcs11_module: Path | None = field(
        default=None,
        metadata=_meaning(
            "PKCS#11 module (.so) of the token, e.g. /usr/lib/softhsm/libsofthsm2.so"
        ),
    )
    pkcs11_token_label: str | None = field(
        default=None, metadata=_meaning("label of the PKCS#11 token that holds the CA keys")
    )
    pkcs11_pin: str | None = field(
        default=None, metadata=_meaning("user PIN of the PKCS#11 token (or pkcs11_pin_file)")
    )
    pkcs11_pin_file: Path | None = field(
        default=None, metadata=_meaning("file holding the user PIN of the PKCS#11 token")
    )
    crl_partition_size: int = field(
        default=CRL_PARTITION_SIZE,
        metadata=_meaning("certificates per partition of PARTITIONED CRLs"),
    )
    crl_poll_seconds: float = field(
        default=1.0, metadata=_meaning("how often each process looks for CRLs to publish")
    )
    ocsp_signer: str = field(
        default="ca",
        metadata=_meaning(
            "OCSP responses signed by the CA key (ca) or an OCSP-signing certificate (delegated)"
        ),
    )
    lint_mode: str = field(
        default="shaped",
        metadata=_meaning(
            "pkilint before signing: shaped (passthrough, Blank, CA certificates), all, off"
        ),
    )
    request_read_timeout: float = field(
        default=30.0,
        metadata=_meaning(
            "seconds a connection may take to send a whole request (headers and body)"
        ),
    )
    max_connections: int = field(
        default=512,
        metadata=_meaning(
            "connections each worker process serves at once; a request beyond gets 503"
        ),
    )
    lint_findings: str = field(
        default="refuse",
        metadata=_meaning(
            "what a lint finding does: refuse the request, or record it and sign what AWS would "
            "sign (name constraints, NotAfter, path length and basic constraints refuse in both)"
        ),
    )
    access_log: str = field(
        default="logfmt",
        metadata=_meaning(
            "one line per API call at the info level on stdout: logfmt, json (JSON lines) or off"
        ),
    )
    acm_certificate_validity: str = field(
        default="395d",
        metadata=_meaning(
            "validity of ACM private certificates (seconds, or with a unit: 120s, 5m, 12h, 395d)"
        ),
    )
    acm_renewal_window: str = field(
        default="60d",
        metadata=_meaning(
            "managed renewal of ACM private certificates starts this long before "
            "NotAfter (seconds, or with a unit: 120s, 5m, 12h, 60d)"
        ),
    )

    throttling: str = field(
        default="off",
        metadata=_meaning(
            "per-account request rates as AWS throttles them: off, aws (AWS's documented "
            "default quotas) or a table of Operation = rate (PICA_THROTTLING: "
            "IssueCertificate=5,GetCertificate=50; acm:<Operation> for ACM)"
        ),
    )
    tls: bool = field(
        default=False,
        metadata=_meaning(
            "serve HTTPS (TLS 1.2+) with a certificate from pica's internal TLS CA in "
            "<data-dir>/tls, renewed while serving, or from tls_cert_file/tls_key_file"
        ),
    )
    tls_cert_file: Path | None = field(
        default=None,
        metadata=_meaning("PEM server certificate (and chain) to serve instead (implies tls)"),
    )
    tls_key_file: Path | None = field(
        default=None, metadata=_meaning("PEM private key of tls_cert_file")
    )
    tls_certificate_validity: str = field(
        default="90d",
        metadata=_meaning("validity of the server certificates pica issues itself (tls)"),
    )
    tls_renew_before: str = field(
        default="30d",
        metadata=_meaning("a server certificate pica issued is renewed this long before NotAfter"),
    )
    tls_check_seconds: float = field(
        default=600.0,
        metadata=_meaning(
            "how often each process checks the server certificate (renewal, or a replaced file)"
        ),
    )

    @property
    def acm_certificate_validity_duration(self) -> timedelta:
        return parse_duration(self.acm_certificate_validity)

    @property
    def acm_renewal_window_duration(self) -> timedelta:
        return parse_duration(self.acm_renewal_window)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'pica.db'}"

    @property
    def resolved_kek_file(self) -> Path:
        return self.kek_file or self.data_dir / "kek"

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or self.endpoint_url).rstrip("/")

    @property
    def buckets_dir(self) -> Path:
        return self.data_dir / "buckets"

    @property
    def endpoint_url(self) -> str:
        # The address to reach the server at: loopback when it listens on every interface.
        host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def to_json(self) -> str:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in data.items()})

    @classmethod
    def from_json(cls, text: str) -> Settings:
        return build(json.loads(text))


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _resolved_path(value: Any) -> Path:
    return Path(value).resolve()


# How a value from TOML, the environment (always text) or a flag becomes each type a setting
# holds. Checked when the module loads: a setting of any other type fails at import.
def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


_COERCIONS: dict[type, Callable[[Any], Any]] = {
    bool: _boolean,
    int: int,
    float: float,
    str: str,
    Path: _resolved_path,
}


def _held_type(hint: Any) -> type:
    """The type a setting holds when it is set: X for both `X` and `X | None`."""
    held = [arg for arg in typing.get_args(hint) if arg is not type(None)] or [hint]
    if len(held) != 1 or held[0] not in _COERCIONS:
        raise TypeError(f"no coercion for a setting of type {hint}")
    result: type = held[0]
    return result


_TYPES = {name: _held_type(hint) for name, hint in typing.get_type_hints(Settings).items()}


def _coerce(name: str, value: Any) -> Any:
    if value is None:
        return None
    try:
        return _COERCIONS[_TYPES[name]](value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name}: {value!r} is not valid") from exc


def build(values: dict[str, Any]) -> Settings:
    unknown = set(values) - set(_FIELDS)
    if unknown:
        raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
    if isinstance(values.get("throttling"), dict):
        # A TOML table; the setting holds it as JSON text, as PICA_THROTTLING may.
        values = {**values, "throttling": json.dumps(values["throttling"])}
    settings = Settings(**{k: _coerce(k, v) for k, v in values.items()})
    if not 0 < settings.port < 65536:
        raise SettingsError(f"port {settings.port} is out of range")
    if settings.workers < 1:
        raise SettingsError("workers must be at least 1")
    if settings.object_store not in ("local", "s3"):
        raise SettingsError(f"object_store must be 'local' or 's3', not {settings.object_store!r}")
    if settings.ocsp_signer not in ("ca", "delegated"):
        raise SettingsError(
            f"ocsp_signer must be 'ca' or 'delegated', not {settings.ocsp_signer!r}"
        )
    if settings.lint_mode not in ("shaped", "all", "off"):
        raise SettingsError(f"lint_mode must be shaped, all or off, not {settings.lint_mode!r}")
    if settings.lint_findings not in ("refuse", "record"):
        raise SettingsError(
            f"lint_findings must be refuse or record, not {settings.lint_findings!r}"
        )
    _check_key_store(settings)
    if settings.crl_partition_size < 1:
        raise SettingsError("crl_partition_size must be at least 1")
    if settings.log_level.lower() not in LOG_LEVELS:
        raise SettingsError(
            f"log_level must be one of {', '.join(LOG_LEVELS)}, not {settings.log_level!r}"
        )
    if settings.public_url is not None:
        _check_public_url(settings.public_url)
    if not settings.request_read_timeout > 0:
        raise SettingsError("request_read_timeout must be a positive number of seconds")
    if settings.max_connections < 1:
        raise SettingsError("max_connections must be at least 1")
    if settings.access_log not in ACCESS_LOG_FORMATS:
        raise SettingsError(f"access_log must be logfmt, json or off, not {settings.access_log!r}")
    for name in ("acm_certificate_validity", "acm_renewal_window"):
        try:
            parse_duration(getattr(settings, name))
        except ValueError as exc:
            raise SettingsError(f"{name}: {exc}") from exc
    try:
        parse_policy(settings.throttling)
    except RateSettingError as exc:
        raise SettingsError(str(exc)) from exc
    settings = _check_tls(settings)
    return dataclasses.replace(
        settings, data_dir=settings.data_dir.resolve(), log_level=settings.log_level.lower()
    )


def _check_key_store(settings: Settings) -> None:
    if settings.key_store not in ("file", "pkcs11"):
        raise SettingsError(f"key_store must be file or pkcs11, not {settings.key_store!r}")
    if settings.key_store != "pkcs11":
        return
    for name in ("pkcs11_module", "pkcs11_token_label"):
        if not getattr(settings, name):
            raise SettingsError(f"key_store = pkcs11 needs {name} (PICA_{name.upper()})")
    if (settings.pkcs11_pin is None) == (settings.pkcs11_pin_file is None):
        raise SettingsError(
            "key_store = pkcs11 needs exactly one of pkcs11_pin (PICA_PKCS11_PIN) and "
            "pkcs11_pin_file (PICA_PKCS11_PIN_FILE)"
        )


def _check_tls(settings: Settings) -> Settings:
    """TLS settings that fit together; a certificate file given means TLS on."""
    if (settings.tls_cert_file is None) != (settings.tls_key_file is None):
        raise SettingsError("tls_cert_file and tls_key_file go together: give both or neither")
    for name in ("tls_certificate_validity", "tls_renew_before"):
        try:
            parse_duration(getattr(settings, name))
        except ValueError as exc:
            raise SettingsError(f"{name}: {exc}") from exc
    validity = parse_duration(settings.tls_certificate_validity)
    if parse_duration(settings.tls_renew_before) >= validity:
        raise SettingsError("tls_renew_before must be shorter than tls_certificate_validity")
    if not settings.tls_check_seconds > 0:
        raise SettingsError("tls_check_seconds must be a positive number of seconds")
    if settings.tls_cert_file is not None:
        return dataclasses.replace(settings, tls=True)
    return settings


def _check_public_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(
            f"public_url must be an http:// or https:// URL such as http://pica.example:8080, "
            f"not {url!r}"
        )


def load(cli_values: dict[str, Any]) -> Settings:
    """Merge the sources; `cli_values` holds only flags the user actually gave."""
    values: dict[str, Any] = {}
    data_dir = Path(
        cli_values.get("data_dir") or os.environ.get("PICA_DATA_DIR") or DEFAULT_DATA_DIR
    )
    toml_file = data_dir / "pica.toml"
    try:
        if toml_file.is_file():
            values.update(tomllib.loads(toml_file.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not TOML, a NUL in the path
        raise SettingsError(f"{toml_file}: {exc}") from exc
    for name in _FIELDS:
        env = os.environ.get(f"PICA_{name.upper()}")
        if env is not None:
            values[name] = env
    values.update({k: v for k, v in cli_values.items() if v is not None})
    values["data_dir"] = str(data_dir)
    return build(values)


def settings_table(width: int = 100) -> str:
    """Every setting: its pica.toml key, environment variable, default and meaning (for --help).

    Generated from the Settings fields, so it cannot drift from what `load` accepts.
    """
    items = dataclasses.fields(Settings)
    name_width = max(len(item.name) for item in items) + 2
    lines = []
    for item in items:
        default = item.default
        shown = "-" if default is None else f"./{default}" if isinstance(default, Path) else default
        variable = f"PICA_{item.name.upper()}"
        lines.append(f"  {item.name.ljust(name_width)}{variable.ljust(name_width + 5)}{shown}")
        meaning = item.metadata.get("meaning", "")
        indent = " " * 6
        lines.extend(textwrap.wrap(meaning, width, initial_indent=indent, subsequent_indent=indent))
    return "\n".join(lines)

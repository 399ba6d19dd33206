"""One frozen Settings object, validated at start-up.

Sources, later ones winning: defaults, `<data-dir>/pica.toml`, `PICA_*` environment variables,
command-line flags. The data directory holds the SQLite database, the key-encryption key and
the generated AWS credentials/config files.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_DATA_DIR = "./pica-data"


class SettingsError(ValueError):
    """A setting that cannot work; reported at start-up, before anything is served."""


@dataclass(frozen=True)
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    database_url: str | None = None
    kek_file: Path | None = None
    region: str = "us-east-1"
    partition: str = "aws"
    workers: int = 1
    log_level: str = "info"
    max_body_bytes: int = 4 * 1024 * 1024
    max_cas_per_account: int = 200
    # The URL clients reach this pica at (CRL and OCSP URLs in certificates); default: endpoint.
    public_url: str | None = None
    # Where CRLs are published: "local" (folders under <data-dir>/buckets, served by pica) or
    # "s3" (any S3-compatible store; AWS itself when s3_endpoint_url is unset).
    object_store: str = "local"
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    crl_partition_size: int = 100_000
    crl_poll_seconds: float = 1.0
    # "ca": OCSP responses signed by the CA key; "delegated": by an OCSP-signing certificate.
    ocsp_signer: str = "ca"
    # Pre-issuance lint: "shaped" runs pkilint on passthrough/Blank/CA certificates, "all" on
    # every certificate, "off" never (pica's structural RFC 5280 rules always run).
    lint_mode: str = "shaped"
    # What a lint finding does: "refuse" the request (default), or "record" it and sign what
    # AWS would sign. AWS's own rules (name constraints, NotAfter, path length, basic
    # constraints) refuse in both modes.
    lint_findings: str = "refuse"

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
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def to_json(self) -> str:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in data.items()})

    @classmethod
    def from_json(cls, text: str) -> Settings:
        return build(json.loads(text))


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


def _coerce(name: str, value: Any) -> Any:
    field_type = str(_FIELDS[name].type)
    try:
        if value is None:
            return None
        if "float" in field_type:
            return float(value)
        if "int" in field_type:
            return int(value)
        if "Path" in field_type:
            return Path(value).resolve()
        return str(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name}: {value!r} is not valid") from exc


def build(values: dict[str, Any]) -> Settings:
    unknown = set(values) - set(_FIELDS)
    if unknown:
        raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
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
    if settings.crl_partition_size < 1:
        raise SettingsError("crl_partition_size must be at least 1")
    return dataclasses.replace(settings, data_dir=settings.data_dir.resolve())


def load(cli_values: dict[str, Any]) -> Settings:
    """Merge the sources; `cli_values` holds only flags the user actually gave."""
    values: dict[str, Any] = {}
    data_dir = Path(
        cli_values.get("data_dir") or os.environ.get("PICA_DATA_DIR") or DEFAULT_DATA_DIR
    )
    toml_file = data_dir / "pica.toml"
    if toml_file.exists():
        try:
            values.update(tomllib.loads(toml_file.read_text()))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{toml_file}: {exc}") from exc
    for name in _FIELDS:
        env = os.environ.get(f"PICA_{name.upper()}")
        if env is not None:
            values[name] = env
    values.update({k: v for k, v in cli_values.items() if v is not None})
    values["data_dir"] = str(data_dir)
    return build(values)

"""HTTPS for `pica serve --tls`: the internal TLS CA, the server certificate, its renewal.

What `--tls` does:
- On first start, an internal root CA for TLS only is created in `<data-dir>/tls/` (`ca.pem`,
  `ca.key`, mode 0600; EC P-256, 10 years). It is no tenant's CA: no account owns it, the API
  never lists it, and it signs nothing but pica's own server certificates. `ca-bundle.pem` (the
  root) is the trust bundle, named as `ca_bundle` in the AWS config file pica writes, so the aws
  CLI and boto3 trust the endpoint with no flags.
- The server certificate (`server.pem`: key, certificate and root in one file, replaced by one
  rename so that no process ever reads a key with the wrong certificate) names localhost,
  127.0.0.1, ::1, this host's name, the listening host and the public URL's host. It lives
  `tls_certificate_validity` (90 days) and is renewed `tls_renew_before` (30 days) before its
  NotAfter, while the server runs: every `tls_check_seconds` each process renews it when due
  (one process does, under an flock; the others find it done) and reloads its SSLContext when
  the file changed. New connections get the new certificate; open ones keep theirs.
- With `tls_cert_file`/`tls_key_file` pica serves those instead and renews nothing, but still
  reloads them when they change on disk (an external renewer such as certbot replacing them).
- TLS 1.2 is the minimum, ALPN offers http/1.1 only. Everything on the port is served over TLS:
  API, console, OCSP and CRLs (decisions.md says why, and how to keep plain-HTTP revocation).

Past ~400 lines because the TLS CA, the server certificate and its renewal and reload are one
lifecycle that must change together; the serving code only asks it for files and a context.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pica.durations import parse_duration
from pica.file_lock import exclusive
from pica.settings import Settings
from pica.startup import StartupError

log = logging.getLogger("pica.tls")

ROOT_VALIDITY = timedelta(days=3650)
# A new certificate's NotBefore is this far in the past: clients with a slow clock accept it.
BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class TlsPaths:
    """Where the TLS files of a data dir live."""

    folder: Path

    @property
    def ca_certificate(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def server(self) -> Path:
        return self.folder / "server.pem"

    @property
    def bundle(self) -> Path:
        return self.folder / "ca-bundle.pem"

    @property
    def lock(self) -> Path:
        return self.folder / "lock"


def paths(settings: Settings) -> TlsPaths:
    return TlsPaths(settings.data_dir / "tls")


def trust_bundle(settings: Settings) -> Path | None:
    """The CA bundle clients need: the internal root's, when pica issues its own certificate."""
    if not settings.tls or settings.tls_cert_file is not None:
        return None
    return paths(settings).bundle


def served_files(settings: Settings) -> tuple[Path, Path | None]:
    """(certificate chain file, key file or None when the key is inside it) for uvicorn."""
    if settings.tls_cert_file is not None:
        return settings.tls_cert_file, settings.tls_key_file
    return paths(settings).server, None


def prepare(settings: Settings, now: datetime | None = None) -> None:
    """At `pica serve` start, before any worker: the internal root, a current server
    certificate and the trust bundle; or a check that the given files load.

    Raises `TlsError` (one line) when a file cannot be made or read.
    """
    if settings.tls_cert_file is not None:
        certificate, key = served_files(settings)
        try:
            _load_chain(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), certificate, key)
        except (OSError, ssl.SSLError) as error:
            raise TlsError(
                f"cannot serve HTTPS with {certificate} and {key}: {_reason(error)}"
            ) from error
        return
    try:
        renew_if_due(settings, now or datetime.now(UTC))
    except OSError as error:
        raise TlsError(f"cannot set up {paths(settings).folder}: {_reason(error)}") from error


class TlsError(StartupError):
    """HTTPS cannot be served as configured; the message is one line."""


def renew_if_due(settings: Settings, now: datetime) -> bool:
    """Issue a new server certificate when there is none, when it is due for renewal or when
    it lacks a name it must carry. True when one was issued. Safe from several processes."""
    where = paths(settings)
    _private_folder(where.folder)
    with exclusive(where.lock):
        root_key, root = _root(where, now)
        names = subject_alternative_names(settings)
        if not _needs_new(where.server, root, names, settings, now):
            return False
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = _server_certificate(key, root_key, root, names, settings, now)
        pem = (
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            + certificate.public_bytes(serialization.Encoding.PEM)
            + root.public_bytes(serialization.Encoding.PEM)
        )
        _write_atomically(where.server, pem)
        log.info(
            "issued the TLS server certificate %x (until %s)",
            certificate.serial_number,
            certificate.not_valid_after_utc.isoformat(),
        )
        return True


def subject_alternative_names(settings: Settings) -> list[x509.GeneralName]:
    hosts = ["localhost", "127.0.0.1", "::1", socket.gethostname(), settings.host]
    for url in (settings.public_url, settings.endpoint_url):
        if url:
            hosts.append(urlsplit(url).hostname or "")
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(h.strip("[]") for h in hosts):
        if not host or host in ("0.0.0.0", "::"):
            continue
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host.lower()))
    return names


def _needs_new(
    path: Path,
    root: x509.Certificate,
    names: list[x509.GeneralName],
    settings: Settings,
    now: datetime,
) -> bool:
    try:
        chain = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError):
        return True
    certificate = chain[0]
    if certificate.issuer != root.subject:
        return True
    renew_at = certificate.not_valid_after_utc - parse_duration(settings.tls_renew_before)
    if now >= renew_at:
        return True
    present = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return not set(names) <= set(present)


def _root(where: TlsPaths, now: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The internal TLS root, made on first use (and again, with the bundle, once expired)."""
    with contextlib.suppress(OSError, ValueError):
        key = serialization.load_pem_private_key(where.ca_key.read_bytes(), None)
        root = x509.load_pem_x509_certificate(where.ca_certificate.read_bytes())
        if isinstance(key, ec.EllipticCurvePrivateKey) and root.not_valid_after_utc > now:
            if not where.bundle.exists():
                _write_atomically(where.bundle, root.public_bytes(serialization.Encoding.PEM))
            return key, root
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pica"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"pica internal TLS root {now:%Y-%m-%d}"),
        ]
    )
    public = key.public_key()
    root = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_atomically(
        where.ca_key,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    pem = root.public_bytes(serialization.Encoding.PEM)
    _write_atomically(where.ca_certificate, pem)
    _write_atomically(where.bundle, pem)
    log.info("created the internal TLS root CA in %s", where.folder)
    return key, root


def _server_certificate(
    key: ec.EllipticCurvePrivateKey,
    root_key: ec.EllipticCurvePrivateKey,
    root: x509.Certificate,
    names: list[x509.GeneralName],
    settings: Settings,
    now: datetime,
) -> x509.Certificate:
    validity = parse_duration(settings.tls_certificate_validity)
    not_after = min(now + validity, root.not_valid_after_utc)
    root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    common_name = next((n.value for n in names if isinstance(n, x509.DNSName)), "localhost")
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(common_name))]))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(max(now - BACKDATE, root.not_valid_before_utc))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )


# --- serving -----------------------------------------------------------------------------


@dataclass
class _Served:
    context: ssl.SSLContext
    certificate: Path
    key: Path | None
    stamp: tuple[int, int, int]


# The SSLContexts this process serves with (one per uvicorn Config loaded in it).
_SERVED: list[_Served] = []


def server_context(config: Any, _default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """uvicorn's `ssl_context_factory`: TLS 1.2+, HTTP/1.1 by ALPN, registered for reloads."""
    certificate = Path(config.ssl_certfile)
    key = Path(config.ssl_keyfile) if config.ssl_keyfile else None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    stamp = _load_chain(context, certificate, key)
    _SERVED.append(_Served(context, certificate, key, stamp))
    return context


def _load_chain(
    context: ssl.SSLContext, certificate: Path, key: Path | None
) -> tuple[int, int, int]:
    stamp = _stamp(certificate, key)
    context.load_cert_chain(certificate, key)
    return stamp


def _stamp(certificate: Path, key: Path | None) -> tuple[int, int, int]:
    """What tells a replaced file: its inode, size and modification time (of both files)."""
    stamps = [os.stat(p) for p in (certificate, key) if p is not None]
    return (
        sum(s.st_ino for s in stamps),
        sum(s.st_size for s in stamps),
        sum(s.st_mtime_ns for s in stamps),
    )


def refresh(settings: Settings, now: datetime | None = None) -> int:
    """One check: renew the certificate when due (internal CA), then reload every context whose
    files changed. Returns how many contexts were reloaded."""
    if settings.tls_cert_file is None:
        renew_if_due(settings, now or datetime.now(UTC))
    reloaded = 0
    for served in _SERVED:
        try:
            stamp = _stamp(served.certificate, served.key)
            if stamp == served.stamp:
                continue
            # A scratch context first: a failed load_cert_chain can leave a context with the
            # new certificate and the old key, so the served one only gets files that load.
            _load_chain(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), served.certificate, served.key)
            served.stamp = _load_chain(served.context, served.certificate, served.key)
        except (OSError, ssl.SSLError) as error:
            log.error("cannot reload the TLS certificate %s: %s", served.certificate, error)
            continue
        reloaded += 1
        log.info("reloaded the TLS certificate from %s", served.certificate)
    return reloaded


async def watch(settings: Settings) -> None:
    """The background check of every process serving TLS (started by the app's lifespan)."""
    from starlette.concurrency import run_in_threadpool

    while True:
        await asyncio.sleep(settings.tls_check_seconds)
        try:
            await run_in_threadpool(refresh, settings)
        except Exception:
            log.exception("checking the TLS server certificate failed")


# --- files -------------------------------------------------------------------------------


def _private_folder(folder: Path) -> None:
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    os.chmod(folder, 0o700)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write beside `path` (mode 0600) and rename over it: readers see the old or the new."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return str(error) or type(error).__name__

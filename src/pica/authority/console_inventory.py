"""What the web console reads beyond the API's answers: a CA's issued certificates, a search
across the caller's CAs, an expiry timeline and CRL freshness.

Each read authorizes through `ca_access` as the API does: a CA the caller may not describe is
not found. The list of a CA's certificates (and so the search and the timeline) covers only the
caller's own CAs: a resource policy shares issuance, not the owner's record of everything the CA
signed, and the API has no operation that lists it either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from pica.authority.authorities import CertificateAuthorityService
from pica.authority.ca_access import Caller, authorize_ca
from pica.authority.model import CertificateAuthority, CrlState, IssuedCertificate, RevocationReason
from pica.authority.ports import Clock, Store

# Certificates listed per CA page, and read per CA by a search or the timeline.
CERTIFICATES_PER_CA = 500
# CAs read for the console's lists (pages of ListCertificateAuthorities).
MAX_CAS = 1000
DESCRIBE = "DescribeCertificateAuthority"


@dataclass(frozen=True)
class CertificateLine:
    """One issued certificate as the console shows it."""

    ca_arn: str
    serial: int
    subject: str
    dns_names: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None
    revocation_reason: RevocationReason | None

    @property
    def arn(self) -> str:
        return f"{self.ca_arn}/certificate/{self.serial:x}"

    @property
    def serial_hex(self) -> str:
        return f"{self.serial:x}"

    def matches(self, text: str) -> bool:
        """Whether `text` is part of the subject or a DNS name, or the serial's hex digits
        (colons and case ignored)."""
        wanted = text.strip().lower()
        if not wanted:
            return False
        digits = wanted.replace(":", "").lstrip("0")
        if (
            digits
            and all(c in "0123456789abcdef" for c in digits)
            and (self.serial_hex.startswith(digits))
        ):
            return True
        return wanted in self.subject.lower() or any(wanted in n.lower() for n in self.dns_names)


@dataclass(frozen=True)
class TimelineEntry:
    """A CA or certificate and when it expires."""

    kind: str  # "CA" or "Certificate"
    name: str
    arn: str
    ca_arn: str
    not_after: datetime


def line_of(certificate: IssuedCertificate) -> CertificateLine:
    parsed = x509.load_der_x509_certificate(certificate.certificate_der)
    try:
        names = tuple(
            parsed.extensions.get_extension_for_class(
                x509.SubjectAlternativeName
            ).value.get_values_for_type(x509.DNSName)
        )
    except x509.ExtensionNotFound:
        names = ()
    return CertificateLine(
        ca_arn=certificate.ca_arn,
        serial=certificate.serial,
        subject=parsed.subject.rfc4514_string(),
        dns_names=names,
        not_before=certificate.not_before,
        not_after=certificate.not_after,
        revoked_at=certificate.revoked_at,
        revocation_reason=certificate.revocation_reason,
    )


def common_name(ca: CertificateAuthority) -> str:
    return ca.configuration.subject.common_name or ca.arn.rsplit("/", 1)[1]


class ConsoleInventory:
    def __init__(self, store: Store, authorities: CertificateAuthorityService, clock: Clock):
        self._store = store
        self._authorities = authorities
        self._clock = clock

    def cas(self, caller: Caller, *, shared: bool = False) -> list[CertificateAuthority]:
        """The caller's own CAs, or those other accounts share with it, through the same
        listing as ListCertificateAuthorities."""
        found: list[CertificateAuthority] = []
        token: str | None = None
        while len(found) < MAX_CAS:
            page = self._authorities.list_cas(caller, None, token, shared=shared)
            found.extend(page.items)
            token = page.next_token
            if token is None:
                break
        return found

    def certificates(self, caller: Caller, ca_arn: str) -> list[CertificateLine]:
        """The CA's certificates, newest first; empty unless the caller owns the CA."""
        now = self._clock.now()
        with self._store.transaction(read_only=True) as tx:
            ca = authorize_ca(tx, caller, ca_arn, now, action=DESCRIBE)
            if ca.account_id != caller.account_id:
                return []
            issued = tx.list_issued_certificates(ca_arn, limit=CERTIFICATES_PER_CA)
        return [line_of(certificate) for certificate in issued]

    def crl_state(self, caller: Caller, ca_arn: str) -> CrlState | None:
        now = self._clock.now()
        with self._store.transaction(read_only=True) as tx:
            authorize_ca(tx, caller, ca_arn, now, action=DESCRIBE)
            return tx.get_crl_state(ca_arn)

    def _all_certificates(self, caller: Caller, *, own_certificates: bool) -> list[CertificateLine]:
        """The certificates of all the caller's CAs; a root's own (self-issued) certificate only
        with `own_certificates` (the timeline shows the CA itself instead)."""
        lines: list[CertificateLine] = []
        for ca in self.cas(caller):
            lines.extend(
                line
                for line in self.certificates(caller, ca.arn)
                if own_certificates or line.serial != ca.serial
            )
        return lines

    def search(self, caller: Caller, text: str) -> list[CertificateLine]:
        """Certificates of the caller's CAs whose domain name, subject or serial matches."""
        lines = self._all_certificates(caller, own_certificates=True)
        return [line for line in lines if line.matches(text)]

    def timeline(self, caller: Caller) -> list[TimelineEntry]:
        """The caller's CAs and unrevoked, unexpired certificates, soonest expiry first."""
        now = self._clock.now()
        entries = [
            TimelineEntry("CA", common_name(ca), ca.arn, ca.arn, ca.not_after)
            for ca in self.cas(caller)
            if ca.not_after is not None and ca.not_after > now
        ]
        entries.extend(
            TimelineEntry(
                "Certificate",
                line.dns_names[0] if line.dns_names else line.subject,
                line.arn,
                line.ca_arn,
                line.not_after,
            )
            for line in self._all_certificates(caller, own_certificates=False)
            if line.revoked_at is None and line.not_after > now
        )
        return sorted(entries, key=lambda entry: entry.not_after)

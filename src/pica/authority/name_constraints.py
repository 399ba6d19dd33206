"""Name constraints (RFC 5280 4.2.1.10) of the issuing chain, enforced before a CA key signs.

AWS Private CA enforces the permitted and excluded subtrees of every CA certificate above a
certificate on its subject DN and subject alternative names ("RFC compliance"), when it issues a
certificate and when a CA certificate is imported. A certificate that breaks them is useless:
every relying party refuses its chain. So pica refuses to sign it, naming the name and the
constraint.

Matching follows RFC 5280 4.2.1.10, and where the RFC is silent what OpenSSL, Go and pyca/
cryptography agree on, choosing the stricter reading when they differ (a refused request can be
corrected; a signed certificate cannot be recalled):

- dNSName: label-wise suffix (`example.com` covers `example.com` and `a.example.com`, not
  `badexample.com`); a leading period (`.example.com`, outside RFC 5280 but common) covers the
  subdomains only, as OpenSSL and Go read it. A wildcard SAN `*.example.com` stands for every
  name one label below `example.com`: it is permitted when all of them are, and excluded when
  any of them is (so an excluded `a.example.com` refuses `*.example.com`).
- rfc822Name: a mailbox (exact), a host (every mailbox on it) or `.domain` (every mailbox on a
  host within it). The subject's emailAddress attributes are checked too, always.
- iPAddress: address and mask, bit by bit; an IPv4 address never falls in an IPv6 range.
- directoryName: the constraint's RDNs are a prefix of the name's (RFC 5280 7.1 comparison).
  The subject DN is checked as a directoryName when it is not empty.
- uniformResourceIdentifier: the host part, `.domain` covering subdomains only. A URI without
  a host name (`urn:`, an IP literal) cannot satisfy a URI constraint.
- A subject commonName that looks like a host name is checked as a dNSName when there is no
  dNSName SAN (CA/Browser Forum practice, and OpenSSL's rule, which OpenSSL applies to whatever
  certificate it verifies, so to CA certificates too).
- Names of a form no CA constrains are unconstrained; excluded always wins; a form pica cannot
  compare (otherName, x400Address, ediPartyName, registeredID) is refused only when a CA
  constrains that form.
- Every certificate is checked, self-issued CA certificates too: RFC 5280 6.1.3 (b) exempts them
  only as intermediates, and OpenSSL checks whichever certificate it is asked to verify.

Each chain's constraints are parsed once (the caches below), so a chain without name
constraints costs a dictionary lookup per issuance; names are read only in the forms some CA
constrains.

One module of about 540 lines, over the ~400 pica aims for: it is one noun (RFC 5280 4.2.1.10),
and the per-form matchers share the parsed-constraint and subject-name types they are written
against; split by form, each piece would be read only with the others open.

Past ~400 lines because it holds the matching rules of all five name forms (one noun, one RFC
section); each form's matcher is a small function of its own.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from asn1crypto import core as asn1_core
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID, NameOID


class NameForm(enum.StrEnum):
    """GeneralName forms, named as in RFC 5280."""

    OTHER_NAME = "otherName"
    RFC822_NAME = "rfc822Name"
    DNS_NAME = "dNSName"
    X400_ADDRESS = "x400Address"
    DIRECTORY_NAME = "directoryName"
    EDI_PARTY_NAME = "ediPartyName"
    URI = "uniformResourceIdentifier"
    IP_ADDRESS = "iPAddress"
    REGISTERED_ID = "registeredID"


_ASN1_FORMS = {
    "other_name": NameForm.OTHER_NAME,
    "rfc822_name": NameForm.RFC822_NAME,
    "dns_name": NameForm.DNS_NAME,
    "x400_address": NameForm.X400_ADDRESS,
    "directory_name": NameForm.DIRECTORY_NAME,
    "edi_party_name": NameForm.EDI_PARTY_NAME,
    "uniform_resource_identifier": NameForm.URI,
    "ip_address": NameForm.IP_ADDRESS,
    "registered_id": NameForm.REGISTERED_ID,
}
_COMPARABLE = frozenset(
    {
        NameForm.RFC822_NAME,
        NameForm.DNS_NAME,
        NameForm.DIRECTORY_NAME,
        NameForm.URI,
        NameForm.IP_ADDRESS,
    }
)

# A commonName is taken for a host name when it is LDH (and `_`) labels with at least one dot,
# optionally under a leftmost `*` label: OpenSSL's test, plus wildcards.
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?"
_HOST_LIKE = re.compile(rf"(?:\*\.)?(?:{_LABEL}\.)+{_LABEL}")

# The value a name or a subtree is compared by: text (lower-cased where RFC 5280 says case does
# not matter), raw octets (iPAddress), or the DER of each RDN (directoryName).
Value = str | bytes | tuple[bytes, ...]


@dataclass(frozen=True)
class Subtree:
    """One GeneralSubtree base of a NameConstraints extension."""

    form: NameForm
    value: Value | None  # None: a form pica cannot compare
    text: str


@dataclass(frozen=True)
class CaConstraints:
    """The name constraints one CA certificate imposes, grouped by name form."""

    ca: str  # the CA certificate's subject, for messages
    permitted: Mapping[NameForm, tuple[Subtree, ...]]
    excluded: Mapping[NameForm, tuple[Subtree, ...]]
    forms: frozenset[NameForm] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "forms", frozenset(self.permitted) | frozenset(self.excluded))


@dataclass(frozen=True)
class SubjectName:
    """A name the certificate to be signed binds to its key, and where it comes from."""

    form: NameForm
    value: Value | None  # None: unreadable, or a form pica cannot compare
    shown: str | asn1_x509.Name  # a DN is rendered only when a message names it
    where: str  # "subjectAltName", "subject", "subject commonName", "subject emailAddress"

    @property
    def text(self) -> str:
        return self.shown if isinstance(self.shown, str) else str(self.shown.human_friendly)


@dataclass(frozen=True)
class Violation:
    """Why a name may not be certified under a CA's name constraints."""

    name: SubjectName
    constraint: str
    ca: str

    def __str__(self) -> str:
        return (
            f"The {self.name.where} {self.name.form} {self.name.text!r} {self.constraint} of the "
            f"name constraints in the certificate authority certificate {self.ca!r}."
        )


# --- reading constraints -------------------------------------------------------------------------


def _text(value: asn1_core.Asn1Value) -> str:
    """An IA5String's characters as encoded (no IDNA or other decoding)."""
    return bytes(value.contents or b"").decode("latin-1")


def _rdns(name: asn1_x509.Name) -> tuple[bytes, ...]:
    return tuple(rdn.dump() for rdn in name.chosen)


@lru_cache(maxsize=8192)
def _rdn_normal_form(der: bytes) -> str:
    """An RDN as RFC 5280 7.1 compares it (string preparation: costly, so cached)."""
    return str(asn1_x509.RelativeDistinguishedName.load(der).hashable)


def _same_rdn(a: bytes, b: bytes) -> bool:
    return a == b or _rdn_normal_form(a) == _rdn_normal_form(b)


def _general_name(name: asn1_x509.GeneralName) -> tuple[NameForm, Value | None, str]:
    """A GeneralName's form, comparison value and display text."""
    form = _ASN1_FORMS[name.name]
    chosen = name.chosen
    if form is NameForm.IP_ADDRESS:
        octets = bytes(chosen.contents or b"")
        return form, octets, _ip_text(octets)
    if form is NameForm.DIRECTORY_NAME:
        return form, _rdns(chosen), chosen.human_friendly
    if form in (NameForm.DNS_NAME, NameForm.RFC822_NAME, NameForm.URI):
        text = _text(chosen)
        return form, text, text
    return form, None, f"{form} {chosen.dump().hex()}"


def _ip_text(octets: bytes) -> str:
    """Address (and mask, for a constraint) as text, for messages only."""

    def one(part: bytes) -> str:
        return str(ipaddress.ip_address(part))

    if len(octets) in (4, 16):
        return one(octets)
    if len(octets) in (8, 32):
        half = len(octets) // 2
        return f"{one(octets[:half])}/{one(octets[half:])}"
    return octets.hex()


def _subtrees(subtrees: asn1_x509.GeneralSubtrees | None) -> dict[NameForm, tuple[Subtree, ...]]:
    grouped: dict[NameForm, list[Subtree]] = {}
    for subtree in subtrees or ():
        form, value, text = _general_name(subtree["base"])
        if form in (NameForm.DNS_NAME, NameForm.URI) and isinstance(value, str):
            value = value.lower()  # case-insensitive host names (RFC 4343)
        grouped.setdefault(form, []).append(Subtree(form, value, text))
    return {form: tuple(items) for form, items in grouped.items()}


def constraints_of(certificate_der: bytes) -> CaConstraints | None:
    """The name constraints of one CA certificate; None when it has none."""
    certificate = asn1_x509.Certificate.load(certificate_der)
    value = certificate.name_constraints_value
    if value is None:
        return None
    permitted = value["permitted_subtrees"]
    excluded = value["excluded_subtrees"]
    return CaConstraints(
        ca=certificate.subject.human_friendly,
        permitted=_subtrees(
            permitted if isinstance(permitted, asn1_x509.GeneralSubtrees) else None
        ),
        excluded=_subtrees(excluded if isinstance(excluded, asn1_x509.GeneralSubtrees) else None),
    )


def certificates_constraints(certificates: Iterable[x509.Certificate]) -> tuple[CaConstraints, ...]:
    """The constraints of each certificate that has some, in the order given."""
    found = (constraints_of(c.public_bytes(Encoding.DER)) for c in certificates)
    return tuple(c for c in found if c is not None)


@lru_cache(maxsize=4096)
def chain_constraints(certificate_pem: str, chain_pem: str | None) -> tuple[CaConstraints, ...]:
    """The name constraints of a CA (its own certificate) and every CA above it (its chain).

    Cached by the PEM text, which changes when a CA certificate is imported again; a chain
    without any NameConstraints extension is the empty tuple.
    """
    text = (certificate_pem + (chain_pem or "")).encode("ascii")
    found = (constraints_of(der) for _, _, der in asn1_pem.unarmor(text, multiple=True))
    return tuple(c for c in found if c is not None)


# --- the names of a certificate ------------------------------------------------------------------


def _subject_names(
    subject: x509.Name, forms: Collection[NameForm], *, has_dns_san: bool
) -> Iterator[SubjectName]:
    if len(subject) == 0:
        return
    if NameForm.DIRECTORY_NAME in forms:
        dn = asn1_x509.Name.load(subject.public_bytes())
        yield SubjectName(NameForm.DIRECTORY_NAME, _rdns(dn), dn, "subject")
    if NameForm.RFC822_NAME in forms:
        for attribute in subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS):
            if isinstance(attribute.value, str):
                address = attribute.value
                yield SubjectName(NameForm.RFC822_NAME, address, address, "subject emailAddress")
    if NameForm.DNS_NAME in forms and not has_dns_san:
        for attribute in subject.get_attributes_for_oid(NameOID.COMMON_NAME):
            common_name = attribute.value
            if isinstance(common_name, str) and _HOST_LIKE.fullmatch(common_name):
                yield SubjectName(
                    NameForm.DNS_NAME, common_name.lower(), common_name, "subject commonName"
                )


def _san_name(name: x509.GeneralName) -> SubjectName:
    """A SAN entry as cryptography parsed it (no second parse on the hot path)."""
    where = "subjectAltName"
    if isinstance(name, x509.DNSName):
        return SubjectName(NameForm.DNS_NAME, name.value.lower(), name.value, where)
    if isinstance(name, x509.RFC822Name):
        return SubjectName(NameForm.RFC822_NAME, name.value, name.value, where)
    if isinstance(name, x509.UniformResourceIdentifier):
        return SubjectName(NameForm.URI, name.value, name.value, where)
    if isinstance(name, x509.IPAddress):
        address = name.value
        if isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return SubjectName(NameForm.IP_ADDRESS, address.packed, str(address), where)
        return SubjectName(NameForm.IP_ADDRESS, None, str(address), where)  # a range: no address
    if isinstance(name, x509.DirectoryName):
        dn = asn1_x509.Name.load(name.value.public_bytes())
        return SubjectName(NameForm.DIRECTORY_NAME, _rdns(dn), dn, where)
    form = NameForm.OTHER_NAME if isinstance(name, x509.OtherName) else NameForm.REGISTERED_ID
    return SubjectName(form, None, f"{form} {name.value}", where)


def _san_names_from_der(der: bytes) -> list[SubjectName]:
    """A SAN only DER holds (an ediPartyName, a CustomExtension), read with asn1crypto."""
    names: list[SubjectName] = []
    try:
        for general_name in asn1_x509.GeneralNames.load(der):
            form, value, text = _general_name(general_name)
            if form is NameForm.DNS_NAME and isinstance(value, str):
                value = value.lower()
            names.append(SubjectName(form, value, text, "subjectAltName"))
    except (ValueError, TypeError, KeyError):
        # Undecodable: it cannot be shown to satisfy any constraint (the lint gate names it).
        return [SubjectName(form, None, "(undecodable)", "subjectAltName") for form in NameForm]
    return names


def _san_names(extensions: Iterable[x509.Extension[x509.ExtensionType]]) -> list[SubjectName]:
    for extension in extensions:
        if extension.oid == ExtensionOID.SUBJECT_ALTERNATIVE_NAME:
            value = extension.value
            if isinstance(value, x509.SubjectAlternativeName):
                return [_san_name(name) for name in value]
            if isinstance(value, x509.UnrecognizedExtension):
                return _san_names_from_der(value.value)
            return _san_names_from_der(value.public_bytes())
    return []


def certificate_names(
    subject: x509.Name,
    extensions: Iterable[x509.Extension[x509.ExtensionType]],
    forms: Collection[NameForm] = frozenset(NameForm),
) -> tuple[SubjectName, ...]:
    """The names of `forms` that name constraints apply to: the subject DN, the SANs, the
    subject's emailAddress attributes and (without dNSName SANs) a host-like commonName.

    Names of other forms are left out: no constraint can refuse them, and reading a DN in its
    RFC 5280 7.1 normal form is the costly part.
    """
    sans = _san_names(extensions)
    has_dns = any(n.form is NameForm.DNS_NAME for n in sans)
    return (
        *_subject_names(subject, forms, has_dns_san=has_dns),
        *(name for name in sans if name.form in forms),
    )


# --- matching ------------------------------------------------------------------------------------


def _dns_within(name: str, base: str) -> bool:
    """`name` is `base` or below it (with a leading period: strictly below it)."""
    if not base:
        return True
    if base.startswith("."):
        return name.endswith(base)
    return name == base or name.endswith("." + base)


def _dns_matches(name: str, base: str, *, excluded: bool) -> bool:
    if not name.startswith("*.") or len(name) < 3:
        return _dns_within(name, base)
    parent = name[2:]  # `*.parent` stands for every name one label below `parent`
    every = not base or (
        parent == base[1:] or parent.endswith(base)
        if base.startswith(".")
        else _dns_within(parent, base)
    )
    if every or not excluded:
        return every
    # Excluded when any expansion is: `base` itself is one label below `parent`.
    return (
        not base.startswith(".")
        and base.endswith("." + parent)
        and base.count(".") == parent.count(".") + 1
    )


def _host_matches(host: str, base: str) -> bool:
    """RFC 5280 host matching for rfc822Name and URI constraints: `.domain` means below it."""
    base = base.lower()
    if not base:
        return True
    if base.startswith("."):
        return host.endswith(base)
    return host == base


def _mailbox(value: str) -> tuple[str, str] | None:
    local, at, host = value.rpartition("@")
    if not at or not local or not host:
        return None
    return local, host.lower()


def _email_matches(name: str, base: str) -> bool | None:
    mailbox = _mailbox(name)
    if mailbox is None:
        return None
    local, host = mailbox
    if "@" in base:
        wanted = _mailbox(base)
        return wanted is not None and wanted == (local, host)
    return _host_matches(host, base)


def _uri_matches(name: str, base: str) -> bool | None:
    try:
        host = urlsplit(name).hostname
    except ValueError:
        return None
    if not host or host.startswith("[") or _is_ip_literal(host):
        return None  # RFC 5280: a URI constraint needs a host given as a domain name
    return _host_matches(host, base)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _ip_matches(address: bytes, base: bytes) -> bool:
    if len(base) != 2 * len(address):
        return False  # IPv4 in an IPv6 range or the other way round
    network, mask = base[: len(address)], base[len(address) :]
    return all((a & m) == (n & m) for a, n, m in zip(address, network, mask, strict=True))


def _matches(name: SubjectName, subtree: Subtree, *, excluded: bool) -> bool | None:
    """Whether `name` lies in `subtree`; None when that cannot be decided."""
    value, base = name.value, subtree.value
    if value is None or base is None:
        return None
    if name.form is NameForm.DNS_NAME and isinstance(value, str) and isinstance(base, str):
        return _dns_matches(value, base, excluded=excluded)
    if name.form is NameForm.RFC822_NAME and isinstance(value, str) and isinstance(base, str):
        return _email_matches(value, base)
    if name.form is NameForm.URI and isinstance(value, str) and isinstance(base, str):
        return _uri_matches(value, base)
    if name.form is NameForm.IP_ADDRESS and isinstance(value, bytes) and isinstance(base, bytes):
        return _ip_matches(value, base)
    if name.form is NameForm.DIRECTORY_NAME and isinstance(value, tuple):
        return (
            isinstance(base, tuple)
            and len(value) >= len(base)
            and all(_same_rdn(a, b) for a, b in zip(value, base, strict=False))
        )
    return None


def _undecidable(name: SubjectName, ca: str) -> Violation:
    reason = (
        f"cannot be compared with the {name.form} constraints"
        if name.form not in _COMPARABLE
        else f"cannot be checked against the {name.form} constraints"
    )
    return Violation(name, reason, ca)


def _excluded_violation(
    name: SubjectName, constraints: Sequence[CaConstraints]
) -> Violation | None:
    for ca in constraints:
        for subtree in ca.excluded.get(name.form, ()):
            matched = _matches(name, subtree, excluded=True)
            if matched is None:
                return _undecidable(name, ca.ca)
            if matched:
                return Violation(
                    name, f"is within the excluded {subtree.form} subtree {subtree.text!r}", ca.ca
                )
    return None


def _permitted_violation(
    name: SubjectName, constraints: Sequence[CaConstraints]
) -> Violation | None:
    for ca in constraints:
        subtrees = ca.permitted.get(name.form)
        if subtrees is None:
            continue  # this CA does not constrain the form
        results = [_matches(name, subtree, excluded=False) for subtree in subtrees]
        if any(results):
            continue
        if None in results:
            return _undecidable(name, ca.ca)
        listed = ", ".join(repr(subtree.text) for subtree in subtrees)
        return Violation(
            name, f"is not within the permitted {name.form} subtrees ({listed})", ca.ca
        )
    return None


def first_violation(
    constraints: Sequence[CaConstraints], names: Iterable[SubjectName]
) -> Violation | None:
    """The first name outside the constraints of the CAs above it (excluded subtrees first,
    as excluded always wins), or None when every name is allowed."""
    listed = tuple(names)
    for name in listed:
        found = _excluded_violation(name, constraints)
        if found is not None:
            return found
    for name in listed:
        found = _permitted_violation(name, constraints)
        if found is not None:
            return found
    return None


# --- where they are enforced ---------------------------------------------------------------------


def issuance_violation(
    *,
    certificate_pem: str,
    chain_pem: str | None,
    subject: x509.Name,
    extensions: Iterable[x509.Extension[x509.ExtensionType]],
) -> Violation | None:
    """Why the certificate a CA is about to sign breaks the name constraints of the CA's own
    certificate (`certificate_pem`) or of one above it (`chain_pem`); None when it does not.

    Self-issued CA certificates are checked too: RFC 5280 6.1.3 (b) exempts them only as
    intermediates, and a relying party (OpenSSL) that verifies one on its own checks it.
    """
    constraints = chain_constraints(certificate_pem, chain_pem)
    if not constraints:
        return None
    forms = frozenset().union(*(c.forms for c in constraints))
    return first_violation(constraints, certificate_names(subject, extensions, forms))


def path_violation(path: Sequence[x509.Certificate]) -> Violation | None:
    """The first CA certificate of `path` (issuer first, root last) whose names break the
    constraints of a certificate above it."""
    for index, certificate in enumerate(path[:-1]):
        constraints = certificates_constraints(path[index + 1 :])
        if not constraints:
            continue
        found = first_violation(
            constraints, certificate_names(certificate.subject, certificate.extensions)
        )
        if found is not None:
            return found
    return None

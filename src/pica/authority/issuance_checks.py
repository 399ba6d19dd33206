"""The checks IssueCertificate makes that depend on the issuing CA: the root's self-issue, the
path length a CA template may ask for, and the name constraints of the CA's chain."""

from __future__ import annotations

from pica.authority import lifecycle
from pica.authority.authorities import ca_public_key
from pica.authority.ca_certificate import same_public_key
from pica.authority.csr import LoadedCsr
from pica.authority.lifecycle import Action
from pica.authority.model import CaStatus, CaType, CertificateAuthority, UsageMode
from pica.authority.name_constraints import issuance_violation
from pica.authority.profiles import Profile
from pica.authority.templates import Template
from pica.errors import InvalidArgs, NameConstraintViolation


def check_root_self_issue(ca: CertificateAuthority, csr: LoadedCsr, status: CaStatus) -> None:
    if ca.type is not CaType.ROOT:
        raise InvalidArgs(
            "Root CA certificate templates can only be used by a ROOT certificate authority."
        )
    if status not in (CaStatus.PENDING_CERTIFICATE, CaStatus.ACTIVE, CaStatus.EXPIRED):
        lifecycle.require(Action.ISSUE, status, ca.arn)
    if not same_public_key(csr.public_key, ca_public_key(ca)):
        raise InvalidArgs(
            "A root CA certificate template can only sign the certificate authority's own CSR."
        )


def check_ca_template(ca: CertificateAuthority, template: Template, limit: int | None) -> None:
    """A CA certificate must fit under the issuing CA's own path length constraint (`limit`)."""
    if ca.usage_mode is UsageMode.SHORT_LIVED_CERTIFICATE:
        raise InvalidArgs(
            "A certificate authority in SHORT_LIVED_CERTIFICATE mode cannot issue CA certificates."
        )
    requested = template.path_length or 0
    if limit is not None and requested >= limit:
        raise InvalidArgs(
            f"The template {template.arn} requests path length {requested}, but the issuing "
            f"certificate authority's path length constraint is {limit}."
        )


def check_name_constraints(ca: CertificateAuthority, profile: Profile) -> None:
    """AWS enforces the name constraints of every CA above a certificate it signs: so does pica,
    in every lint_findings mode (they are AWS's rule, not lint)."""
    assert ca.certificate_pem is not None
    violation = issuance_violation(
        certificate_pem=ca.certificate_pem,
        chain_pem=ca.certificate_chain_pem,
        subject=profile.subject,
        extensions=profile.extensions,
    )
    if violation is not None:
        raise NameConstraintViolation(
            str(violation),
            name=f"{violation.name.form} {violation.name.text}",
            constraint=violation.constraint,
            ca=violation.ca,
        )

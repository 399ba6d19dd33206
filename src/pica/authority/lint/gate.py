"""The lint gate: what issuance asks about the unsigned builder right before the CA key signs it.

The structural rules (`rules`) read the parts the builder was made from; where the mode says
so, pkilint (`pkilint_validators`) reads the builder serialised with a throwaway signature
(`pica.authority.throwaway`). `FindingsMode` decides whether the findings refuse the request or
are handed back to be recorded. Issuance then has the CA key sign that builder (or the very
draft the gate made of it, for a key in a token): the same TBS the gate read.
"""

from __future__ import annotations

import enum

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from pica.authority.algorithms import SM2_UNAVAILABLE, KeyFamily, signature_scheme
from pica.authority.certificate_parts import CertificateParts
from pica.authority.lint.finding import AWS_RULES, Finding, refusal_message
from pica.authority.lint.pkilint_validators import PkilintValidators
from pica.authority.lint.rules import structural_findings
from pica.authority.lint.tbs import read_parts
from pica.authority.model import SigningAlgorithm
from pica.authority.throwaway import FAST_SCHEME, throwaway_sign
from pica.errors import InvalidArgs, LintRejected


class FindingsMode(enum.StrEnum):
    """What a lint finding does: refuse the request, or let AWS-compatible issuance sign it
    and record the finding."""

    REFUSE = "refuse"
    RECORD = "record"


class LintMode(enum.StrEnum):
    """Where pkilint runs. The structural rules run on every certificate whatever the mode."""

    SHAPED = "shaped"  # certificates whose content the caller shapes (passthrough, Blank, CA)
    ALL = "all"  # every certificate
    OFF = "off"  # never (structural rules only)


class LintGate:
    """Checks the certificate issuance is about to sign; one instance per process.

    pkilint's validator tree is assembled here, once, because building it per certificate would
    cost more than the lint itself.
    """

    def __init__(
        self, mode: LintMode = LintMode.SHAPED, findings: FindingsMode = FindingsMode.REFUSE
    ) -> None:
        self.mode = LintMode(mode)
        self.findings_mode = FindingsMode(findings)
        self._pkilint = PkilintValidators() if self.mode is not LintMode.OFF else None

    def runs_pkilint(self, *, shaped: bool, is_ca: bool = False) -> bool:
        if self._pkilint is None:
            return False
        return self.mode is LintMode.ALL or shaped or is_ca

    def draft(
        self,
        builder: x509.CertificateBuilder,
        *,
        signing_algorithm: SigningAlgorithm,
        shaped: bool,
        is_ca: bool = False,
    ) -> x509.Certificate:
        """The builder serialised as the gate reads it (`findings` of the same arguments):
        under the CA's scheme when pkilint runs, else under the cheapest one."""
        scheme = signature_scheme(signing_algorithm)
        if scheme.family is KeyFamily.SM2:
            raise InvalidArgs(SM2_UNAVAILABLE)
        run_pkilint = self.runs_pkilint(shaped=shaped, is_ca=is_ca)
        return throwaway_sign(builder, scheme if run_pkilint else FAST_SCHEME)

    def findings(
        self,
        builder: x509.CertificateBuilder | x509.Certificate,
        *,
        signing_algorithm: SigningAlgorithm,
        issuer: x509.Certificate | None,
        shaped: bool,
        is_ca: bool = False,
        parts: CertificateParts | None = None,
    ) -> tuple[Finding, ...]:
        """Every reason not to sign `builder`; empty when the certificate conforms.

        With the `parts` the builder was made from, the structural rules read those rather
        than parse a draft back; when pkilint does not run either, no draft is made at all
        (unless only a parse can tell what the parts hold, `tbs.read_parts`). `builder` may
        also be given as the gate's `draft` of it, made with the same arguments.

        `signing_algorithm` is the one the CA key will sign with: when pkilint runs, the
        throwaway signature uses its family, hash and padding, so the signatureAlgorithm fields
        pkilint checks are the real ones. `issuer` is the issuing CA's certificate, None for a
        self-signed root. `shaped` says the caller decided part of the content (passthrough or
        Blank template); `is_ca` that the certificate is a CA certificate (the template's): both
        make pkilint run in SHAPED mode, and `is_ca` also requires basicConstraints cA.
        """
        run_pkilint = self.runs_pkilint(shaped=shaped, is_ca=is_ca)
        certificate = builder if isinstance(builder, x509.Certificate) else None
        tbs = None
        if parts is not None and (certificate is not None or not run_pkilint):
            tbs = read_parts(parts, certificate, issuer)
        if certificate is None and (tbs is None or run_pkilint):
            assert isinstance(builder, x509.CertificateBuilder)
            certificate = self.draft(
                builder, signing_algorithm=signing_algorithm, shaped=shaped, is_ca=is_ca
            )
            if parts is not None and tbs is None:  # the parts beside the draft it needed
                tbs = read_parts(parts, certificate, issuer)
        found = structural_findings(certificate, issuer, is_ca=is_ca, tbs=tbs)
        if run_pkilint:
            assert self._pkilint is not None and certificate is not None
            der = certificate.public_bytes(Encoding.DER)
            found += self._pkilint.findings(der, self_signed=issuer is None)
        return tuple(found)

    def check(
        self,
        builder: x509.CertificateBuilder | x509.Certificate,
        *,
        signing_algorithm: SigningAlgorithm,
        issuer: x509.Certificate | None,
        shaped: bool,
        is_ca: bool = False,
        parts: CertificateParts | None = None,
    ) -> tuple[Finding, ...]:
        """Return if `builder` may be signed; raise InvalidArgs naming the findings if not.

        What it returns are the findings let through in `FindingsMode.RECORD`, for issuance to
        record; in `REFUSE` mode any finding refuses, so it returns an empty tuple.
        """
        found = self.findings(
            builder,
            signing_algorithm=signing_algorithm,
            issuer=issuer,
            shaped=shaped,
            is_ca=is_ca,
            parts=parts,
        )
        refusing = (
            found
            if self.findings_mode is FindingsMode.REFUSE
            else tuple(finding for finding in found if finding.code in AWS_RULES)
        )
        if refusing:
            raise LintRejected(refusal_message(refusing))
        return found

"""A reason the lint gate gives not to sign: its code, severity and message, and the refusal.

`pica.*` codes come from the structural rules, the others are pkilint's. `AWS_RULES` are the
findings that refuse whatever the `FindingsMode`, because AWS Private CA enforces them itself.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "ERROR"
REFUSAL_PREFIX = "The certificate would not conform to RFC 5280: "


@dataclass(frozen=True)
class Finding:
    """One reason to refuse: a stable code (`pica.*` or pkilint's), its severity, and why."""

    code: str
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.code} ({self.severity}): {self.message}"


# Structural findings that break a rule AWS Private CA enforces itself ("RFC compliance"): the
# issuer's notAfter, and basicConstraints. They refuse in every FindingsMode. Everything else
# (keyUsage coherence, SKI/AKI, which AWS documents it does not enforce, pkilint) is lint.
AWS_RULES = frozenset(
    {
        "pica.validity_ends_after_issuer",
        "pica.ca_requires_basic_constraints",
        "pica.basic_constraints_ca_not_critical",
        "pica.path_length_requires_ca",
    }
)


def refusal_message(findings: tuple[Finding, ...] | list[Finding]) -> str:
    return REFUSAL_PREFIX + "; ".join(str(finding) for finding in findings)

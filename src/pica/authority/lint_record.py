"""What pica keeps of a certificate it signed in spite of lint findings (`lint_findings =
"record"`), and the log that keeps it today.

Issuance tells every `pica.authority.ports.FindingsObserver` the composition root wired, once
the certificate is stored. Today that is `FindingsLog`: one WARNING line per certificate on the
`pica.lint` logger. Metrics (`pica.wire.metrics.LintFindingMetrics`) subscribe
through `FindingsFanOut`, which the composition root builds before the web app exists; the
audit trail will subscribe the same way, without touching issuance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pica.authority.lint import Finding
from pica.authority.ports import FindingsObserver

log = logging.getLogger("pica.lint")


@dataclass(frozen=True)
class SignedWithFindings:
    """A certificate that was signed and stored although the lint gate had findings."""

    ca_arn: str
    certificate_arn: str
    serial: int
    template_arn: str
    findings: tuple[Finding, ...]


class FindingsLog:
    """Writes each `SignedWithFindings` as one line: CA ARN, serial, template and findings."""

    def signed_with_findings(self, event: SignedWithFindings) -> None:
        log.warning(
            "signed with lint findings: ca=%s serial=%032x template=%s findings=%s",
            event.ca_arn,
            event.serial,
            event.template_arn,
            "; ".join(str(finding) for finding in event.findings),
        )


@dataclass
class FindingsFanOut:
    """Tells each observer added so far: issuance holds one of these, and the parts built later
    (the web app's metrics) `add` themselves to it."""

    observers: list[FindingsObserver] = field(default_factory=list)

    def add(self, observer: FindingsObserver) -> None:
        self.observers.append(observer)

    def signed_with_findings(self, event: SignedWithFindings) -> None:
        for observer in self.observers:
            observer.signed_with_findings(event)

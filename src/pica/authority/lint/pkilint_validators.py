"""pkilint's PKIX certificate validators, run where the caller shapes the certificate.

Hundreds of checks over every field (general name syntax, policy qualifiers, extension
encodings...), two to three milliseconds a certificate, so the gate runs them on passthrough and
Blank templates and CA certificates (`LintMode.SHAPED`) or on every certificate (`LintMode.ALL`).
None of them verifies the signature, except the one `tolerances.TOLERATED` handles.
"""

from __future__ import annotations

import warnings

from cryptography.utils import CryptographyDeprecationWarning
from pkilint import loader
from pkilint.pkix import certificate as pkix_certificate
from pkilint.pkix import extension as pkix_extension
from pkilint.pkix import name as pkix_name
from pkilint.validation import ValidationFindingSeverity

from pica.authority.lint.finding import ERROR, Finding
from pica.authority.lint.tolerances import TOLERATED

# cryptography 51 deprecates DSA, and pkilint's check of a self-issued certificate's signature
# still reaches the DSA names, warning on every certificate: not something pica or its user can
# act on, so it is not shown (pyproject.toml's pytest filters say the same for the tests).
warnings.filterwarnings(
    "ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning
)


def _node_value(node: object) -> str:
    """The flagged node's value as text; "" (so no tolerance applies) when it has none."""
    try:
        return str(getattr(node, "pdu", ""))
    except Exception:  # pyasn1 refuses str() of unset values; then nothing is tolerated
        return ""


def _short_path(path: str) -> str:
    return path.removeprefix("certificate.").removeprefix("tbsCertificate.")


class PkilintValidators:
    """pkilint's RFC 5280 certificate validators, assembled once as its `lint_pkix_cert` does.

    Validators keep no per-document state (results live in the document each call creates), so
    one instance serves every thread of the issuance threadpool.
    """

    def __init__(self) -> None:
        self._loader = loader.RFC5280CertificateDocumentLoader()
        self._validator = pkix_certificate.create_pkix_certificate_validator_container(
            pkix_certificate.create_decoding_validators(
                pkix_name.ATTRIBUTE_TYPE_MAPPINGS, pkix_extension.EXTENSION_MAPPINGS
            ),
            [
                pkix_certificate.create_issuer_validator_container([]),
                pkix_certificate.create_validity_validator_container(),
                pkix_certificate.create_subject_validator_container([]),
                pkix_certificate.create_extensions_validator_container([]),
                pkix_certificate.create_spki_validator_container([]),
            ],
        )

    def findings(self, certificate_der: bytes, *, self_signed: bool) -> list[Finding]:
        """Findings of severity ERROR and FATAL; WARNING and below never refuse a request."""
        try:
            document = self._loader.load_der_document(certificate_der, "certificate")
        except ValueError as exc:
            return [Finding("pica.pkilint_cannot_decode", ERROR, str(exc))]
        found: list[Finding] = []
        for result in self._validator.validate(document.root):
            for description in result.finding_descriptions:
                severity = description.finding.severity
                if severity > ValidationFindingSeverity.ERROR:
                    continue
                code = str(description.finding.code)
                path = str(result.node.path)
                tolerance = TOLERATED.get(code)
                if tolerance is not None and tolerance(_node_value(result.node), path, self_signed):
                    continue
                message = str(description.message) if description.message else ""
                where = f"at {_short_path(path)}"
                found.append(
                    Finding(code, severity.name, f"{message} ({where})" if message else where)
                )
        return found

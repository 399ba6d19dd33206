"""pkilint ERRORs set aside: the one place a pkilint finding is tolerated, and why.

Each entry re-checks the flagged value against the RFC instead of dropping the code wholesale,
so what is tolerated is what pkilint's stricter-than-RFC checks (or the throwaway signature)
refuse in a private PKI, nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:"  # scheme ":"
    r"(?:[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+"  # unreserved, reserved, pct-encoded
)
_LDH_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MAX_DOMAIN_LENGTH = 253


def _is_rfc3986_absolute_uri(value: str) -> bool:
    """A URI with a scheme and a non-empty scheme-specific part in RFC 3986 characters."""
    return _URI.fullmatch(value) is not None


def _is_host_name(value: str, *, wildcard: bool) -> bool:
    """RFC 1034 3.5 / RFC 1123 2.1 LDH labels (a single label included), optionally with a
    leftmost `*` label (RFC 9525 6.3), and a last label that is not all digits (RFC 3696 2)."""
    labels = value.split(".")
    if wildcard and len(labels) > 1 and labels[0] == "*":
        labels = labels[1:]
    return (
        len(value) <= _MAX_DOMAIN_LENGTH
        and all(_LDH_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


# Whether a pkilint finding is set aside, from the flagged node's value and path and whether the
# certificate is self-signed.
Tolerance = Callable[[str, str, bool], bool]


# pkilint ERRORs that are not RFC 5280 violations for a private PKI, or that the throwaway
# signature causes. The one place where a pkilint finding is set aside; each entry re-checks the
# value against the RFC instead of dropping the code wholesale.
TOLERATED: dict[str, Tolerance] = {
    # pkilint checks URIs with the `validators` package's web-URL test, which refuses any
    # scheme but web ones (spiffe:, urn:, mailto:) and single-label hosts
    # (http://localhost:8080, http://pica:8080). RFC 5280 4.2.1.6 asks for RFC 3986 syntax with
    # a scheme and a scheme-specific part; that is re-checked here.
    "pkix.invalid_uri_syntax": lambda value, _path, _self_signed: _is_rfc3986_absolute_uri(value),
    # pkilint checks dNSNames with `validators.domain`, which wants a public-looking TLD: it
    # refuses single-label intranet names (`localhost`, `build01`) and wildcards (`*.example`).
    # RFC 5280 4.2.1.6 asks for RFC 1034 preferred name syntax (single labels included); RFC
    # 9525 allows a leftmost `*` label in a SAN (not in name constraints).
    "pkix.invalid_domain_name_syntax": lambda value, path, _self_signed: _is_host_name(
        value, wildcard="nameConstraints" not in path
    ),
    # pkilint accepts a self-issued CA certificate without AKI only when its signature verifies
    # with its own key, which the throwaway signature never does. RFC 5280 4.2.1.1 lets a
    # self-signed certificate omit the AKI; the structural rules require it everywhere else.
    "pkix.authority_key_identifier_extension_absent": lambda _value, _path, self_signed: (
        self_signed
    ),
}

"""PEM text as the API returns it: 64-column base64 between BEGIN/END lines, joined by newlines."""

from __future__ import annotations

import base64
import textwrap

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding


def der_to_pem(der: bytes, label: str = "CERTIFICATE") -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


def certificate_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(Encoding.PEM).decode("ascii")


def join_pem(*pems: str | None) -> str:
    """Concatenate PEM blocks, each ending in exactly one newline."""
    return "".join(p.strip() + "\n" for p in pems if p and p.strip())

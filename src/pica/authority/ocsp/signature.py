"""The response signature: who signs (`ResponseSigner`), the AlgorithmIdentifier it declares,
and `sign_response`, the one place a response is signed.

Both come from `pica.authority.signing`: the identifier is the one cryptography writes in
certificates, and the signature is made by the key store's `Signer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pica.authority import signing
from pica.authority.algorithms import signature_scheme
from pica.authority.model import SigningAlgorithm
from pica.authority.ports import Signer


def signature_algorithm_identifier(signing_algorithm: SigningAlgorithm) -> bytes:
    """The DER AlgorithmIdentifier a response signed with `signing_algorithm` declares."""
    return signing.signature_algorithm_identifier(signature_scheme(signing_algorithm))


def sign_response(signer: Signer, signing_algorithm: SigningAlgorithm, data: bytes) -> bytes:
    """Sign `data` the way the AWS SigningAlgorithm says (`pica.authority.signing`)."""
    return signing.sign_data(data, signer, signature_scheme(signing_algorithm))


@dataclass(frozen=True)
class ResponseSigner:
    """Who signs a CA's responses: the CA itself, or a delegated responder it certified."""

    signer: Signer
    key_sha1: bytes
    certificate_der: bytes | None = None
    not_after: datetime | None = None
    renew_at: datetime | None = None

"""The one place pica signs: certificates, CSRs, CRLs and OCSP data, through the `Signer` port.

The key store signs bytes; it never hands out a key (a PKCS#11 token cannot). cryptography's
builders, though, serialise only by signing with a key object, so each object is made in three
steps: the builder is signed with a throwaway key of the scheme (`throwaway.draft`), which gives
the to-be-signed DER with the real signatureAlgorithm in it; the signer signs those bytes; and
TBS, AlgorithmIdentifier and signature are joined into the SEQUENCE X.509 defines (RFC 5280 4.1
and 5.1, RFC 2986 4). A draft made under another scheme (the lint gate's cheap
P-256 one) has the real AlgorithmIdentifier stamped into its TBS first; a CSR draft has the real
public key put in place of the throwaway one.

The identifiers are those cryptography itself writes (read from a certificate it signed), so a
certificate made here is byte for byte what `builder.sign(ca_key)` would make, bar the
signature value. Where the key is in this process's memory anyway (the encrypted-file store's
RSA and EC keys, `Signer.key_in_memory`), a certificate is made that way: `builder.sign` with
the key itself, one signature instead of two, the rest of the key's use unchanged.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from asn1crypto import algos as asn1_algos
from asn1crypto import csr as asn1_csr
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

from pica.authority.algorithms import KeyFamily, SignatureScheme
from pica.authority.ports import Signer
from pica.authority.throwaway import draft, throwaway_key

_SchemeKey = tuple[str, str | None, bool]


def _scheme_key(scheme: SignatureScheme) -> _SchemeKey:
    hash_name = None if scheme.hash_algorithm is None else scheme.hash_algorithm.name
    return (scheme.family.value, hash_name, scheme.pss)


class _Identifiers:
    """Per scheme: the DER AlgorithmIdentifier cryptography writes, and what a certificate
    signed under it reports (`signature_algorithm_oid`, hash name), to recognise its drafts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[_SchemeKey, tuple[bytes, tuple[str, str | None]]] = {}

    def get(self, scheme: SignatureScheme) -> tuple[bytes, tuple[str, str | None]]:
        key = _scheme_key(scheme)
        found = self._known.get(key)
        if found is None:
            sample = draft(_sample_builder(scheme), scheme)
            assert isinstance(sample, x509.Certificate)
            parsed = asn1_x509.Certificate.load(sample.public_bytes(Encoding.DER))
            found = (parsed["signature_algorithm"].dump(), _declared(sample))
            with self._lock:
                self._known[key] = found
        return found


_IDENTIFIERS = _Identifiers()


def _sample_builder(scheme: SignatureScheme) -> x509.CertificateBuilder:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pica signature algorithm")])
    moment = datetime(2000, 1, 1, tzinfo=UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(throwaway_key(scheme.family).public_key())
        .serial_number(1)
        .not_valid_before(moment)
        .not_valid_after(moment)
    )


def _declared(certificate: x509.Certificate) -> tuple[str, str | None]:
    """The signature algorithm a signed certificate declares: OID and hash (PSS shares an OID)."""
    hash_algorithm = certificate.signature_hash_algorithm
    return (
        certificate.signature_algorithm_oid.dotted_string,
        None if hash_algorithm is None else hash_algorithm.name,
    )


def signature_algorithm_identifier(scheme: SignatureScheme) -> bytes:
    """The DER AlgorithmIdentifier an object signed under `scheme` declares, as cryptography
    writes it (RSA with NULL parameters, RSASSA-PSS with the hash's length as salt, ECDSA and
    ML-DSA without parameters)."""
    return _IDENTIFIERS.get(scheme)[0]


def _der_length(length: int) -> bytes:
    """A DER length octet string (X.690 8.1.3): short form below 128, else the long form."""
    if length < 0x80:
        return bytes((length,))
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


def _assemble(to_be_signed: bytes, scheme: SignatureScheme, signature: bytes) -> bytes:
    """SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature }: the outer shape Certificate,
    CertificationRequest and CertificateList share. `to_be_signed` and the identifier are
    whole DER already, so this is concatenation (asn1crypto's parse and re-encode of both cost
    ~50 µs per issuance); the signature is a BIT STRING with no unused bits."""
    bit_string = b"\x03" + _der_length(len(signature) + 1) + b"\x00" + signature
    content = to_be_signed + signature_algorithm_identifier(scheme) + bit_string
    return b"\x30" + _der_length(len(content)) + content


def _certificate_tbs(unsigned: x509.Certificate, scheme: SignatureScheme) -> bytes:
    """The draft's TBS, declaring `scheme`: restamped when the draft was made under another."""
    identifier, declared = _IDENTIFIERS.get(scheme)
    if _declared(unsigned) == declared:
        return unsigned.tbs_certificate_bytes
    tbs: Any = asn1_x509.TbsCertificate.load(unsigned.tbs_certificate_bytes)
    tbs["signature"] = asn1_algos.SignedDigestAlgorithm.load(identifier)
    restamped: bytes = tbs.dump()
    return restamped


def sign_certificate(
    unsigned: x509.CertificateBuilder | x509.Certificate, signer: Signer, scheme: SignatureScheme
) -> x509.Certificate:
    """The certificate `unsigned` describes, signed by `signer` under `scheme`.

    `unsigned` is a builder, or a draft of one (`throwaway.draft`, as the lint gate made it:
    under `scheme` or under any other scheme, whose identifier is then replaced). A builder is
    signed by cryptography with the key itself where the signer holds it in memory
    (`signs_builders`)."""
    if isinstance(unsigned, x509.CertificateBuilder):
        key = _builder_key(signer, scheme)
        if key is not None:
            return unsigned.sign(key, scheme.hash_algorithm, rsa_padding=scheme.rsa_padding())
        made = draft(unsigned, scheme)
        assert isinstance(made, x509.Certificate)
        unsigned = made
    tbs = _certificate_tbs(unsigned, scheme)
    return x509.load_der_x509_certificate(_assemble(tbs, scheme, signer.sign(tbs, scheme)))


def signs_builders(signer: Signer, scheme: SignatureScheme) -> bool:
    """Whether `sign_certificate` hands a builder to cryptography with the signer's own key:
    an RSA or EC key in memory, under a scheme of its family. Then a certificate costs one
    signature; otherwise a throwaway draft and a signature of its TBS."""
    return _builder_key(signer, scheme) is not None


def _builder_key(
    signer: Signer, scheme: SignatureScheme
) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None:
    key = signer.key_in_memory()
    if isinstance(key, rsa.RSAPrivateKey) and scheme.family is KeyFamily.RSA:
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and scheme.family is KeyFamily.ECDSA:
        return key
    return None


def sign_csr(
    builder: x509.CertificateSigningRequestBuilder,
    public_key: CertificatePublicKeyTypes,
    signer: Signer,
    scheme: SignatureScheme,
) -> x509.CertificateSigningRequest:
    """A CSR for `public_key` (the signer's), signed by `signer` under `scheme`."""
    made = draft(builder, scheme)
    assert isinstance(made, x509.CertificateSigningRequest)
    info: Any = asn1_csr.CertificationRequestInfo.load(made.tbs_certrequest_bytes)
    info["subject_pk_info"] = asn1_keys.PublicKeyInfo.load(
        public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    tbs: bytes = info.dump()
    return x509.load_der_x509_csr(_assemble(tbs, scheme, signer.sign(tbs, scheme)))


def sign_crl(
    builder: x509.CertificateRevocationListBuilder, signer: Signer, scheme: SignatureScheme
) -> x509.CertificateRevocationList:
    """The CRL `builder` describes, signed by `signer` under `scheme`."""
    made = draft(builder, scheme)
    assert isinstance(made, x509.CertificateRevocationList)
    tbs = made.tbs_certlist_bytes
    return x509.load_der_x509_crl(_assemble(tbs, scheme, signer.sign(tbs, scheme)))


def sign_data(data: bytes, signer: Signer, scheme: SignatureScheme) -> bytes:
    """A signature over DER built elsewhere (an OCSP response's ResponseData)."""
    return signer.sign(data, scheme)

"""profiles: what goes into a certificate, and the SAN DER pica writes for EdiPartyName."""

from __future__ import annotations

import hashlib

from cryptography import x509
from pyasn1.codec.der import decoder as der_decoder
from pyasn1_alt_modules import rfc5280

from pica.authority.model import EdiPartyName, GeneralName, OtherName, Subject
from pica.authority.profiles import subject_alternative_names

# Every kind of GeneralName, EdiPartyNames with and without nameAssigner, and lengths that need
# the short, one-octet and two-octet DER length forms.
MIXED = (
    GeneralName(edi_party_name=EdiPartyName("Party", "Assigner")),
    GeneralName(dns_name="a.example"),
    GeneralName(directory_name=Subject(country="US", common_name="CN")),
    GeneralName(ip_address="10.0.0.1"),
    GeneralName(edi_party_name=EdiPartyName("P" * 200)),
    GeneralName(other_name=OtherName("1.2.3.4", "v")),
    GeneralName(uniform_resource_identifier="http://x/" + "a" * 200),
    GeneralName(registered_id="1.2.3"),
    GeneralName(rfc822_name="a@b"),
)


def _der(names: tuple[GeneralName, ...]) -> bytes:
    extension = subject_alternative_names(names)
    assert isinstance(extension, x509.UnrecognizedExtension)
    return extension.value


def test_a_san_with_an_edi_party_name_is_encoded_byte_for_byte_as_before() -> None:
    der = _der(MIXED)
    assert len(der) == 516
    assert der.startswith(bytes.fromhex("30820200a515a00a0c0841737369676e6572a1070c05"))
    assert (
        hashlib.sha256(der).hexdigest()
        == "325d8e003f7c0ede147f3138eb7a2c67ed0fe4020251bf55a2f6e66b45a3f416"
    )


def test_the_edi_party_name_reads_back_as_rfc_5280_says() -> None:
    """pyasn1's RFC 5280 module reads it (cryptography refuses EDIPartyName, and asn1crypto's
    spec tags its DirectoryStrings implicitly, which a CHOICE cannot be)."""
    names, rest = der_decoder.decode(_der(MIXED[:2]), asn1Spec=rfc5280.GeneralNames())
    assert rest == b""
    assert [name.getName() for name in names] == ["ediPartyName", "dNSName"]
    edi = names[0]["ediPartyName"]
    assert str(edi["nameAssigner"].getComponent()) == "Assigner"
    assert str(edi["partyName"].getComponent()) == "Party"
    assert str(names[1]["dNSName"]) == "a.example"


def test_without_an_edi_party_name_cryptography_builds_the_san() -> None:
    extension = subject_alternative_names((GeneralName(dns_name="a.example"),))
    assert extension == x509.SubjectAlternativeName([x509.DNSName("a.example")])

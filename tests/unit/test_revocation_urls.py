"""revocation_urls: where a CA's CRLs live and what its certificates' CDP and AIA say."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509

from pica.authority.model import (
    CaConfiguration,
    CaStatus,
    CaType,
    CertificateAuthority,
    CrlConfiguration,
    CrlType,
    KeyAlgorithm,
    KeyStorageSecurityStandard,
    OcspConfiguration,
    RevocationConfiguration,
    SigningAlgorithm,
    Subject,
    UsageMode,
)
from pica.authority.revocation_urls import RevocationUrls

CA_ID = "12345678-1234-1234-1234-123456789012"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
URLS = RevocationUrls(
    object_url=lambda bucket, key: f"http://store.test/{bucket}/{key}",
    default_ocsp_url="http://pica.test/ocsp",
    partition_size=10,
)


NO_CRL = CrlConfiguration(enabled=False)
NO_OCSP = OcspConfiguration(enabled=False)


def ca(crl: CrlConfiguration = NO_CRL, ocsp: OcspConfiguration = NO_OCSP) -> CertificateAuthority:
    return CertificateAuthority(
        arn=f"arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/{CA_ID}",
        account_id="123456789012",
        type=CaType.ROOT,
        status=CaStatus.ACTIVE,
        configuration=CaConfiguration(
            KeyAlgorithm.EC_prime256v1, SigningAlgorithm.SHA256WITHECDSA, Subject(common_name="x")
        ),
        revocation_configuration=RevocationConfiguration(crl=crl, ocsp=ocsp),
        usage_mode=UsageMode.GENERAL_PURPOSE,
        key_storage_security_standard=KeyStorageSecurityStandard.FIPS_140_2_LEVEL_3_OR_HIGHER,
        created_at=NOW,
        last_state_change_at=NOW,
    )


def test_a_complete_crl_is_named_by_the_ca_id_in_its_bucket() -> None:
    authority = ca(CrlConfiguration(enabled=True, s3_bucket_name="bucket"))
    assert URLS.crl_key(authority) == f"crl/{CA_ID}.crl"
    assert URLS.crl_url(authority) == f"http://store.test/bucket/crl/{CA_ID}.crl"
    assert URLS.partitions(authority, 1000) == [None]


def test_a_custom_cname_and_path_replace_the_store_url() -> None:
    authority = ca(
        CrlConfiguration(
            enabled=True, s3_bucket_name="bucket", custom_cname="crl.test", custom_path="/a/b/"
        )
    )
    assert URLS.crl_url(authority) == f"http://crl.test/a/b/{CA_ID}.crl"


def test_partitions_are_stable_guids_one_per_block_of_certificates() -> None:
    authority = ca(
        CrlConfiguration(enabled=True, s3_bucket_name="bucket", crl_type=CrlType.PARTITIONED)
    )
    assert len(URLS.partitions(authority, 0)) == 1
    assert len(URLS.partitions(authority, 10)) == 1
    names = URLS.partitions(authority, 11)
    assert len(names) == 2 and len(set(names)) == 2
    assert names == URLS.partitions(authority, 20)  # the same names every time
    assert URLS.crl_key(authority, names[1]) == f"crl/{CA_ID}/{names[1]}.crl"


def test_certificates_name_the_crl_and_the_ocsp_responder() -> None:
    authority = ca(
        CrlConfiguration(enabled=True, s3_bucket_name="bucket"), OcspConfiguration(enabled=True)
    )
    cdp, aia = URLS.extensions(authority, None)
    assert isinstance(cdp.value, x509.CRLDistributionPoints)
    assert cdp.value[0].full_name == [
        x509.UniformResourceIdentifier(f"http://store.test/bucket/crl/{CA_ID}.crl")
    ]
    assert isinstance(aia.value, x509.AuthorityInformationAccess)
    assert aia.value[0].access_location.value == "http://pica.test/ocsp"
    custom = ca(ocsp=OcspConfiguration(enabled=True, ocsp_custom_cname="ocsp.test"))
    assert URLS.ocsp_url(custom) == "http://ocsp.test"


def test_omit_extension_and_disabled_revocation_write_nothing() -> None:
    omitted = ca(
        CrlConfiguration(
            enabled=True, s3_bucket_name="b", custom_cname="c.test", omit_extension=True
        )
    )
    assert URLS.extensions(omitted, None) == ()
    assert URLS.extensions(ca(), None) == ()

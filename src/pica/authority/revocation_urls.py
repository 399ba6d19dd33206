"""Where a CA's CRLs live and the URLs written into the certificates it issues.

Object keys follow AWS: `crl/<CA_ID>.crl` for a complete CRL, under `CustomPath` instead of
`crl` when one is set, and `<prefix>/<CA_ID>/<partition>.crl` for partitioned CRLs. The CRL
distribution point is `http://<CustomCname>/<key>` with a custom CNAME, else the URL the object
store serves the object at; the OCSP URL is `http://<OcspCustomCname>` or pica's own responder.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from pica.authority.model import CertificateAuthority, CrlType
from pica.authority.quotas import CRL_PARTITION_SIZE

_PARTITION_NAMESPACE = uuid.UUID("7d3e1c52-43a8-4f6e-9c1b-3f1f0a4f9a11")


@dataclass(frozen=True)
class RevocationUrls:
    """Deployment facts the URLs depend on, supplied by the composition root."""

    object_url: Callable[[str, str], str]
    default_ocsp_url: str
    partition_size: int = CRL_PARTITION_SIZE

    def crl_prefix(self, ca: CertificateAuthority) -> str:
        custom = ca.revocation_configuration.crl.custom_path
        return custom.strip("/") if custom and custom.strip("/") else "crl"

    def partition_name(self, ca: CertificateAuthority, index: int) -> str:
        """A stable GUID per (CA, partition number), as AWS names partitions by GUID."""
        return str(uuid.uuid5(_PARTITION_NAMESPACE, f"{ca.ca_id}/{index}"))

    def crl_key(self, ca: CertificateAuthority, partition: str | None = None) -> str:
        prefix = self.crl_prefix(ca)
        if partition is None:
            return f"{prefix}/{ca.ca_id}.crl"
        return f"{prefix}/{ca.ca_id}/{partition}.crl"

    def crl_url(self, ca: CertificateAuthority, partition: str | None = None) -> str:
        crl = ca.revocation_configuration.crl
        key = self.crl_key(ca, partition)
        if crl.custom_cname:
            return f"http://{crl.custom_cname}/{key}"
        assert crl.s3_bucket_name is not None
        return self.object_url(crl.s3_bucket_name, key)

    def ocsp_url(self, ca: CertificateAuthority) -> str:
        cname = ca.revocation_configuration.ocsp.ocsp_custom_cname
        return f"http://{cname}" if cname else self.default_ocsp_url

    def is_partitioned(self, ca: CertificateAuthority) -> bool:
        return ca.revocation_configuration.crl.crl_type is CrlType.PARTITIONED

    def partitions(self, ca: CertificateAuthority, issued_count: int) -> list[str | None]:
        """The CRLs a CA publishes after `issued_count` certificates: None for the one complete
        CRL, else one partition name per block of `partition_size` certificates."""
        if not self.is_partitioned(ca):
            return [None]
        count = max(1, -(-issued_count // self.partition_size))
        return [self.partition_name(ca, i) for i in range(count)]

    def extensions(
        self, ca: CertificateAuthority, partition: str | None
    ) -> tuple[x509.Extension[x509.ExtensionType], ...]:
        """CRL distribution point and AIA (OCSP) extensions for a certificate this CA issues."""
        extensions: list[x509.Extension[x509.ExtensionType]] = []
        crl = ca.revocation_configuration.crl
        if crl.enabled and not crl.omit_extension:
            cdp = x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(self.crl_url(ca, partition))],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            )
            extensions.append(x509.Extension(cdp.oid, False, cdp))
        if ca.revocation_configuration.ocsp.enabled:
            aia = x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(self.ocsp_url(ca)),
                    )
                ]
            )
            extensions.append(x509.Extension(aia.oid, False, aia))
        return tuple(extensions)

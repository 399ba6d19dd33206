"""Issuance in two phases (design.md, "The hot path"), on SQLite and PostgreSQL.

`CertificateService.issue` signs outside the write transaction and then stores the result in a
short one. What that must not change: one certificate per idempotency token however the requests
race, a CA changed between the phases is read again (a disabled CA issues nothing, and a CA
record read earlier and stale since decides nothing), and the CRL
partition each certificate names is the one its sequence number gives, with exactly
`partition_size` certificates per partition. The services run on a real store and key store;
only the key store is wrapped, to act at the moment issuance opens the CA key.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select

from pica.adapters.keystore.file_signer import FileSigningKeyStore
from pica.adapters.keystore.kek_file import FileKeyStore
from pica.adapters.objectstore.local_dir import LocalDirObjectStore
from pica.adapters.storage.sql_store import SqlStore
from pica.adapters.storage.tables import certificates
from pica.authority.accounts import AccountService
from pica.authority.arns import ArnFactory
from pica.authority.authorities import CertificateAuthorityService, CreateCaRequest
from pica.authority.ca_access import Caller
from pica.authority.certificates import CertificateService, IssueRequest
from pica.authority.clock import SystemClock
from pica.authority.lint.gate import LintGate
from pica.authority.model import (
    CaConfiguration,
    CaStatus,
    CaType,
    CrlConfiguration,
    CrlType,
    KeyAlgorithm,
    RevocationConfiguration,
    SealedKey,
    SigningAlgorithm,
    Subject,
    Validity,
    ValidityType,
)
from pica.authority.revocation_urls import RevocationUrls
from pica.errors import InvalidState

ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"
BUCKET = "phases-crl"


class WatchedKeyStore:
    """The file key store, calling `on_open` (once) when a sealed key is opened."""

    def __init__(self, inner: FileKeyStore) -> None:
        self._inner = inner
        self.on_open: Callable[[], None] | None = None

    def seal(self, plaintext: bytes, context: str) -> SealedKey:
        return self._inner.seal(plaintext, context)

    def open(self, sealed: SealedKey, context: str) -> bytes:
        action, self.on_open = self.on_open, None
        if action is not None:
            action()
        return self._inner.open(sealed, context)


@dataclass
class Services:
    store: SqlStore
    key_store: WatchedKeyStore
    authorities: CertificateAuthorityService
    certificates: CertificateService
    caller: Caller

    def fresh_certificates(self, partition_size: int) -> CertificateService:
        """Another process's issuance service: its own caches, the same database."""
        return _certificate_service(self.store, self.key_store, partition_size)

    def stored_certificates(self, ca_arn: str) -> int:
        query = select(func.count()).select_from(certificates)
        with self.store.reading() as connection:
            return int(connection.execute(query.where(certificates.c.ca_arn == ca_arn)).scalar())


def _urls(partition_size: int) -> RevocationUrls:
    return RevocationUrls(
        object_url=lambda bucket, key: f"http://pica.test/{bucket}/{key}",
        default_ocsp_url="http://pica.test/ocsp",
        partition_size=partition_size,
    )


def _certificate_service(
    store: SqlStore, key_store: WatchedKeyStore, partition_size: int
) -> CertificateService:
    keys = FileSigningKeyStore(key_store)
    return CertificateService(store, keys, SystemClock(), _urls(partition_size), LintGate())


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    store = SqlStore(database_url)
    store.migrate()
    FileKeyStore.create(tmp_path / "kek")
    key_store = WatchedKeyStore(FileKeyStore.load(tmp_path / "kek"))
    clock = SystemClock()
    objects = LocalDirObjectStore(tmp_path / "objects", "http://pica.test")
    authorities = CertificateAuthorityService(
        store,
        FileSigningKeyStore(key_store),
        clock,
        ArnFactory("aws", "us-east-1"),
        objects,
    )
    account = AccountService(store, key_store, clock).create_account()
    try:
        yield Services(
            store,
            key_store,
            authorities,
            _certificate_service(store, key_store, 100_000),
            Caller(account.account_id),
        )
    finally:
        store.dispose()


def _csr() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "phases.example.com")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def _request(ca_arn: str, token: str | None = None) -> IssueRequest:
    return IssueRequest(
        ca_arn=ca_arn,
        csr=_csr(),
        signing_algorithm=SigningAlgorithm.SHA256WITHECDSA,
        validity=Validity(30, ValidityType.DAYS),
        idempotency_token=token,
    )


def _active_root(services: Services, crl: CrlConfiguration | None = None) -> str:
    revocation = RevocationConfiguration() if crl is None else RevocationConfiguration(crl=crl)
    arn = services.authorities.create(
        services.caller,
        CreateCaRequest(
            type=CaType.ROOT,
            configuration=CaConfiguration(
                KeyAlgorithm.EC_prime256v1,
                SigningAlgorithm.SHA256WITHECDSA,
                Subject(common_name="phases root"),
            ),
            revocation_configuration=revocation,
        ),
    )
    csr = services.authorities.get_csr(services.caller, arn).encode()
    root = services.certificates.issue(
        services.caller,
        IssueRequest(
            ca_arn=arn,
            csr=csr,
            signing_algorithm=SigningAlgorithm.SHA256WITHECDSA,
            validity=Validity(5, ValidityType.YEARS),
            template_arn=ROOT_TEMPLATE,
        ),
    )
    pem = services.certificates.get(services.caller, arn, root).certificate.encode()
    services.authorities.import_certificate(services.caller, arn, pem, None)
    return arn


def _all_at_once(count: int, action: Callable[[int], str]) -> list[str]:
    """Run `action(i)` in `count` threads released together; their results, in order."""
    barrier = threading.Barrier(count)
    results: list[str | BaseException] = [""] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = action(index)
        except BaseException as error:  # reported on the test's thread
            results[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [str(result) for result in results]


def test_racing_requests_with_one_token_store_one_certificate(services: Services) -> None:
    ca_arn = _active_root(services)
    before = services.stored_certificates(ca_arn)
    request = _request(ca_arn, token="race-token")
    # Several services stand for several processes: none sees the others' caches or locks.
    issuers = [services.fresh_certificates(100_000) for _ in range(4)]
    arns = _all_at_once(8, lambda i: issuers[i % 4].issue(services.caller, request))
    assert len(set(arns)) == 1, arns
    assert services.stored_certificates(ca_arn) == before + 1
    # The token keeps answering with that certificate; another token gets a new one.
    assert services.certificates.issue(services.caller, request) == arns[0]
    assert services.certificates.issue(services.caller, _request(ca_arn, "other")) != arns[0]


def test_a_ca_disabled_while_issuance_signs_issues_nothing(services: Services) -> None:
    ca_arn = _active_root(services)
    before = services.stored_certificates(ca_arn)
    issuer = services.fresh_certificates(100_000)  # opens the CA key on its first issuance

    def disable() -> None:
        services.authorities.update(services.caller, ca_arn, CaStatus.DISABLED, None)

    services.key_store.on_open = disable  # after the read phase, before the signature
    with pytest.raises(InvalidState):
        issuer.issue(services.caller, _request(ca_arn))
    assert services.key_store.on_open is None, "the hook did not run"
    assert services.stored_certificates(ca_arn) == before


def test_a_ca_disabled_after_this_process_read_it_issues_nothing(services: Services) -> None:
    ca_arn = _active_root(services)
    services.certificates.issue(services.caller, _request(ca_arn))  # read while ACTIVE
    before = services.stored_certificates(ca_arn)
    services.authorities.update(services.caller, ca_arn, CaStatus.DISABLED, None)
    recent = services.store.recent_ca(ca_arn)
    assert recent is not None and recent.status is CaStatus.ACTIVE, "the test needs it stale"
    # Phase 1 decides on the ACTIVE record it read; the insert finds the CA moved on.
    with pytest.raises(InvalidState):
        services.certificates.issue(services.caller, _request(ca_arn))
    assert services.stored_certificates(ca_arn) == before


def test_a_ca_enabled_after_this_process_read_it_disabled_issues(services: Services) -> None:
    ca_arn = _active_root(services)
    services.authorities.update(services.caller, ca_arn, CaStatus.DISABLED, None)
    with pytest.raises(InvalidState):
        services.certificates.issue(services.caller, _request(ca_arn))  # read while DISABLED
    services.authorities.update(services.caller, ca_arn, CaStatus.ACTIVE, None)
    recent = services.store.recent_ca(ca_arn)
    assert recent is not None and recent.status is CaStatus.DISABLED, "the test needs it stale"
    # The refusal decided on the stale record is decided again on the committed one.
    arn = services.certificates.issue(services.caller, _request(ca_arn))
    assert services.certificates.get(services.caller, ca_arn, arn).certificate
    assert services.stored_certificates(ca_arn) == 2  # the root's own certificate, and this one


def test_the_first_certificate_asks_for_the_first_crl_when_phase_1_reads_nothing(
    services: Services,
) -> None:
    crl = CrlConfiguration(enabled=True, s3_bucket_name=BUCKET)
    ca_arn = _active_root(services, crl)
    with services.store.transaction(read_only=True) as tx:
        current = tx.get_ca(ca_arn)  # read (and so remembered) before any certificate
        assert tx.get_crl_state(ca_arn) is None
    assert services.store.recent_ca(ca_arn) == current
    services.certificates.issue(services.caller, _request(ca_arn))
    with services.store.transaction(read_only=True) as tx:
        state = tx.get_crl_state(ca_arn)
    # AWS writes a CA's first CRL once a certificate refers to it: the CRL is due.
    assert state is not None and state.dirty_since is not None


def test_every_crl_partition_holds_exactly_its_share(services: Services) -> None:
    size = 3
    crl = CrlConfiguration(enabled=True, s3_bucket_name=BUCKET, crl_type=CrlType.PARTITIONED)
    ca_arn = _active_root(services, crl)
    issuers = [services.fresh_certificates(size) for _ in range(3)]
    # Racing issuers guess their partition from the same count: the later ones must re-sign.
    arns = _all_at_once(12, lambda i: issuers[i % 3].issue(services.caller, _request(ca_arn)))
    named: Counter[str] = Counter()
    for arn in arns:
        got = services.certificates.get(services.caller, ca_arn, arn)
        certificate = x509.load_pem_x509_certificate(got.certificate.encode())
        cdp = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        (url,) = [name.value for point in cdp for name in point.full_name or ()]
        named[url] += 1
    with services.store.transaction(read_only=True) as tx:
        ca = tx.get_ca(ca_arn)
        stored = [tx.get_certificate(ca_arn, int(arn.rsplit("/", 1)[1], 16)) for arn in arns]
    assert ca is not None
    urls = _urls(size)
    expected = {urls.crl_url(ca, urls.partition_name(ca, index)): size for index in range(4)}
    assert dict(named) == expected
    # The partition column (what CRL generation reads) agrees with each certificate's CDP.
    column = Counter(urls.crl_url(ca, record.crl_partition) for record in stored if record)
    assert column == named

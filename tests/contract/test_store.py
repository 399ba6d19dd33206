"""The `Store` port's contract, run on every storage engine (SQLite file, PostgreSQL).

Whatever the engine: uniqueness is enforced by the database and surfaces as `Conflict` without
poisoning the transaction, the optimistic lock on CAs holds, times come back aware UTC, serial
numbers of any size round-trip, and a block that raises leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, create_engine
from sqlalchemy.exc import StatementError

from pica.adapters.storage.rows import ca_values
from pica.adapters.storage.sql_store import MIGRATIONS, DatabaseUnavailable, SqlStore
from pica.adapters.storage.tables import metadata
from pica.authority.model import (
    AccessDescription,
    AccessKey,
    AccessMethod,
    AccessMethodType,
    Account,
    CaConfiguration,
    CaStatus,
    CaType,
    CertificateAuthority,
    CrlConfiguration,
    CrlType,
    CsrExtensions,
    CustomAttribute,
    EdiPartyName,
    FailureReason,
    GeneralName,
    IssuedCertificate,
    KeyAlgorithm,
    KeyStorageSecurityStandard,
    KeyUsageFlags,
    OcspConfiguration,
    OtherName,
    RevocationConfiguration,
    RevocationReason,
    S3ObjectAcl,
    SealedKey,
    SigningAlgorithm,
    Subject,
    Tag,
    UsageMode,
)
from pica.errors import ConcurrentModification, Conflict
from tests.support.postgres import PostgresServer
from tests.support.write_queue import held_by_another_process

T0 = datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
SERIAL_160 = (1 << 159) | 0x0123456789ABCDEF0123  # 160-bit: the RFC 5280 maximum size
TEMPLATE = "arn:aws:acm-pca:::template/EndEntityCertificate/V1"


def ca_arn(account: str, suffix: str) -> str:
    return f"arn:aws:acm-pca:us-east-1:{account}:certificate-authority/{suffix}"


CA_ARN = ca_arn(ACCOUNT, "11111111-2222-3333-4444-555555555555")


def full_configuration() -> CaConfiguration:
    """A CaConfiguration with every member set, nested ones included."""
    name = Subject(
        country="DE",
        organization="Example",
        organizational_unit="PKI",
        distinguished_name_qualifier="dnq",
        state="Berlin",
        common_name="Example Root",
        serial_number="42",
        locality="Berlin",
        title="CA",
        surname="Doe",
        given_name="Jane",
        initials="JD",
        pseudonym="jd",
        generation_qualifier="III",
    )
    return CaConfiguration(
        key_algorithm=KeyAlgorithm.EC_secp384r1,
        signing_algorithm=SigningAlgorithm.SHA384WITHECDSA,
        subject=name,
        csr_extensions=CsrExtensions(
            key_usage=KeyUsageFlags(
                digital_signature=True,
                non_repudiation=True,
                key_encipherment=True,
                data_encipherment=True,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=True,
                decipher_only=True,
            ),
            subject_information_access=(
                AccessDescription(
                    AccessMethod(access_method_type=AccessMethodType.CA_REPOSITORY),
                    GeneralName(uniform_resource_identifier="http://example.test/ca"),
                ),
                AccessDescription(
                    AccessMethod(custom_object_identifier="1.3.6.1.5.5.7.48.13"),
                    GeneralName(other_name=OtherName("1.2.3.4", "value")),
                ),
                AccessDescription(
                    AccessMethod(access_method_type=AccessMethodType.RESOURCE_PKI_NOTIFY),
                    GeneralName(
                        directory_name=Subject(
                            common_name="dir",
                            custom_attributes=(CustomAttribute("2.5.4.3", "x"),),
                        )
                    ),
                ),
                AccessDescription(
                    AccessMethod(access_method_type=AccessMethodType.RESOURCE_PKI_MANIFEST),
                    GeneralName(edi_party_name=EdiPartyName("party", name_assigner="assigner")),
                ),
                AccessDescription(AccessMethod(), GeneralName(rfc822_name="pki@example.test")),
                AccessDescription(AccessMethod(), GeneralName(dns_name="ca.example.test")),
                AccessDescription(AccessMethod(), GeneralName(ip_address="192.0.2.1")),
                AccessDescription(AccessMethod(), GeneralName(registered_id="1.2.3")),
            ),
        ),
    )


def full_revocation() -> RevocationConfiguration:
    """A RevocationConfiguration with every CRL and OCSP member set."""
    return RevocationConfiguration(
        crl=CrlConfiguration(
            enabled=True,
            expiration_in_days=7,
            custom_cname="crl.example.test",
            s3_bucket_name="bucket",
            s3_object_acl=S3ObjectAcl.BUCKET_OWNER_FULL_CONTROL,
            omit_extension=False,
            crl_type=CrlType.PARTITIONED,
            custom_path="path/to",
        ),
        ocsp=OcspConfiguration(enabled=True, ocsp_custom_cname="ocsp.example.test"),
    )


def make_ca(arn: str = CA_ARN, account: str = ACCOUNT, **changes: object) -> CertificateAuthority:
    ca = CertificateAuthority(
        arn=arn,
        account_id=account,
        type=CaType.ROOT,
        status=CaStatus.PENDING_CERTIFICATE,
        configuration=CaConfiguration(
            key_algorithm=KeyAlgorithm.RSA_2048,
            signing_algorithm=SigningAlgorithm.SHA256WITHRSA,
            subject=Subject(common_name="Test CA"),
        ),
        revocation_configuration=RevocationConfiguration(),
        usage_mode=UsageMode.GENERAL_PURPOSE,
        key_storage_security_standard=KeyStorageSecurityStandard.FIPS_140_2_LEVEL_3_OR_HIGHER,
        created_at=T0,
        last_state_change_at=T0,
    )
    return replace(ca, **changes)  # type: ignore[arg-type]


def make_certificate(serial: int, ca: str = CA_ARN, **changes: object) -> IssuedCertificate:
    cert = IssuedCertificate(
        ca_arn=ca,
        serial=serial,
        certificate_der=b"\x30\x82" + serial.to_bytes(21, "big"),
        not_before=T0,
        not_after=T0 + timedelta(days=30),
        issued_at=T0,
        template_arn=TEMPLATE,
    )
    return replace(cert, **changes)  # type: ignore[arg-type]


def seed_ca(store: SqlStore, ca: CertificateAuthority | None = None) -> CertificateAuthority:
    ca = ca or make_ca()
    with store.transaction() as tx:
        if tx.get_account(ca.account_id) is None:
            tx.insert_account(Account(ca.account_id, T0))
        tx.insert_ca(ca)
    return ca


# --- accounts and access keys -----------------------------------------------------------------


def test_accounts_insert_get_list(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.insert_account(Account(OTHER_ACCOUNT, T0))
        tx.insert_account(Account(ACCOUNT, T0 + timedelta(seconds=1)))
    with store.transaction() as tx:
        assert tx.get_account(ACCOUNT) == Account(ACCOUNT, T0 + timedelta(seconds=1))
        assert tx.get_account("999999999999") is None
        assert [a.account_id for a in tx.list_accounts()] == [ACCOUNT, OTHER_ACCOUNT]


def test_duplicate_account_is_a_conflict(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.insert_account(Account(ACCOUNT, T0))
        with pytest.raises(Conflict):
            tx.insert_account(Account(ACCOUNT, T0))


def test_access_keys_insert_get_list_delete(store: SqlStore) -> None:
    sealed = SealedKey("kek-0123456789abcdef", b"\x00\x01sealed\xff")
    with store.transaction() as tx:
        tx.insert_account(Account(ACCOUNT, T0))
        tx.insert_account(Account(OTHER_ACCOUNT, T0))
        tx.insert_access_key(AccessKey("AKIAB", ACCOUNT, T0 + timedelta(seconds=2)), sealed)
        tx.insert_access_key(AccessKey("AKIAA", ACCOUNT, T0 + timedelta(seconds=1)), sealed)
        tx.insert_access_key(AccessKey("AKIAC", OTHER_ACCOUNT, T0), sealed)
        with pytest.raises(Conflict):
            tx.insert_access_key(AccessKey("AKIAA", OTHER_ACCOUNT, T0), sealed)

    with store.transaction() as tx:
        found = tx.get_access_key("AKIAB")
        assert found == (AccessKey("AKIAB", ACCOUNT, T0 + timedelta(seconds=2)), sealed)
        assert found[0].secret_access_key is None
        assert tx.get_access_key("AKIAZ") is None
        assert [k.access_key_id for k in tx.list_access_keys(ACCOUNT)] == ["AKIAA", "AKIAB"]
        assert [k.access_key_id for k in tx.list_access_keys()] == ["AKIAA", "AKIAB", "AKIAC"]
        assert tx.delete_access_key("AKIAA") is True
        assert tx.delete_access_key("AKIAA") is False
    with store.transaction() as tx:
        assert tx.get_access_key("AKIAA") is None
        assert [k.access_key_id for k in tx.list_access_keys(ACCOUNT)] == ["AKIAB"]


# --- certificate authorities ------------------------------------------------------------------


def test_ca_round_trips_every_field(store: SqlStore) -> None:
    ca = make_ca(
        type=CaType.SUBORDINATE,
        status=CaStatus.DELETED,
        configuration=full_configuration(),
        revocation_configuration=full_revocation(),
        usage_mode=UsageMode.SHORT_LIVED_CERTIFICATE,
        key_storage_security_standard=KeyStorageSecurityStandard.CCPC_LEVEL_1_OR_HIGHER,
        last_state_change_at=T0 + timedelta(hours=1),
        sealed_key=SealedKey("kek-0123456789abcdef", bytes(range(256))),
        csr_pem="-----BEGIN CERTIFICATE REQUEST-----\n...\n",
        certificate_pem="-----BEGIN CERTIFICATE-----\nca\n",
        certificate_chain_pem="-----BEGIN CERTIFICATE-----\nroot\n",
        serial=SERIAL_160,
        not_before=T0,
        not_after=T0 + timedelta(days=3650),
        failure_reason=FailureReason.UNSUPPORTED_ALGORITHM,
        restorable_until=T0 + timedelta(days=30),
        status_before_deletion=CaStatus.DISABLED,
        version=7,
    )
    seed_ca(store, ca)
    with store.transaction() as tx:
        assert tx.get_ca(CA_ARN) == ca
        assert tx.get_ca(CA_ARN, for_update=True) == ca
        assert tx.get_ca(ca_arn(ACCOUNT, "missing")) is None


def test_minimal_ca_round_trips(store: SqlStore) -> None:
    ca = seed_ca(store)
    with store.transaction() as tx:
        assert tx.get_ca(CA_ARN) == ca


def test_duplicate_ca_is_a_conflict_and_the_transaction_goes_on(store: SqlStore) -> None:
    seed_ca(store)
    other = make_ca(ca_arn(ACCOUNT, "other"))
    with store.transaction() as tx:
        with pytest.raises(Conflict):
            tx.insert_ca(make_ca())
        tx.insert_ca(other)
    with store.transaction() as tx:
        assert tx.get_ca(other.arn) == other


def test_update_ca_is_an_optimistic_lock(store: SqlStore) -> None:
    ca = seed_ca(store)
    with store.transaction() as tx:
        stale = tx.get_ca(CA_ARN)
    assert stale is not None

    active = replace(ca, status=CaStatus.ACTIVE, serial=SERIAL_160, version=ca.version + 1)
    with store.transaction() as tx:
        tx.update_ca(active)
    with store.transaction() as tx:
        assert tx.get_ca(CA_ARN) == active

    # A writer that read version 1 loses: its update names version 2 again.
    with store.transaction() as tx, pytest.raises(ConcurrentModification):
        tx.update_ca(replace(stale, status=CaStatus.DISABLED, version=stale.version + 1))
    with store.transaction() as tx, pytest.raises(ConcurrentModification):
        tx.update_ca(make_ca(ca_arn(ACCOUNT, "never-inserted"), version=2))
    with store.transaction() as tx:
        assert tx.get_ca(CA_ARN) == active


def test_for_update_serialises_read_modify_write(store: SqlStore) -> None:
    seed_ca(store)
    errors: list[str] = []

    def bump() -> None:
        try:
            with store.transaction() as tx:
                current = tx.get_ca(CA_ARN, for_update=True)
                assert current is not None
                time.sleep(0.01)  # widen the window a lost update would need
                tx.update_ca(replace(current, version=current.version + 1))
        except BaseException:  # reported below, on the test's thread
            errors.append(traceback.format_exc())

    workers = [threading.Thread(target=bump) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, "\n".join(errors)
    with store.transaction() as tx:
        final = tx.get_ca(CA_ARN)
    assert final is not None and final.version == 7


def test_list_cas_orders_by_arn_and_pages(store: SqlStore) -> None:
    suffixes = ["c", "a", "e", "b", "d"]
    with store.transaction() as tx:
        tx.insert_account(Account(ACCOUNT, T0))
        tx.insert_account(Account(OTHER_ACCOUNT, T0))
        for suffix in suffixes:
            tx.insert_ca(make_ca(ca_arn(ACCOUNT, suffix)))
        tx.insert_ca(make_ca(ca_arn(OTHER_ACCOUNT, "a"), OTHER_ACCOUNT))

    with store.transaction() as tx:
        assert tx.count_cas(ACCOUNT) == 5
        assert tx.count_cas(OTHER_ACCOUNT) == 1
        assert tx.count_cas("999999999999") == 0
        everything = [ca.arn for ca in tx.list_cas(ACCOUNT, limit=100)]
        assert everything == [ca_arn(ACCOUNT, s) for s in sorted(suffixes)]
        pages: list[list[str]] = []
        after: str | None = None
        while True:
            page = [ca.arn for ca in tx.list_cas(ACCOUNT, limit=2, after_arn=after)]
            if not page:
                break
            pages.append(page)
            after = page[-1]
        assert pages == [everything[0:2], everything[2:4], everything[4:5]]
        assert tx.list_cas(OTHER_ACCOUNT, limit=10) == [
            make_ca(ca_arn(OTHER_ACCOUNT, "a"), OTHER_ACCOUNT)
        ]


def test_delete_ca_removes_what_it_owns(store: SqlStore) -> None:
    keep = make_ca(ca_arn(ACCOUNT, "keep"))
    seed_ca(store)
    seed_ca(store, keep)
    with store.transaction() as tx:
        for ca in (CA_ARN, keep.arn):
            tx.insert_certificate(make_certificate(1, ca))
            tx.insert_certificate(make_certificate(2, ca))
            tx.put_tags(ca, [Tag("team", "pki"), Tag("env")])
    with store.transaction() as tx:
        tx.delete_ca(CA_ARN)
    with store.transaction() as tx:
        assert tx.get_ca(CA_ARN) is None
        assert tx.get_certificate(CA_ARN, 1) is None
        assert tx.get_certificate(CA_ARN, 2) is None
        assert tx.get_tags(CA_ARN) == []
        assert tx.get_ca(keep.arn) == keep
        assert tx.get_certificate(keep.arn, 2) == make_certificate(2, keep.arn)
        assert tx.get_tags(keep.arn) == [Tag("team", "pki"), Tag("env")]
        assert tx.count_cas(ACCOUNT) == 1
    # The slot is free again: a CA under the same ARN can be created from scratch.
    seed_ca(store)


def test_cas_due_for_purge(store: SqlStore) -> None:
    now = T0 + timedelta(days=40)
    cases = {
        "due-late": (CaStatus.DELETED, now - timedelta(days=1)),
        "due-early": (CaStatus.DELETED, now - timedelta(days=5)),
        "due-now": (CaStatus.DELETED, now),
        "not-yet": (CaStatus.DELETED, now + timedelta(microseconds=1)),
        "active": (CaStatus.ACTIVE, now - timedelta(days=9)),
        "no-window": (CaStatus.DELETED, None),
    }
    with store.transaction() as tx:
        tx.insert_account(Account(ACCOUNT, T0))
        for suffix, (status, until) in cases.items():
            tx.insert_ca(make_ca(ca_arn(ACCOUNT, suffix), status=status, restorable_until=until))
    with store.transaction() as tx:
        due = tx.list_cas_due_for_purge(now, limit=10)
        assert due == [ca_arn(ACCOUNT, s) for s in ("due-early", "due-late", "due-now")]
        assert tx.list_cas_due_for_purge(now, limit=2) == due[:2]
        assert tx.list_cas_due_for_purge(T0, limit=10) == []


# --- issued certificates ----------------------------------------------------------------------


def test_certificate_insert_get(store: SqlStore) -> None:
    seed_ca(store)
    revoked = make_certificate(
        0xBEEF,
        revoked_at=T0 + timedelta(days=1),
        revocation_reason=RevocationReason.KEY_COMPROMISE,
    )
    with store.transaction() as tx:
        tx.insert_certificate(make_certificate(0xCAFE))
        tx.insert_certificate(revoked)
    with store.transaction() as tx:
        assert tx.get_certificate(CA_ARN, 0xCAFE) == make_certificate(0xCAFE)
        assert tx.get_certificate(CA_ARN, 0xBEEF) == revoked
        assert tx.get_certificate(CA_ARN, 0xF00D) is None
        assert tx.get_certificate(ca_arn(ACCOUNT, "other"), 0xCAFE) is None


def test_serial_is_unique_per_ca_and_the_transaction_goes_on(store: SqlStore) -> None:
    seed_ca(store)
    other = seed_ca(store, make_ca(ca_arn(ACCOUNT, "other")))
    with store.transaction() as tx:
        tx.insert_certificate(make_certificate(SERIAL_160))
    with store.transaction() as tx:
        with pytest.raises(Conflict):
            tx.insert_certificate(make_certificate(SERIAL_160, template_arn="another"))
        # What the domain does on a serial collision: draw another serial and go on.
        tx.insert_certificate(make_certificate(SERIAL_160 + 1))
        # Serials are unique per CA, not globally.
        tx.insert_certificate(make_certificate(SERIAL_160, other.arn))
    with store.transaction() as tx:
        assert tx.get_certificate(CA_ARN, SERIAL_160) == make_certificate(SERIAL_160)
        assert tx.get_certificate(CA_ARN, SERIAL_160 + 1) == make_certificate(SERIAL_160 + 1)
        assert tx.get_certificate(other.arn, SERIAL_160) == make_certificate(SERIAL_160, other.arn)


def test_a_certificate_is_stored_only_while_its_ca_is_at_the_version_read(
    store: SqlStore,
) -> None:
    ca = seed_ca(store)
    with store.transaction() as tx:
        assert tx.insert_certificate(make_certificate(1), while_ca_at=ca.version)
        # The serial is taken at the right version: still a Conflict, and the transaction goes on.
        with pytest.raises(Conflict):
            tx.insert_certificate(
                make_certificate(1, template_arn="another"), while_ca_at=ca.version
            )
        assert not tx.insert_certificate(make_certificate(2), while_ca_at=ca.version + 1)
        assert not tx.insert_certificate(
            make_certificate(3, ca_arn(ACCOUNT, "never-inserted")), while_ca_at=ca.version
        )
    with store.transaction() as tx:
        tx.update_ca(replace(ca, status=CaStatus.DISABLED, version=ca.version + 1))
    with store.transaction() as tx:
        # The CA moved on: nothing stored, whether or not the serial is free.
        assert not tx.insert_certificate(make_certificate(4), while_ca_at=ca.version)
        assert not tx.insert_certificate(make_certificate(1), while_ca_at=ca.version)
        assert tx.insert_certificate(make_certificate(5), while_ca_at=ca.version + 1)
    with store.transaction(read_only=True) as tx:
        assert tx.get_certificate(CA_ARN, 1) == make_certificate(1)
        assert tx.get_certificate(CA_ARN, 5) == make_certificate(5)
        for serial in (2, 4):
            assert tx.get_certificate(CA_ARN, serial) is None


@pytest.mark.parametrize(
    "serial", [1, 0x0F, 0x00FF, (1 << 63) - 1, 1 << 64, SERIAL_160, (1 << 160) - 1]
)
def test_serials_of_every_size_round_trip(store: SqlStore, serial: int) -> None:
    seed_ca(store, make_ca(serial=serial))
    with store.transaction() as tx:
        tx.insert_certificate(make_certificate(serial))
    with store.transaction() as tx:
        found = tx.get_certificate(CA_ARN, serial)
        assert found is not None and found.serial == serial
        ca = tx.get_ca(CA_ARN)
        assert ca is not None and ca.serial == serial


# --- idempotency tokens -----------------------------------------------------------------------


def test_idempotency_token_put_get(store: SqlStore) -> None:
    with store.transaction() as tx:
        assert tx.get_idempotent_result("acct:Create", "token") is None
        tx.put_idempotent_result("acct:Create", "token", "arn:one", T0)
        tx.put_idempotent_result("acct:Other", "token", "arn:two", T0)
    with store.transaction() as tx:
        assert tx.get_idempotent_result("acct:Create", "token") == ("arn:one", T0)
        assert tx.get_idempotent_result("acct:Other", "token") == ("arn:two", T0)


def test_live_idempotency_token_is_a_conflict(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.put_idempotent_result("scope", "token", "first", T0)
    almost = T0 + timedelta(minutes=5) - timedelta(microseconds=1)
    with store.transaction() as tx:
        with pytest.raises(Conflict):
            tx.put_idempotent_result("scope", "token", "second", almost)
        tx.put_idempotent_result("scope", "other-token", "third", almost)
    with store.transaction() as tx:
        assert tx.get_idempotent_result("scope", "token") == ("first", T0)
        assert tx.get_idempotent_result("scope", "other-token") == ("third", almost)


def test_expired_idempotency_token_is_replaced(store: SqlStore) -> None:
    with store.transaction() as tx:
        tx.put_idempotent_result("scope", "token", "first", T0)
    expired = T0 + timedelta(minutes=5)  # the domain treats age >= 5 minutes as expired
    with store.transaction() as tx:
        tx.put_idempotent_result("scope", "token", "second", expired)
    with store.transaction() as tx:
        assert tx.get_idempotent_result("scope", "token") == ("second", expired)
        with pytest.raises(Conflict):
            tx.put_idempotent_result("scope", "token", "third", expired + timedelta(minutes=1))


# --- tags -------------------------------------------------------------------------------------


def test_tags_replace_and_keep_order(store: SqlStore) -> None:
    seed_ca(store)
    first = [Tag("zeta", "1"), Tag("alpha"), Tag("mid", "")]
    second = [Tag("alpha", "new"), Tag("beta", "2")]
    with store.transaction() as tx:
        assert tx.get_tags(CA_ARN) == []
        tx.put_tags(CA_ARN, first)
    with store.transaction() as tx:
        assert tx.get_tags(CA_ARN) == first
        tx.put_tags(CA_ARN, second)
    with store.transaction() as tx:
        assert tx.get_tags(CA_ARN) == second
        tx.put_tags(CA_ARN, [])
    with store.transaction() as tx:
        assert tx.get_tags(CA_ARN) == []


def test_duplicate_tag_keys_are_a_conflict_and_change_nothing(store: SqlStore) -> None:
    seed_ca(store)
    with store.transaction() as tx:
        tx.put_tags(CA_ARN, [Tag("a", "1")])
    with store.transaction() as tx:
        with pytest.raises(Conflict):
            tx.put_tags(CA_ARN, [Tag("b", "1"), Tag("b", "2")])
        assert tx.get_tags(CA_ARN) == [Tag("a", "1")]
        tx.put_tags(CA_ARN, [Tag("c", "3")])
    with store.transaction() as tx:
        assert tx.get_tags(CA_ARN) == [Tag("c", "3")]


def test_racing_tag_writers_end_in_a_winner_or_a_conflict(store: SqlStore) -> None:
    """Never an IntegrityError: SQLite queues the second writer, PostgreSQL may collide."""
    seed_ca(store)
    outcome: list[str] = []

    def second_writer() -> None:
        try:
            with store.transaction() as tx:
                tx.put_tags(CA_ARN, [Tag("a", "second")])
            outcome.append("committed")
        except Conflict:
            outcome.append("conflict")
        except BaseException:
            outcome.append(traceback.format_exc())

    with store.transaction() as first:
        first.put_tags(CA_ARN, [Tag("a", "first")])
        worker = threading.Thread(target=second_writer)
        worker.start()
        time.sleep(0.3)  # the second writer is now waiting on the first
    worker.join()
    assert outcome in (["committed"], ["conflict"]), outcome
    winner = "second" if outcome == ["committed"] else "first"
    with store.transaction() as tx:
        assert tx.get_tags(CA_ARN) == [Tag("a", winner)]


# --- transactions -----------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_a_block_that_raises_leaves_nothing(store: SqlStore) -> None:
    with pytest.raises(Boom), store.transaction() as tx:
        tx.insert_account(Account(ACCOUNT, T0))
        tx.insert_ca(make_ca())
        tx.insert_certificate(make_certificate(1))
        tx.put_tags(CA_ARN, [Tag("k", "v")])
        tx.put_idempotent_result("scope", "token", "result", T0)
        raise Boom
    with store.transaction() as tx:
        assert tx.list_accounts() == []
        assert tx.get_ca(CA_ARN) is None
        assert tx.count_cas(ACCOUNT) == 0
        assert tx.get_certificate(CA_ARN, 1) is None
        assert tx.get_idempotent_result("scope", "token") is None


def test_a_read_only_transaction_refuses_writes(store: SqlStore) -> None:
    seed_ca(store)
    with store.transaction(read_only=True) as tx:
        assert tx.get_ca(CA_ARN) is not None
        with pytest.raises(RuntimeError):
            tx.insert_account(Account(OTHER_ACCOUNT, T0))
        with pytest.raises(RuntimeError):
            tx.get_ca(CA_ARN, for_update=True)
        with pytest.raises(RuntimeError):
            tx.put_tags(CA_ARN, [])


def test_reads_without_a_snapshot_see_commits_and_leave_transactions_atomic(
    store: SqlStore,
) -> None:
    """`snapshot=False` (PostgreSQL: autocommit reads) reads what is committed, refuses writes,
    and the next write transaction on the same connection is still one atomic unit."""
    ca = seed_ca(store)
    for _ in range(3):  # the idle connection is reused: autocommit must not stick to it
        with store.transaction(read_only=True, snapshot=False) as tx:
            assert tx.get_ca(CA_ARN) == ca
            assert tx.get_certificate(CA_ARN, 1) is None
            with pytest.raises(RuntimeError):
                tx.insert_certificate(make_certificate(1))
        with pytest.raises(Conflict), store.transaction() as tx:
            tx.insert_certificate(make_certificate(2))
            tx.insert_ca(ca)  # fails: the certificate above must be rolled back with it
        with store.transaction(read_only=True, snapshot=False) as tx:
            assert tx.get_certificate(CA_ARN, 2) is None
    with pytest.raises(KeyError), store.transaction(read_only=True, snapshot=False) as tx:
        assert tx.get_ca(CA_ARN) == ca
        raise KeyError("the block fails")
    with store.transaction() as tx:
        tx.insert_certificate(make_certificate(3))
    with store.transaction(read_only=True, snapshot=False) as tx:
        assert tx.get_certificate(CA_ARN, 3) is not None


def test_a_transaction_that_starts_with_a_read_is_still_one_unit(store: SqlStore) -> None:
    """A write transaction whose first statement is a hot read (the CA version, as issuance's
    write phase starts): the writes after it still roll back with the transaction."""
    ca = seed_ca(store)
    for serial in (7, 8):  # twice: the second time on the connection the first one used
        with pytest.raises(KeyError), store.transaction() as tx:
            assert tx.get_ca(CA_ARN) == ca
            tx.insert_certificate(make_certificate(serial))
            raise KeyError("the block fails")
        with store.transaction(read_only=True) as tx:
            assert tx.get_certificate(CA_ARN, serial) is None
    with store.transaction() as tx:
        assert tx.get_ca(CA_ARN) == ca
        tx.insert_certificate(make_certificate(9))
    with store.transaction(read_only=True) as tx:
        assert tx.get_certificate(CA_ARN, 9) is not None


def test_readers_are_not_blocked_by_a_writer(store: SqlStore) -> None:
    ca = seed_ca(store)
    with store.transaction() as writer:
        writer.update_ca(replace(ca, status=CaStatus.ACTIVE, version=2))
        # On SQLite the writer holds the write lock (BEGIN IMMEDIATE); a reader still gets in
        # at once, and sees the last committed state.
        started = time.monotonic()
        with store.transaction(read_only=True) as reader:
            assert reader.get_ca(CA_ARN) == ca
        assert time.monotonic() - started < 2


# --- values -----------------------------------------------------------------------------------


@pytest.mark.sql_only("the columns normalise times to UTC; the fake keeps what it is given")
def test_times_come_back_aware_utc(store: SqlStore) -> None:
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2025, 6, 1, 14, 0, 0, 500, tzinfo=plus_two)
    seed_ca(store, make_ca(created_at=local, not_after=local, restorable_until=local))
    with store.transaction() as tx:
        tx.put_idempotent_result("scope", "token", "r", local)
        tx.insert_certificate(make_certificate(9, issued_at=local, revoked_at=local))
    with store.transaction() as tx:
        ca = tx.get_ca(CA_ARN)
        account = tx.get_account(ACCOUNT)
        cert = tx.get_certificate(CA_ARN, 9)
        token = tx.get_idempotent_result("scope", "token")
    assert ca is not None and account is not None and cert is not None and token is not None
    times = [
        ca.created_at,
        ca.last_state_change_at,
        ca.not_after,
        ca.restorable_until,
        account.created_at,
        cert.issued_at,
        cert.not_before,
        cert.revoked_at,
        token[1],
    ]
    for value in times:
        assert value is not None and value.tzinfo is UTC
    assert ca.created_at == local and ca.created_at.hour == 12


@pytest.mark.sql_only("SQLAlchemy's timezone-aware column type refuses naive times")
def test_naive_times_are_refused(store: SqlStore) -> None:
    with store.transaction() as tx, pytest.raises(StatementError, match="naive"):
        tx.insert_account(Account(ACCOUNT, datetime(2025, 1, 1)))


def test_configuration_documents_round_trip(store: SqlStore) -> None:
    ca = make_ca(configuration=full_configuration(), revocation_configuration=full_revocation())
    seed_ca(store, ca)
    with store.transaction() as tx:
        found = tx.get_ca(CA_ARN)
    assert found is not None
    assert found.configuration == full_configuration()
    assert found.revocation_configuration == full_revocation()
    sia = found.configuration.csr_extensions.subject_information_access  # type: ignore[union-attr]
    assert isinstance(sia, tuple) and isinstance(sia[2].access_location.directory_name, Subject)
    assert isinstance(found.revocation_configuration.crl.crl_type, CrlType)


# --- schema -----------------------------------------------------------------------------------


def test_migrate_twice_is_a_no_op_and_matches_the_tables(database_url: str) -> None:
    store = SqlStore(database_url)
    try:
        store.migrate()
        seed_ca(store)
        store.migrate()
        with store.engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert revision == "0011"
        assert differences == []
        with store.transaction() as tx:
            assert tx.get_ca(CA_ARN) == make_ca()
    finally:
        store.dispose()


def test_concurrent_migrations_do_not_collide(database_url: str) -> None:
    stores = [SqlStore(database_url) for _ in range(4)]
    errors: list[str] = []

    def migrate(store: SqlStore) -> None:
        try:
            store.migrate()
        except BaseException:
            errors.append(traceback.format_exc())

    try:
        workers = [threading.Thread(target=migrate, args=(s,)) for s in stores]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert not errors, "\n".join(errors)
        seed_ca(stores[0])
    finally:
        for store in stores:
            store.dispose()


def test_in_memory_and_foreign_databases_are_refused() -> None:
    for url in ("sqlite://", "sqlite:///:memory:", "mysql://localhost/pica", "not a url"):
        with pytest.raises(DatabaseUnavailable):
            SqlStore(url)


def test_schema_is_current_only_once_migrated(database_url: str) -> None:
    store = SqlStore(database_url)
    try:
        assert not store.schema_is_current()
        store.migrate()
        assert store.schema_is_current()
    finally:
        store.dispose()


def test_key_refs_in_use_name_each_sealing_key_once(store: SqlStore) -> None:
    assert store.key_refs_in_use() == frozenset()
    seed_ca(store)  # a CA without a key yet
    assert store.key_refs_in_use() == frozenset()
    for suffix, blob in (("a", b"one"), ("b", b"two")):
        sealed = SealedKey("kek-aaaaaaaaaaaaaaaa", blob)
        seed_ca(store, make_ca(ca_arn(ACCOUNT, suffix), sealed_key=sealed))
    with store.transaction() as tx:
        tx.insert_access_key(
            AccessKey("AKIAA", ACCOUNT, T0), SealedKey("kek-bbbbbbbbbbbbbbbb", b"secret")
        )
    assert store.key_refs_in_use() == {"kek-aaaaaaaaaaaaaaaa", "kek-bbbbbbbbbbbbbbbb"}


def test_a_sqlite_file_is_created_private_and_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "pica.db"
    with pytest.raises(DatabaseUnavailable) as raised:
        SqlStore(f"sqlite:///{path}", create=False)
    assert str(path) in str(raised.value)
    assert not path.exists()
    previous = os.umask(0)
    try:
        store = SqlStore(f"sqlite:///{path}")
        store.migrate()
        seed_ca(store)
        files = sorted(tmp_path.iterdir())
        # pica.db-lock: the writers' queue across processes (`WriteLock`).
        names = ["pica.db", "pica.db-lock", "pica.db-shm", "pica.db-wal"]
        assert [f.name for f in files] == names
        assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
        store.dispose()
    finally:
        os.umask(previous)


_TRY_LOCK = """
import fcntl, os, sys
descriptor = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    print("held")
else:
    print("free")
"""


def test_sqlite_writers_of_other_processes_queue_on_the_lock_file(tmp_path: Path) -> None:
    path = tmp_path / "pica.db"
    store = SqlStore(f"sqlite:///{path}")
    store.migrate()
    lock_file = str(path) + "-lock"

    def other_process_sees() -> str:
        command = [sys.executable, "-c", _TRY_LOCK, lock_file]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()

    try:
        with store.transaction() as tx:
            tx.insert_account(Account(OTHER_ACCOUNT, T0))
            assert other_process_sees() == "held"
        assert other_process_sees() == "free"
        with store.transaction(read_only=True) as tx:  # readers never queue
            assert tx.get_account(OTHER_ACCOUNT) is not None
            assert other_process_sees() == "free"
    finally:
        store.dispose()


def test_until_writable_waits_for_another_process_off_the_event_loop(tmp_path: Path) -> None:
    """What a worker serving on its event loop awaits at a write turn: it returns at once when
    no writer holds the queue, waits while another process does without blocking the loop,
    and holds nothing itself on return."""
    path = tmp_path / "pica.db"
    store = SqlStore(f"sqlite:///{path}")
    store.migrate()
    try:
        asyncio.run(asyncio.wait_for(store.until_writable(), 1))  # free: at once
        with held_by_another_process(Path(str(path) + "-lock")) as release:

            async def wait_while_ticking() -> int:
                waiting = asyncio.ensure_future(store.until_writable())
                ticks = 0
                for _ in range(30):  # the loop keeps running other work meanwhile
                    await asyncio.sleep(0.01)
                    ticks += 1
                assert not waiting.done(), "returned while another process held the queue"
                release()
                await asyncio.wait_for(waiting, 5)
                return ticks

            assert asyncio.run(wait_while_ticking()) == 30
        with store.transaction() as tx:  # nothing left held: a write goes straight in
            tx.insert_account(Account(OTHER_ACCOUNT, T0))
    finally:
        store.dispose()


def test_an_unreachable_database_is_unavailable() -> None:
    store = SqlStore("postgresql+psycopg://postgres:hunter2@127.0.0.1:1/pica")
    try:
        with pytest.raises(DatabaseUnavailable) as raised:
            store.migrate()
        assert "127.0.0.1:1/pica" in str(raised.value)
        assert "hunter2" not in str(raised.value)
    finally:
        store.dispose()


def test_a_bare_postgresql_url_uses_psycopg() -> None:
    store = SqlStore("postgresql://pica@127.0.0.1:5432/pica")
    try:
        assert store.engine.dialect.driver == "psycopg"
    finally:
        store.dispose()


# --- revocation ---------------------------------------------------------------------------------


def test_revoke_once_and_stream_revoked_entries(store: SqlStore) -> None:
    seed_ca(store)
    with store.transaction() as tx:
        for serial in (1, 2, 3, 2**150):
            tx.insert_certificate(make_certificate(serial, crl_partition="p1"))
        tx.insert_certificate(make_certificate(4, not_after=T0 + timedelta(days=1)))
    revoked_at = T0 + timedelta(hours=2)
    with store.transaction() as tx:
        assert tx.revoke_certificate(CA_ARN, 2, revoked_at, RevocationReason.KEY_COMPROMISE)
        assert tx.revoke_certificate(CA_ARN, 2**150, revoked_at, RevocationReason.UNSPECIFIED)
        assert tx.revoke_certificate(CA_ARN, 4, revoked_at, RevocationReason.SUPERSEDED)
        # A second revocation changes nothing and says so.
        assert not tx.revoke_certificate(CA_ARN, 2, T0, RevocationReason.SUPERSEDED)
        assert not tx.revoke_certificate(CA_ARN, 99, T0, RevocationReason.SUPERSEDED)
    with store.transaction(read_only=True) as tx:
        everything = sorted(tx.revoked_entries(CA_ARN, expiring_after=T0), key=lambda e: e.serial)
        still_valid = list(tx.revoked_entries(CA_ARN, expiring_after=T0 + timedelta(days=2)))
        partition = list(tx.revoked_entries(CA_ARN, expiring_after=T0, partition="p1"))
        stored = tx.get_certificate(CA_ARN, 2)
    assert [(e.serial, e.reason) for e in everything] == [
        (2, RevocationReason.KEY_COMPROMISE),
        (4, RevocationReason.SUPERSEDED),
        (2**150, RevocationReason.UNSPECIFIED),
    ]
    assert everything[0].revoked_at == revoked_at
    assert {e.serial for e in still_valid} == {2, 2**150}
    assert {e.serial for e in partition} == {2, 2**150}
    assert stored is not None and stored.revocation_reason is RevocationReason.KEY_COMPROMISE
    assert stored.crl_partition == "p1"


def test_find_cas_by_key_hash_and_by_id(store: SqlStore) -> None:
    ca = seed_ca(store, make_ca(public_key_sha1=b"\x01" * 20, public_key_sha256=b"\x02" * 32))
    with store.transaction(read_only=True) as tx:
        assert [c.arn for c in tx.find_cas_by_key_hash("sha1", b"\x01" * 20)] == [ca.arn]
        assert [c.arn for c in tx.find_cas_by_key_hash("sha256", b"\x02" * 32)] == [ca.arn]
        assert tx.find_cas_by_key_hash("sha1", b"\x03" * 20) == []
        assert tx.find_cas_by_key_hash("md5", b"\x01" * 20) == []
        found = tx.find_ca_by_id(ca.ca_id)
        assert found is not None and found.public_key_sha1 == b"\x01" * 20
        assert tx.find_ca_by_id("00000000-0000-0000-0000-000000000000") is None


@pytest.mark.parametrize(
    "pattern", ["%", "_", "%-%", "1111111_-2222-3333-4444-555555555555", "%555", "\\%"]
)
def test_find_ca_by_id_matches_the_id_exactly_never_as_a_pattern(
    store: SqlStore, pattern: str
) -> None:
    """The id comes from a CRL URL: once fed into LIKE, `%` matched every CA (a full scan)."""
    seed_ca(store)
    with store.transaction(read_only=True) as tx:
        assert tx.find_ca_by_id(pattern) is None
        assert tx.find_ca_by_id(CA_ARN.rsplit("/", 1)[1]) is not None


@pytest.mark.sql_only("the query plan of the SQL engine")
def test_find_ca_by_id_uses_an_index(store: SqlStore) -> None:
    if store.dialect != "sqlite":
        pytest.skip("the plan of a near-empty PostgreSQL table is a sequential scan anyway")
    seed_ca(store)
    with store.engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT arn FROM certificate_authorities WHERE ca_id = ?",
            ("11111111-2222-3333-4444-555555555555",),
        ).all()
    assert any("ix_certificate_authorities_ca_id" in str(row) for row in plan), plan


@pytest.mark.sql_only("the indexes of the SQL engine")
def test_only_revoked_certificates_are_in_the_revoked_index(store: SqlStore) -> None:
    """Issuing adds nothing to the index CRL generation reads (revision 0011), and the CRL
    query still uses it."""
    seed_ca(store)
    with store.transaction() as tx:
        for serial in (1, 2, 3):
            tx.insert_certificate(make_certificate(serial))
        assert tx.revoke_certificate(CA_ARN, 2, T0, RevocationReason.KEY_COMPROMISE)
    name = "ix_certificates_ca_arn_revoked_at"
    with store.engine.connect() as connection:
        if store.dialect == "sqlite":
            (definition,) = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = ?", (name,)
            ).one()
            plan = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT serial FROM certificates "
                "WHERE ca_arn = ? AND revoked_at IS NOT NULL AND not_after >= ?",
                (CA_ARN, "2000-01-01 00:00:00"),
            ).all()
            assert any(name in str(row) for row in plan), plan
        else:
            (definition,) = connection.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = %(name)s", {"name": name}
            ).one()
    assert "revoked_at IS NOT NULL" in definition, definition
    with store.transaction(read_only=True) as tx:
        revoked = list(tx.revoked_entries(CA_ARN, expiring_after=T0))
    assert [entry.serial for entry in revoked] == [2]


# --- CRL buckets --------------------------------------------------------------------------------


def test_the_first_account_to_claim_a_bucket_owns_it(store: SqlStore) -> None:
    with store.transaction() as tx:
        assert tx.get_bucket_owner("crls") is None
        assert tx.claim_bucket("crls", ACCOUNT, T0) == ACCOUNT
    with store.transaction() as tx:
        assert tx.claim_bucket("crls", OTHER_ACCOUNT, T0) == ACCOUNT
        assert tx.claim_bucket("crls", ACCOUNT, T0) == ACCOUNT
        assert tx.claim_bucket("other-crls", OTHER_ACCOUNT, T0) == OTHER_ACCOUNT
    with store.transaction(read_only=True) as tx:
        assert tx.get_bucket_owner("crls") == ACCOUNT
        assert tx.get_bucket_owner("other-crls") == OTHER_ACCOUNT
        assert tx.get_bucket_owner("CRLS") is None


def test_a_claim_rolled_back_leaves_the_bucket_free(store: SqlStore) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.claim_bucket("crls", OTHER_ACCOUNT, T0)
        raise RuntimeError("the request failed after the claim")
    with store.transaction() as tx:
        assert tx.claim_bucket("crls", ACCOUNT, T0) == ACCOUNT


def test_concurrent_claims_have_one_winner(database_url: str) -> None:
    store = SqlStore(database_url)
    store.migrate()
    winners: list[str] = []
    accounts = [f"{n:012d}" for n in range(6)]

    def claim(account: str) -> None:
        with store.transaction() as tx:
            winners.append(tx.claim_bucket("contested", account, T0))

    try:
        threads = [threading.Thread(target=claim, args=(a,)) for a in accounts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        store.dispose()
    assert len(winners) == len(accounts)
    assert len(set(winners)) == 1 and winners[0] in accounts


def test_migration_0003_gives_buckets_to_their_first_users_and_ids_to_cas(
    database_url: str,
) -> None:
    """CAs stored before 0003 get their id, and each bucket the account whose CA (oldest
    first) named it with CRLs enabled; a bucket two accounts already share goes to the first."""
    engine = create_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    shared = crl_on("shared-crls")
    old_cas = [
        make_ca(ca_arn(OTHER_ACCOUNT, "b"), OTHER_ACCOUNT, revocation_configuration=shared),
        make_ca(
            ca_arn(ACCOUNT, "a"), created_at=T0 - timedelta(days=1), revocation_configuration=shared
        ),
        make_ca(ca_arn(OTHER_ACCOUNT, "c"), OTHER_ACCOUNT, revocation_configuration=crl_on("mine")),
        make_ca(ca_arn(ACCOUNT, "d"), revocation_configuration=RevocationConfiguration()),
    ]
    with engine.begin() as connection:
        table = Table("certificate_authorities", MetaData(), autoload_with=connection)
        for ca in old_cas:
            values = ca_values(ca)
            del values["ca_id"]
            connection.execute(table.insert().values(values))
    engine.dispose()

    store = SqlStore(database_url)
    try:
        store.migrate()
        with store.transaction(read_only=True) as tx:
            assert tx.get_bucket_owner("shared-crls") == ACCOUNT
            assert tx.get_bucket_owner("mine") == OTHER_ACCOUNT
            assert tx.find_ca_by_id("c") == old_cas[2]
            assert tx.find_ca_by_id("d") == old_cas[3]
    finally:
        store.dispose()


def crl_on(bucket: str) -> RevocationConfiguration:
    return RevocationConfiguration(
        crl=CrlConfiguration(enabled=True, s3_bucket_name=bucket, expiration_in_days=7)
    )


def test_crl_state_dirty_claim_lease_and_publication(store: SqlStore) -> None:
    seed_ca(store)
    with store.transaction() as tx:
        assert tx.get_crl_state(CA_ARN) is None
        tx.mark_crl_dirty(CA_ARN, T0)
        tx.mark_crl_dirty(CA_ARN, T0 + timedelta(seconds=5))  # keeps the earlier mark
    with store.transaction(read_only=True) as tx:
        state = tx.get_crl_state(CA_ARN)
    assert state is not None and state.dirty_since == T0 and state.crl_number == 0

    now = T0 + timedelta(seconds=10)
    with store.transaction(read_only=True) as tx:
        assert tx.has_crl_work(now)
    with store.transaction() as tx:
        assert tx.claim_crl_work(now, now + timedelta(seconds=60), 10) == [CA_ARN]
        tx.start_crl_publication(CA_ARN, retry_at=now + timedelta(seconds=60))
    with store.transaction(read_only=True) as tx:
        assert not tx.has_crl_work(now)  # leased
    with store.transaction() as tx:
        # Leased by the first claimer: another node gets nothing until the lease runs out.
        assert tx.claim_crl_work(now, now + timedelta(seconds=60), 10) == []
        tx.mark_crl_dirty(CA_ARN, now)  # a revocation during publication
        tx.record_crl_publication(
            CA_ARN,
            crl_number=42,
            this_update=now,
            next_update=now + timedelta(days=7),
            next_refresh_at=now + timedelta(days=3),
        )
    with store.transaction() as tx:
        state = tx.get_crl_state(CA_ARN)
        assert state is not None and state.crl_number == 42 and state.lease_until is None
        # The revocation that arrived during publication is still pending.
        assert state.dirty_since == now
        assert tx.claim_crl_work(now, now + timedelta(seconds=60), 10) == [CA_ARN]


def test_refresh_due_is_claimed_without_a_dirty_mark(store: SqlStore) -> None:
    seed_ca(store)
    with store.transaction() as tx:
        tx.mark_crl_dirty(CA_ARN, T0)
        tx.start_crl_publication(CA_ARN, retry_at=T0)
        tx.record_crl_publication(
            CA_ARN,
            crl_number=1,
            this_update=T0,
            next_update=T0 + timedelta(days=2),
            next_refresh_at=T0 + timedelta(days=1),
        )
    with store.transaction(read_only=True) as tx:
        assert not tx.has_crl_work(T0 + timedelta(hours=1))
        assert tx.has_crl_work(T0 + timedelta(days=1, seconds=1))
    with store.transaction() as tx:
        assert tx.claim_crl_work(T0 + timedelta(hours=1), T0 + timedelta(hours=2), 10) == []
        later = T0 + timedelta(days=1, seconds=1)
        assert tx.claim_crl_work(later, later + timedelta(seconds=60), 10) == [CA_ARN]


def test_issue_sequence_counts_up_per_ca(store: SqlStore) -> None:
    seed_ca(store)
    with store.transaction() as tx:
        assert [tx.next_issue_sequence(CA_ARN) for _ in range(3)] == [0, 1, 2]
    with store.transaction() as tx:
        state = tx.get_crl_state(CA_ARN)
    assert state is not None and state.issued_count == 3


def test_reschedule_releases_the_lease_and_keeps_the_last_publication(store: SqlStore) -> None:
    seed_ca(store)
    with store.transaction() as tx:
        tx.mark_crl_dirty(CA_ARN, T0)
        assert tx.claim_crl_work(T0, T0 + timedelta(seconds=60), 10) == [CA_ARN]
        tx.start_crl_publication(CA_ARN, retry_at=T0 + timedelta(seconds=60))
        retry = T0 + timedelta(seconds=15)
        tx.reschedule_crl_publication(CA_ARN, retry)
        state = tx.get_crl_state(CA_ARN)
        assert state is not None and state.lease_until is None and state.this_update is None
        # Not due before the retry time, due after it.
        assert tx.claim_crl_work(T0 + timedelta(seconds=5), T0 + timedelta(seconds=65), 10) == []
        later = retry + timedelta(seconds=1)
        assert tx.claim_crl_work(later, later + timedelta(seconds=60), 10) == [CA_ARN]
        tx.reschedule_crl_publication(CA_ARN, None)
        far = T0 + timedelta(days=30)
        assert tx.claim_crl_work(far, far + timedelta(seconds=60), 10) == []


@pytest.mark.postgres
def test_a_lost_server_fails_one_transaction_not_one_per_idle_connection(
    postgres: tuple[PostgresServer, str],
) -> None:
    """The store keeps connections open between transactions. When the server drops them all
    (a restart, a failover), the first transaction to find out fails, and takes the other
    idle connections with it: the next one opens a fresh connection and succeeds."""
    server, name = postgres
    server.empty_database(name)
    store = SqlStore(server.url(name))
    try:
        store.migrate()
        seed_ca(store)
        # Three transactions at once leave three connections idle in the store.
        with (
            store.transaction(read_only=True) as a,
            store.transaction(read_only=True) as b,
            store.transaction(read_only=True) as c,
        ):
            assert a.get_ca(CA_ARN) and b.get_ca(CA_ARN) and c.get_ca(CA_ARN)
        with psycopg.connect(
            host=server.host, port=server.port, user=server.user, dbname="postgres", autocommit=True
        ) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        failures = 0
        for _ in range(4):
            try:
                with store.transaction(read_only=True) as tx:
                    assert tx.get_ca(CA_ARN) is not None
            except Exception:
                failures += 1
        assert failures == 1
    finally:
        store.dispose()

"""`pica backup` of a live server and `pica restore` into an empty data dir, on SQLite (under
concurrent issuance) and PostgreSQL; and what both refuse.
"""

from __future__ import annotations

import gzip
import http.client
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pica.adapters.storage.sql_store import SqlStore
from pica.authority.model import CaStatus
from pica.cli import main
from tests.support.pki import make_csr, new_root_with_revocation
from tests.support.polling import wait_until
from tests.support.postgres import PostgresServer, PostgresUnavailable, postgres_server
from tests.support.server import LiveServer, free_port


def run_pica(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PICA_"))}
    return subprocess.run(
        [sys.executable, "-m", "pica", *args], capture_output=True, text=True, timeout=300, env=env
    )


class Issuer(threading.Thread):
    """Issues certificates one after another until stopped; keeps when each was answered."""

    def __init__(self, server: LiveServer, ca: str) -> None:
        super().__init__(daemon=True)
        self._client = server.client()
        self._ca = ca
        self.stopping = threading.Event()
        self.answered: list[tuple[float, str]] = []
        self.failures: list[BaseException] = []

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                arn = self._client.issue_certificate(
                    CertificateAuthorityArn=self._ca,
                    Csr=make_csr(),
                    SigningAlgorithm="SHA256WITHECDSA",
                    Validity={"Value": 7, "Type": "DAYS"},
                )["CertificateArn"]
            except BaseException as error:  # reported by the test
                self.failures.append(error)
                return
            self.answered.append((time.monotonic(), arn))


def test_backup_under_issuance_restores_every_answered_certificate(tmp_path: Path) -> None:
    source = LiveServer(tmp_path / "source", free_port())
    source.start()
    try:
        pca = source.client()
        ca = new_root_with_revocation(
            pca, {"CrlConfiguration": {"Enabled": True, "S3BucketName": "backup-crls"}}
        )
        issuers = [Issuer(source, ca), Issuer(source, ca)]
        for issuer in issuers:
            issuer.start()
        wait_until(lambda: sum(len(i.answered) for i in issuers) >= 10, what="10 certificates")
        began = time.monotonic()
        backup = run_pica(
            "backup", "--data-dir", str(source.data_dir),
            "--output", str(tmp_path / "pica.backup"), "--include-kek", "--json",
        )  # fmt: skip
        during = sum(1 for i in issuers for at, _ in i.answered if at > began)
        ended = time.monotonic()
        # Issuance goes on after the backup (no lock was left behind).
        wait_until(
            lambda: any(at > ended for i in issuers for at, _ in i.answered),
            what="a certificate issued after the backup",
        )
        for issuer in issuers:
            issuer.stopping.set()
        for issuer in issuers:
            issuer.join(timeout=30)
    finally:
        source.stop()
    assert backup.returncode == 0, backup.stderr
    assert "HOLDS THE KEY-ENCRYPTION KEY" in backup.stderr
    assert not [f for i in issuers for f in i.failures]
    assert during > 0, "the backup did not overlap issuance"
    manifest = json.loads(backup.stdout)
    assert manifest["database"] == "sqlite" and manifest["kek_included"] is True
    assert manifest["schema_revision"] and manifest["pica_version"]
    archive = tmp_path / "pica.backup"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as members:
        assert sorted(members.getnames()) == ["kek", "manifest.json", "pica.db"]

    before = [arn for i in issuers for at, arn in i.answered if at < began]
    everything = {arn for i in issuers for _, arn in i.answered}
    target = tmp_path / "restored"
    restored = run_pica("restore", "--input", str(archive), "--data-dir", str(target))
    assert restored.returncode == 0, restored.stderr
    assert stat.S_IMODE((target / "kek").stat().st_mode) == 0o600
    assert stat.S_IMODE((target / "pica.db").stat().st_mode) == 0o600
    shutil.copy(tmp_path / "source" / "credentials", target / "credentials")  # the operator's

    again = LiveServer(target, free_port())
    again.start()
    try:
        pca = again.client()
        for arn in before:
            got = pca.get_certificate(CertificateAuthorityArn=ca, CertificateArn=arn)
            assert got["Certificate"].startswith("-----BEGIN CERTIFICATE-----")
        listed = pca.list_certificate_authorities()["CertificateAuthorities"]
        assert [c["Arn"] for c in listed] == [ca]
        # Nothing newer than the backup's own instant: what it holds was issued here.
        assert everything >= set(before)
        # Published CRLs are not in backups: the restored server publishes them again.
        crl = target / "buckets" / "backup-crls" / "crl" / f"{ca.rsplit('/', 1)[1]}.crl"
        wait_until(crl.exists, timeout=15, interval=0.1, what=f"{crl} to be published")
    finally:
        again.stop()


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`pica ARGS` run in this process: the refusals need no interpreter start each."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refused(result: tuple[int, str, str], says: str) -> None:
    code, _, err = result
    assert code == 2
    assert err.startswith("pica: ") and err.count("\n") == 1
    assert says in err, err


def test_backup_and_restore_refuse_what_they_must(
    server: LiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "no-kek.backup"
    data = str(server.data_dir)
    code, _, err = in_process(capsys, "backup", "--data-dir", data, "--output", str(archive))
    assert code == 0, err
    assert "key-encryption key is NOT in" in err
    with tarfile.open(archive) as members:
        assert "kek" not in members.getnames()

    refused(
        in_process(capsys, "backup", "--data-dir", data, "--output", str(archive)),
        "overwrites nothing",
    )
    refused(
        in_process(
            capsys, "backup", "--data-dir", str(tmp_path / "none"), "--output", str(tmp_path / "x")
        ),
        "no pica database",
    )

    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "stray").write_text("")
    refused(
        in_process(capsys, "restore", "--input", str(archive), "--data-dir", str(occupied)),
        "not empty",
    )
    assert sorted(p.name for p in occupied.iterdir()) == ["stray"]

    # A damaged file: one member changed, manifest kept.
    with tarfile.open(archive) as members:
        contents = {m.name: members.extractfile(m).read() for m in members}  # type: ignore[union-attr]
    contents["pica.db"] = contents["pica.db"][:-1] + bytes([contents["pica.db"][-1] ^ 0xFF])
    damaged = tmp_path / "damaged.backup"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as writer:
        for name, content in contents.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            writer.addfile(info, io.BytesIO(content))
    damaged.write_bytes(gzip.compress(buffer.getvalue()))
    refused(
        in_process(capsys, "restore", "--input", str(damaged), "--data-dir", str(tmp_path / "d1")),
        "does not match its checksum",
    )
    (tmp_path / "junk").write_bytes(b"not a backup")
    refused(
        in_process(
            capsys, "restore", "--input", str(tmp_path / "junk"), "--data-dir", str(tmp_path / "d2")
        ),
        "not a readable pica backup",
    )
    to_postgres = ("--database-url", "postgresql+psycopg://postgres@127.0.0.1:5432/nothing")
    refused(
        in_process(
            capsys,
            "restore",
            "--input",
            str(archive),
            "--data-dir",
            str(tmp_path / "d3"),
            *to_postgres,
        ),
        "holds a SQLite database",
    )
    assert not any((tmp_path / name).exists() for name in ("d1", "d2", "d3"))

    # Without the KEK inside, the restore says which key the data needs.
    target = tmp_path / "restored"
    code, out, err = in_process(
        capsys, "restore", "--input", str(archive), "--data-dir", str(target), "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["KekFile"] is None
    kek_ids = {line.split()[0] for line in (server.data_dir / "kek").read_text().splitlines()}
    assert report["KeyRefs"] and set(report["KeyRefs"]) <= kek_ids
    assert not (target / "kek").exists()


@pytest.fixture
def postgres() -> PostgresServer:
    try:
        return postgres_server(may_start=os.environ.get("PICA_TEST_SKIP_POSTGRES") != "1")
    except PostgresUnavailable as error:
        pytest.skip(f"PostgreSQL unavailable: {error}")


@pytest.fixture
def two_databases(postgres: PostgresServer) -> Iterator[tuple[str, str]]:
    names = [postgres.create_database(), postgres.create_database()]
    try:
        yield postgres.url(names[0]), postgres.url(names[1])
    finally:
        for name in names:
            postgres.drop_database(name)


def readiness(port: int) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("GET", "/readyz")
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_postgres_init_beside_a_node_then_backup_and_restore(
    tmp_path: Path,
    postgres: PostgresServer,
    two_databases: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = two_databases
    source = LiveServer(tmp_path / "a", free_port(), extra_args=("--database-url", first))
    source.start()
    data = ("--data-dir", str(source.data_dir), "--database-url", first)
    archive = tmp_path / "pg.backup"
    try:
        # pica init while a node serves the same PostgreSQL database: the node sees the CA.
        code, out, err = in_process(
            capsys, "init", *data, "--common-name", "PG Root",
            "--key-algorithm", "EC_prime256v1", "--json",
        )  # fmt: skip
        assert code == 0, err
        ca = json.loads(out)["CertificateAuthorityArn"]
        pca: Any = source.client()
        arn = pca.issue_certificate(
            CertificateAuthorityArn=ca,
            Csr=make_csr(),
            SigningAlgorithm="SHA256WITHECDSA",
            Validity={"Value": 7, "Type": "DAYS"},
        )["CertificateArn"]
        made = run_pica("backup", *data, "--output", str(archive), "--include-kek", "--json")
        # And when the database goes away, the node is no longer ready, and says why.
        postgres.drop_database(first.rsplit("/", 1)[1])

        def not_ready() -> tuple[int, Any] | None:
            answer = readiness(source.port)
            return answer if answer[0] == 503 else None

        status, body = wait_until(
            not_ready, timeout=20, interval=0.1, what="the node to report not ready"
        )
        assert status == 503
        assert body["reason"].startswith("database: cannot use the database postgresql")
        assert body["checks"] == {"database": "failing"}
    finally:
        source.stop()
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["database"] == "postgresql"
    with tarfile.open(archive) as members:
        assert sorted(members.getnames()) == ["kek", "manifest.json", "pica.pgdump"]

    refused(
        in_process(capsys, "restore", "--input", str(archive), "--data-dir", str(tmp_path / "s")),
        "PostgreSQL dump",
    )
    target = tmp_path / "b"
    restore = ("restore", "--input", str(archive), "--data-dir", str(target))
    code, _, err = in_process(capsys, *restore, "--database-url", second)
    assert code == 0, err
    assert (target / "kek").read_bytes() == (source.data_dir / "kek").read_bytes()
    store = SqlStore(second, create=False)
    try:
        with store.transaction(read_only=True) as tx:
            restored_ca = tx.get_ca(ca)
            assert restored_ca is not None and restored_ca.status is CaStatus.ACTIVE
            assert tx.get_certificate(ca, int(arn.rsplit("/", 1)[1], 16)) is not None
            state = tx.get_crl_state(ca)
            assert state is not None and state.dirty_since is not None  # to be republished
    finally:
        store.dispose()
    # The database now holds pica's tables: a second restore into it is refused.
    shutil.rmtree(target)
    refused(in_process(capsys, *restore, "--database-url", second), "not empty")

"""The audit trail of a live server, read with `pica audit list` and checked with `pica audit
verify`: actions and refusals are recorded with who, what, on which CA, when and the request
id; an edited record is found."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.pki import issue, new_root
from tests.support.server import LiveServer


def audit(server: LiveServer, *args: str) -> Any:
    completed = server.pica("audit", *args, "--json")
    assert completed.returncode in (0, 1), completed.stderr
    return json.loads(completed.stdout), completed.returncode


def test_actions_and_refusals_are_recorded_and_verify(server: LiveServer) -> None:
    account, key, secret = server.new_account()
    owner = server.client(key, secret)
    intruder = server.new_account_client()
    ca = new_root(owner)
    certificate, _ = issue(owner, ca)
    owner.revoke_certificate(
        CertificateAuthorityArn=ca,
        CertificateSerial=f"{certificate.serial_number:x}",
        RevocationReason="SUPERSEDED",
    )
    with pytest.raises(ClientError) as refused:
        intruder.update_certificate_authority(CertificateAuthorityArn=ca, Status="DISABLED")
    request_id = refused.value.response["ResponseMetadata"]["RequestId"]

    listed, code = audit(server, "list", "--ca", ca)
    assert code == 0
    records = listed["Records"]
    actions = [(r["Action"], r["Result"]) for r in records]
    assert actions == [
        ("CreateCertificateAuthority", "Success"),
        ("IssueCertificate", "Success"),  # the root's own certificate
        ("ImportCertificateAuthorityCertificate", "Success"),
        ("IssueCertificate", "Success"),
        ("RevokeCertificate", "Success"),
        ("UpdateCertificateAuthority", "ResourceNotFoundException"),
    ]
    assert all(r["Resource"] == ca for r in records)
    assert {r["Account"] for r in records[:5]} == {account}
    assert {r["AccessKeyId"] for r in records[:5]} == {key}
    assert records[-1]["RequestId"] == request_id
    assert records[-1]["Account"] != account
    mine, _ = audit(server, "list", "--account", account, "--action", "RevokeCertificate")
    assert [r["Resource"] for r in mine["Records"]] == [ca]

    verified, code = audit(server, "verify")
    assert code == 0 and verified["Ok"], verified
    assert verified["Unsealed"] == 0

    # An intruder with write access to the database edits a record: verify says which.
    target = records[3]["Id"]
    database = sqlite3.connect(server.data_dir / "pica.db")
    try:
        with database:
            database.execute("UPDATE audit_trail SET result = 'Denied' WHERE id = ?", (target,))
        broken, code = audit(server, "verify")
        assert code == 1 and not broken["Ok"]
        assert "edited" in broken["Problem"]
    finally:
        with database:
            database.execute("UPDATE audit_trail SET result = 'Success' WHERE id = ?", (target,))
        database.close()
    assert audit(server, "verify")[1] == 0


def test_list_filters_by_time_and_refuses_a_bad_time(server: LiveServer) -> None:
    listed, _ = audit(server, "list", "--since", "2999-01-01T00:00:00")
    assert listed["Records"] == []
    completed = server.pica("audit", "list", "--since", "yesterday")
    assert completed.returncode == 2
    assert "ISO 8601" in completed.stderr

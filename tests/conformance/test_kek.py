"""KEK rotation without downtime: `pica kek rotate | list | retire` against a live server.

A server with two worker processes keeps issuing certificates (and authenticating a second
account) while the real CLI rotates the KEK in one-secret batches; no call may fail. After the
old KEK is retired and the server restarted, every CA still signs, both access keys still
authenticate and an ACM certificate still exports.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pica.adapters.keystore.kek_edits import add_key
from pica.adapters.keystore.kek_file import read_entries
from tests.support.acm import acm_client
from tests.support.pki import issue, make_csr, new_root
from tests.support.server import LiveServer

PASSPHRASE = b"rotate me gently"


@pytest.fixture
def world(live: LiveServer) -> dict[str, Any]:
    """Two CAs, a second tenant's access key and an issued ACM certificate: one of each secret."""
    pca = live.raw_client()
    cas = [new_root(pca), new_root(pca, "RSA_2048", "SHA256WITHRSA")]
    _, key, secret = live.new_account()
    acm = acm_client(live)
    arn = acm.request_certificate(DomainName="kek.example.com", CertificateAuthorityArn=cas[0])[
        "CertificateArn"
    ]
    acm.get_waiter("certificate_validated").wait(
        CertificateArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 10}
    )
    return {"cas": cas, "tenant": (key, secret), "acm_arn": arn}


def kek(live: LiveServer, *args: str) -> Any:
    completed = live.pica("kek", *args)
    return completed


def kek_json(live: LiveServer, *args: str) -> Any:
    completed = kek(live, *args, "--json")
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def usage(live: LiveServer) -> dict[str, dict[str, int]]:
    return {row["KekId"]: row["InUse"] for row in kek_json(live, "list")["Keks"]}


def assert_one_line(completed: Any, *needles: str) -> None:
    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    for needle in needles:
        assert needle in lines[0]


def test_list_retire_refusals_and_an_interrupted_rotation_resumed(
    live: LiveServer, world: dict[str, Any]
) -> None:
    listed = kek_json(live, "list")["Keks"]
    assert len(listed) == 1 and listed[0]["Current"] is True
    assert listed[0]["CreatedAt"] is not None
    # two CAs, the bootstrap key and the tenant's, one ACM key
    assert listed[0]["InUse"] == {"ca_keys": 2, "access_keys": 2, "acm_keys": 1}
    text = kek(live, "list")
    assert text.returncode == 0 and listed[0]["KekId"] in text.stdout
    old = listed[0]["KekId"]

    # The sealing KEK and an unknown one are never retired.
    assert_one_line(kek(live, "retire", old), old, "pica kek rotate")
    assert_one_line(kek(live, "retire", "kek-0000000000000000"), "kek-0000000000000000")
    assert [e.ref for e in read_entries(live.data_dir / "kek")] == [old]

    add_key(live.data_dir / "kek")  # what a rotation killed right after its first step leaves
    assert_one_line(kek(live, "retire", old), old, "2 CA keys", "pica kek rotate")
    resumed = kek_json(live, "rotate")
    assert resumed["AddedKekId"] is None  # no third key: the unfinished re-wrap is finished
    assert resumed["Rewrapped"] == 5 and resumed["Retirable"] == [old]
    assert usage(live)[old] == {"ca_keys": 0, "access_keys": 0, "acm_keys": 0}
    assert kek(live, "retire", old).returncode == 0
    assert old not in usage(live) and len(usage(live)) == 1
    # The running server opens what was re-wrapped (and its tenant still signs in).
    issue(live.raw_client(), world["cas"][0], make_csr())
    live.raw_client(*world["tenant"]).list_certificate_authorities()


def issuing(live: LiveServer, cas: list[str], tenant: tuple[str, str]) -> Any:
    """A thread issuing from every CA, and a second tenant listing, until stopped."""
    stop = threading.Event()
    errors: list[BaseException] = []
    done = [0]

    def run() -> None:
        pca = live.raw_client()
        other = live.raw_client(*tenant)
        algorithms = ["SHA256WITHECDSA", "SHA256WITHRSA"]
        while not stop.is_set():
            try:
                for ca, algorithm in zip(cas, algorithms, strict=True):
                    issue(pca, ca, make_csr(), signing_algorithm=algorithm)
                other.list_certificate_authorities()
                done[0] += 1
            except BaseException as error:  # every failure counts
                errors.append(error)
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return stop, thread, errors, done


def test_rotation_under_load_then_retire_and_restart(
    live: LiveServer, world: dict[str, Any]
) -> None:
    (old,) = usage(live)
    stop, thread, errors, done = issuing(live, world["cas"], world["tenant"])
    try:
        time.sleep(1.0)
        rotated = kek_json(live, "rotate", "--batch", "1")
        # Secrets sealed after the rotation are sealed under the new KEK in every worker.
        pca = live.raw_client()
        late_ca = new_root(pca)
        _, late_key, late_secret = live.new_account()
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert errors == [], errors
    assert done[0] > 0
    new = rotated["AddedKekId"]
    assert new and new != old and rotated["CurrentKekId"] == new
    assert rotated["Rewrapped"] == 5 and rotated["Retirable"] == [old]
    in_use = usage(live)
    assert in_use[old] == {"ca_keys": 0, "access_keys": 0, "acm_keys": 0}
    assert in_use[new] == {"ca_keys": 3, "access_keys": 3, "acm_keys": 1}

    assert kek(live, "retire", old).returncode == 0
    assert [e.ref for e in read_entries(live.data_dir / "kek")] == [new]
    assert old not in (live.data_dir / "kek").read_text()

    live.stop()
    live.start()
    pca = live.raw_client()
    for ca, algorithm in zip(
        [*world["cas"], late_ca],
        ["SHA256WITHECDSA", "SHA256WITHRSA", "SHA256WITHECDSA"],
        strict=True,
    ):
        issue(pca, ca, make_csr(), signing_algorithm=algorithm)
    for key, secret in (world["tenant"], (late_key, late_secret)):
        live.raw_client(key, secret).list_certificate_authorities()
    exported = acm_client(live).export_certificate(
        CertificateArn=world["acm_arn"], Passphrase=PASSPHRASE
    )
    assert "ENCRYPTED PRIVATE KEY" in exported["PrivateKey"]
    with pytest.raises(ClientError):  # a wrong secret still fails: the secrets were re-wrapped
        live.raw_client(world["tenant"][0], "x" * 40).list_certificate_authorities()

"""Bad input never gets a 500: randomly mangled requests for every operation, signed and sent
to the live server. Bodies follow each operation's input shape from botocore's model, with
members swapped for junk (wrong types, nulls, huge numbers, garbage strings and blobs) at random.
A fixed seed keeps the run reproducible; a failure prints the body that caused it."""

from __future__ import annotations

import base64
import json
import random
import string
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives.serialization import Encoding

from tests.support.pki import issue, make_csr
from tests.support.server import LiveServer

REQUESTS_PER_SEED = 1000


class Mangler:
    def __init__(self, seed: int, ca: str, certificate_arn: str, blobs: list[bytes]) -> None:
        self.random = random.Random(seed)
        self.arns = [ca, certificate_arn, "arn:aws:acm-pca:::template/EndEntityCertificate/V1"]
        self.blobs = blobs

    def junk(self, depth: int = 0) -> Any:
        r = self.random
        choice = r.randint(0, 9)
        if choice == 0:
            return r.randint(-(2**70), 2**70)
        if choice == 1:
            return "".join(r.choice(string.printable) for _ in range(r.randint(0, 50)))
        if choice == 2:
            return None
        if choice == 3:
            return r.random()
        if choice == 4:
            return r.choice([True, False])
        if choice == 5 and depth < 3:
            return [self.junk(depth + 1) for _ in range(r.randint(0, 3))]
        if choice == 6 and depth < 3:
            return {r.choice(["Value", "Type", "Key", "Enabled", "X"]): self.junk(depth + 1)}
        if choice == 7:
            return r.choice(self.arns)
        return "".join(r.choice("ABCDEFabcdef0123456789=+/:") for _ in range(r.randint(0, 40)))

    def value(self, shape: Any, depth: int = 0) -> Any:
        r = self.random
        if r.random() < 0.15:
            return self.junk()
        kind = shape.type_name
        if kind == "structure":
            return {
                name: self.value(member, depth + 1)
                for name, member in shape.members.items()
                if depth < 5 and (name in shape.required_members or r.random() < 0.5)
            }
        if kind == "list":
            return [self.value(shape.member, depth + 1) for _ in range(r.randint(0, 3))]
        if kind == "string":
            if shape.enum:
                return r.choice(shape.enum)
            if "Arn" in shape.name:
                return r.choice(self.arns)
            alphabet = string.ascii_letters + string.digits + ":.-"
            return "".join(r.choice(alphabet) for _ in range(r.randint(1, 20)))
        if kind in ("integer", "long"):
            return r.choice([1, 7, 30, 100, 2**40, 491231235959, 20501231235959])
        if kind == "boolean":
            return r.choice([True, False])
        if kind == "blob":
            return base64.b64encode(r.choice(self.blobs)).decode()
        return self.junk()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_mangled_requests_never_get_a_server_error(
    server: LiveServer, pca: Any, root_ca: str, seed: int
) -> None:
    certificate, _ = issue(pca, root_ca)
    certificate_arn = f"{root_ca}/certificate/{certificate.serial_number:x}"
    mangler = Mangler(
        seed,
        root_ca,
        certificate_arn,
        [make_csr(), b"garbage", certificate.public_bytes(Encoding.PEM)],
    )
    model = boto3.session.Session().client("acm-pca", region_name="us-east-1").meta.service_model
    signer = SigV4Auth(Credentials(*server.credentials()), "acm-pca", "us-east-1")
    operations = sorted(model.operation_names)
    failures = []
    for _ in range(REQUESTS_PER_SEED):
        operation = mangler.random.choice(operations)
        body = json.dumps(mangler.value(model.operation_model(operation).input_shape)).encode()
        request = AWSRequest(
            method="POST",
            url=f"{server.endpoint}/",
            data=body,
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"ACMPrivateCA.{operation}",
            },
        )
        signer.add_auth(request)
        sent = urllib.request.Request(
            f"{server.endpoint}/", data=body, headers=dict(request.headers), method="POST"
        )
        try:
            with urllib.request.urlopen(sent, timeout=30) as response:
                status = response.status
                response.read()
        except urllib.error.HTTPError as error:
            status = error.code
            error.read()
            error.close()
        if status >= 500 and status != 501:
            failures.append(f"{operation} -> {status}: {body[:500]!r}")
    assert failures == []

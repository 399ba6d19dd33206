"""Test-side helpers for pica's ACM API (`boto3.client("acm")` on the live server)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from tests.support.server import LiveServer


def acm_client(
    server: LiveServer, access_key: str | None = None, secret_key: str | None = None
) -> Any:
    """A boto3 acm client signed with the bootstrap key (or the given one)."""
    default_key, default_secret = server.credentials()
    return boto3.session.Session().client(
        "acm",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=access_key or default_key,
        aws_secret_access_key=secret_key or default_secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


RENEWAL_ACTIONS = ["IssueCertificate", "GetCertificate", "ListPermissions"]


def grant_acm_renewal(pca: Any, ca_arn: str) -> None:
    """What the AWS console does for a new CA: let acm.amazonaws.com renew from it."""
    pca.create_permission(
        CertificateAuthorityArn=ca_arn, Principal="acm.amazonaws.com", Actions=RENEWAL_ACTIONS
    )

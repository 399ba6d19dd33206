"""`S3ObjectStore`: objects in AWS S3 or in any S3-compatible store (SeaweedFS, MinIO, Ceph, ...).

One boto3 client is built per store and shared: botocore clients are thread-safe, and building one
costs milliseconds of model loading that a CRL refresh should not pay each time. Timeouts are
short and retries few, because a CRL is republished on the next refresh anyway and a caller must
not hang on an unreachable store.

ACLs: AWS ACM PCA writes CRLs with a canned ACL (`public-read`, or `bucket-owner-full-control`
when the CA's S3ObjectAcl is BUCKET_OWNER_FULL_CONTROL). Many S3-compatible servers reject or
ignore ACL headers, and AWS buckets with Object Ownership "bucket owner enforced" (the default
since 2023) refuse every ACL except `bucket-owner-full-control`. So the ACL is sent only when
`send_acl` says so: by default for AWS itself, not for a custom endpoint. Without ACLs, public
access is the bucket policy's business.

`object_url` is the address written into certificates' CRL distribution points: for AWS the
virtual-hosted form `http://<bucket>.s3.<region>.amazonaws.com/<key>` that AWS ACM PCA uses (plain
http: a CRL is signed, and relying parties often cannot do TLS while checking revocation); for a
custom endpoint the path-style `<endpoint_url>/<bucket>/<key>`, which every S3-compatible server
answers (virtual-hosted names need wildcard DNS).

Every library error leaves as `pica.errors.RequestFailed` naming the bucket, the key, the store
and the cause; a bucket name or key that botocore refuses before sending is `InvalidArgs`. A
missing object or bucket is `None` from `get_object`. On AWS, a missing object reads as 403
AccessDenied unless the credentials may also list the bucket; that stays a `RequestFailed`, since
it cannot be told apart from a real permission problem.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import boto3
from boto3.exceptions import S3UploadFailedError
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from pica.errors import InvalidArgs, RequestFailed

# Error codes (or bare HTTP statuses, for responses without a body) that mean "no such object".
_MISSING = frozenset({"NoSuchKey", "NoSuchBucket", "NotFound", "404"})


class S3ObjectStore:
    """An `ObjectStore` over boto3; see the module docstring for ACLs, URLs and errors."""

    def __init__(
        self,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        *,
        send_acl: bool | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 15.0,
        max_attempts: int = 3,
    ) -> None:
        """`endpoint_url=None` means AWS S3 itself; `send_acl=None` means "only for AWS".

        Without `access_key_id`/`secret_access_key`, boto3's usual chain finds credentials
        (environment, shared files, instance or container role).
        """
        if (access_key_id is None) != (secret_access_key is None):
            raise ValueError("give both access_key_id and secret_access_key, or neither")
        self._endpoint_url = endpoint_url.rstrip("/") if endpoint_url is not None else None
        self._region = region
        self._send_acl = endpoint_url is None if send_acl is None else send_acl
        self._where = self._endpoint_url or f"AWS S3 in {region}"
        checksums = "when_supported" if endpoint_url is None else "when_required"
        config = Config(
            region_name=region,
            signature_version="s3v4",
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            s3={"addressing_style": "path"},
            # Newer botocore adds CRC checksums (aws-chunked bodies) that some S3-compatible
            # servers cannot parse; for them, send checksums only where the API demands one.
            request_checksum_calculation=checksums,
            response_checksum_validation=checksums,
        )
        # A private session: boto3's default session is global state and not thread-safe.
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=self._endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )

    def close(self) -> None:
        """Release the client's pooled connections."""
        self._client.close()

    def __enter__(self) -> S3ObjectStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def put_object(
        self, bucket: str, key: str, body: bytes, *, content_type: str, public_read: bool
    ) -> None:
        """One PutObject (S3 replaces objects atomically); the canned ACL only if `send_acl`."""
        arguments: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "Body": body,
            "ContentType": content_type,
        }
        if self._send_acl:
            arguments["ACL"] = "public-read" if public_read else "bucket-owner-full-control"
        try:
            self._client.put_object(**arguments)
        except (ClientError, BotoCoreError) as error:
            raise self._translate(error, "write", bucket, key) from error

    def put_object_chunks(
        self, bucket: str, key: str, chunks: Iterable[bytes], *, content_type: str
    ) -> None:
        """Spool `chunks` to a temporary file (memory stays bounded whatever the size), then
        upload it (multipart when large); a private object (bucket-owner-full-control)."""
        extra: dict[str, Any] = {"ContentType": content_type}
        if self._send_acl:
            extra["ACL"] = "bucket-owner-full-control"
        with tempfile.TemporaryFile() as spool:
            for chunk in chunks:
                spool.write(chunk)
            spool.seek(0)
            try:
                self._client.upload_fileobj(spool, bucket, key, ExtraArgs=extra)
            except (ClientError, BotoCoreError) as error:
                raise self._translate(error, "write", bucket, key) from error
            except S3UploadFailedError as error:
                raise RequestFailed(
                    f"cannot write object {key!r} in bucket {bucket!r} at {self._where}: {error}"
                ) from error

    def get_object(self, bucket: str, key: str) -> bytes | None:
        try:
            response = self._client.get_object(Bucket=bucket, Key=key)
            with contextlib.closing(response["Body"]) as stream:
                body: bytes = stream.read()
        except ClientError as error:
            if _error_code(error) in _MISSING:
                return None
            raise self._translate(error, "read", bucket, key) from error
        except BotoCoreError as error:
            raise self._translate(error, "read", bucket, key) from error
        return body

    def object_url(self, bucket: str, key: str) -> str:
        quoted_key = quote(key, safe="/")
        if self._endpoint_url is None:
            return f"http://{bucket}.s3.{self._region}.amazonaws.com/{quoted_key}"
        return f"{self._endpoint_url}/{bucket}/{quoted_key}"

    def _translate(
        self, error: ClientError | BotoCoreError, action: str, bucket: str, key: str
    ) -> InvalidArgs | RequestFailed:
        what = f"cannot {action} object {key!r} in bucket {bucket!r} at {self._where}"
        if isinstance(error, ParamValidationError):
            return InvalidArgs(f"{what}: {error}")
        if isinstance(error, ClientError):
            details = error.response.get("Error", {})
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
            code = details.get("Code", "?")
            message = details.get("Message", "")
            return RequestFailed(f"{what}: {code} (HTTP {status}) {message}".rstrip())
        return RequestFailed(f"{what}: {error}")


def _error_code(error: ClientError) -> str:
    code: str = error.response.get("Error", {}).get("Code", "")
    return code

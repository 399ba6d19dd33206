"""`LocalDirObjectStore`: objects as files under one directory, served over HTTP by pica itself.

Layout: bucket `b`, key `crl/<CA_ID>.crl` -> `<root>/b/crl/<CA_ID>.crl`. A bucket is just a folder,
created on the first write (there is nothing to provision, unlike S3).

Bucket names and keys come from CA configurations and, when pica serves these files, from request
paths, so both are checked before they touch the file system: a bucket is one path segment, a key
is a relative path of non-empty segments, and neither may hold `.`/`..` segments, backslashes or
NUL. The check is lexical, so nothing is ever written outside `root` through a name; symbolic links
that the operator places under `root` are followed on purpose (for example `root/b -> /srv/crl`).

Writes are atomic (a temporary file in the target folder, then `os.replace`), so a reader, or the
HTTP route serving the file, sees the old or the new body, never a torn one. Files are 0644 whatever
the umask: every object here is public by design. Folders pica creates are 0700 whatever the umask
(pica serves the objects itself; no other user needs to enter them); existing ones keep their mode.

`public_read` is accepted and ignored: pica serves every file under `root` to anyone, exactly like
an S3 bucket whose objects are PUBLIC_READ. The content type is not stored either; the HTTP route
derives it from the key (`.crl` -> `application/pkix-crl`). A key cannot be both an object and a
"folder" of other keys here (`crl/a` and `crl/a/b`), which S3 allows; pica's layouts never need it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from pica.errors import InvalidArgs, RequestFailed

FILE_MODE = 0o644
PRIVATE_FILE_MODE = 0o600
FOLDER_MODE = 0o700


class LocalDirObjectStore:
    """An `ObjectStore` on the local file system; see the module docstring for the layout."""

    def __init__(self, root: Path, public_base_url: str) -> None:
        self._root = root
        self._public_base_url = public_base_url.rstrip("/")

    def put_object(
        self, bucket: str, key: str, body: bytes, *, content_type: str, public_read: bool
    ) -> None:
        """Write `body` atomically; `content_type` and `public_read` are not stored (see above)."""
        path = self._path(bucket, key)
        try:
            _make_folders(path.parent)
            _write_atomically(path, body)
        except OSError as error:
            raise RequestFailed(
                f"cannot write object {key!r} in bucket {bucket!r} at {path}: {error}"
            ) from error

    def put_object_chunks(
        self, bucket: str, key: str, chunks: Iterable[bytes], *, content_type: str
    ) -> None:
        """Write a private object (an audit report: mode 0600, never served) from `chunks`,
        atomically, holding one chunk at a time."""
        path = self._path(bucket, key)
        try:
            _make_folders(path.parent)
            _write_atomically(path, chunks, mode=PRIVATE_FILE_MODE)
        except OSError as error:
            raise RequestFailed(
                f"cannot write object {key!r} in bucket {bucket!r} at {path}: {error}"
            ) from error

    def get_object(self, bucket: str, key: str) -> bytes | None:
        path = self._path(bucket, key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            # No such file, a path through a file, or a "folder" of keys: no such object.
            return None
        except OSError as error:
            raise RequestFailed(
                f"cannot read object {key!r} in bucket {bucket!r} at {path}: {error}"
            ) from error

    def object_url(self, bucket: str, key: str) -> str:
        """`<public_base_url>/<bucket>/<key>`, path-style: the route under which pica serves it."""
        _check_bucket(bucket)
        _check_key(key)
        return f"{self._public_base_url}/{quote(bucket, safe='')}/{quote(key, safe='/')}"

    def _path(self, bucket: str, key: str) -> Path:
        _check_bucket(bucket)
        _check_key(key)
        return self._root.joinpath(bucket, *key.split("/"))


def _check_bucket(bucket: str) -> None:
    if "/" in bucket:
        raise InvalidArgs(f"bucket name {bucket!r} must not contain '/'")
    _check_segment(bucket, f"bucket name {bucket!r}")


def _check_key(key: str) -> None:
    if not key:
        raise InvalidArgs("object key must not be empty")
    if key.startswith("/"):
        raise InvalidArgs(f"object key {key!r} must be a relative path (no leading '/')")
    for segment in key.split("/"):
        _check_segment(segment, f"object key {key!r}")


def _check_segment(segment: str, what: str) -> None:
    """One path component: non-empty, not `.`/`..`, no backslash (a separator elsewhere) or NUL."""
    if not segment:
        raise InvalidArgs(f"{what} must not be empty or contain empty path segments ('//')")
    if segment in (".", ".."):
        raise InvalidArgs(f"{what} must not contain '.' or '..' path segments")
    if "\\" in segment:
        raise InvalidArgs(f"{what} must not contain a backslash")
    if "\x00" in segment:
        raise InvalidArgs(f"{what} must not contain a NUL character")


def _make_folders(folder: Path) -> None:
    """`mkdir -p` with mode 0700 for each folder made, whatever the umask."""
    if folder.is_dir():
        return
    _make_folders(folder.parent)
    with contextlib.suppress(FileExistsError):  # made meanwhile by another writer
        folder.mkdir(mode=FOLDER_MODE)
        os.chmod(folder, FOLDER_MODE)


def _write_atomically(path: Path, body: bytes | Iterable[bytes], *, mode: int = FILE_MODE) -> None:
    """Temporary file beside `path` (same file system, so the rename is atomic), synced, renamed."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), mode)
            for chunk in [body] if isinstance(body, bytes) else body:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable, so a crash cannot bring the old object back."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

"""A KEK file's passphrase protection (`pica kek protect`): its keys wrapped under scrypt.

A protected KEK file holds, instead of the key lines, one envelope line and the credential keys:

    protected v1 scrypt n=131072 r=8 p=1 salt=<b64> keys=kek-<id>,kek-<id> data=<b64>
    credentials kek-<id> <base64 key> created=<time>

`data` is a 12-byte nonce followed by AES-256-GCM of the plain KEK file's text (the lines of an
unprotected file, the last one sealing) under the 32-byte scrypt derivation of the passphrase,
with the line's header (everything before ` data=`) as associated data: the key ids listed in
the clear (fingerprints, not keys, so `pica kek list` and the start-up checks work while sealed)
and the scrypt parameters cannot be changed without the envelope failing to open.

scrypt (RFC 7914) rather than Argon2id because pyca/cryptography has it on every supported
OpenSSL; n=2^17, r=8, p=1 costs 128 MiB and about half a second per derivation, paid once per
process at unseal. Each process keeps the derived key of the envelope it opened, so a rotation
that rewrites the envelope under the same salt is followed without asking for the passphrase
again; a new passphrase (new salt) needs `pica unseal` once more to be followed.

The credential keys stay in the clear on purpose: they seal only access-key secrets, which
SigV4 must read to authenticate any call, reads included, while pica is sealed
(docs/decisions.md, "Sealed mode").
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

PROTECTED = "protected"
CREDENTIALS = "credentials"
VERSION = "v1"
KDF = "scrypt"
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
NONCE_BYTES = 12
DERIVED_BYTES = 32
# A passphrase shorter than this is refused: scrypt slows guessing, it cannot make "1234" safe.
MIN_PASSPHRASE_CHARACTERS = 12


class ProtectionError(Exception):
    """An envelope line that cannot be read (the message names the file and the line)."""


class WrongPassphrase(Exception):
    """The passphrase does not open the envelope (or the envelope was altered)."""


@dataclass(frozen=True)
class Envelope:
    """The protected part of a KEK file: how its key is derived, which keys it holds, and them."""

    n: int
    r: int
    p: int
    salt: bytes
    refs: tuple[str, ...]  # the key ids inside, in file order (the last one seals)
    data: bytes  # nonce || AES-GCM(plain KEK text)

    def header(self) -> str:
        salt = base64.b64encode(self.salt).decode("ascii")
        return (
            f"{PROTECTED} {VERSION} {KDF} n={self.n} r={self.r} p={self.p} salt={salt} "
            f"keys={','.join(self.refs)}"
        )

    def line(self) -> str:
        return f"{self.header()} data={base64.b64encode(self.data).decode('ascii')}"

    def derive(self, passphrase: bytes) -> bytes:
        """The envelope key for `passphrase` (the slow step, half a second and 128 MiB)."""
        return derive(passphrase, self.salt, self.n, self.r, self.p)

    def open(self, derived: bytes) -> str:
        """The plain KEK text inside, with the derived key; WrongPassphrase if it does not open."""
        nonce, body = self.data[:NONCE_BYTES], self.data[NONCE_BYTES:]
        try:
            plain = AESGCM(derived).decrypt(nonce, body, self.header().encode("ascii"))
        except InvalidTag as error:
            raise WrongPassphrase("the passphrase does not open the KEK file") from error
        return plain.decode("ascii")


def derive(passphrase: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=DERIVED_BYTES, n=n, r=r, p=p).derive(passphrase)


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def seal_envelope(
    plain_text: str,
    refs: tuple[str, ...],
    derived: bytes,
    salt: bytes,
    *,
    n: int = SCRYPT_N,
    r: int = SCRYPT_R,
    p: int = SCRYPT_P,
) -> Envelope:
    """An envelope holding `plain_text` (whose keys are `refs`) under the derived key."""
    draft = Envelope(n, r, p, salt, refs, b"")
    nonce = secrets.token_bytes(NONCE_BYTES)
    body = AESGCM(derived).encrypt(nonce, plain_text.encode("ascii"), draft.header().encode())
    return Envelope(n, r, p, salt, refs, nonce + body)


def parse_envelope(line: str, where: str) -> Envelope:
    """The envelope on a `protected ...` line; ProtectionError says what is wrong with it."""
    parts = line.split()
    if len(parts) != 9 or parts[:3] != [PROTECTED, VERSION, KDF]:
        raise ProtectionError(
            f"{where}: expected 'protected v1 scrypt n=<n> r=<r> p=<p> salt=<b64> keys=<ids> "
            "data=<b64>'"
        )
    fields: dict[str, str] = {}
    for part, name in zip(parts[3:], ("n", "r", "p", "salt", "keys", "data"), strict=True):
        prefix = f"{name}="
        if not part.startswith(prefix):
            raise ProtectionError(f"{where}: expected {prefix}... in the protected line")
        fields[name] = part[len(prefix) :]
    try:
        n, r, p = (int(fields[name]) for name in ("n", "r", "p"))
        salt = base64.b64decode(fields["salt"], validate=True)
        data = base64.b64decode(fields["data"], validate=True)
    except (ValueError, binascii.Error) as error:
        raise ProtectionError(f"{where}: the protected line is damaged ({error})") from error
    refs = tuple(ref for ref in fields["keys"].split(",") if ref)
    if n < 2 or n & (n - 1) or r < 1 or p < 1 or not refs or len(data) <= NONCE_BYTES:
        raise ProtectionError(f"{where}: the protected line is damaged")
    return Envelope(n, r, p, salt, refs, data)


def check_passphrase(passphrase: bytes, where: str) -> None:
    """Refuse a passphrase too short to protect anything (raises ProtectionError)."""
    if len(passphrase.decode("utf-8", errors="replace")) < MIN_PASSPHRASE_CHARACTERS:
        raise ProtectionError(
            f"the passphrase in {where} is shorter than {MIN_PASSPHRASE_CHARACTERS} characters"
        )


def read_passphrase(path: Path) -> bytes:
    """The passphrase in the file at `path`, without its trailing newline.

    The file must be as private as the KEK file (no access for group or others): whoever reads
    it can open every CA key. Raises ProtectionError, one line naming the file.
    """
    data = read_private_file(path, "passphrase file", limit=4096)
    passphrase = data.removesuffix(b"\n").removesuffix(b"\r")
    if not passphrase:
        raise ProtectionError(f"the passphrase file {path} is empty")
    return passphrase


def read_private_file(path: Path, what: str, *, limit: int = -1) -> bytes:
    """The bytes of a regular file no group or other user may reach (the KEK file, a passphrase
    file); ProtectionError names `what` and the path, and says how to fix the mode.

    A symlink is fine (mounted secrets are links); the target's mode is what counts.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ProtectionError(f"cannot open the {what} {path}: {reason}") from error
    with os.fdopen(descriptor, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ProtectionError(f"the {what} {path} is not a regular file")
        if info.st_mode & 0o077:
            raise ProtectionError(
                f"the {what} {path} is readable or writable by group or others "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}"
            )
        return file.read(limit)

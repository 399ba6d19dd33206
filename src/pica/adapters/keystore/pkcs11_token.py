"""`Pkcs11SigningKeyStore`: the signing port over a PKCS#11 token (an HSM, or SoftHSM2).

CA keys are generated inside the token as token objects that are private, sensitive and never
extractable (CKA_SENSITIVE true, CKA_EXTRACTABLE false, so CKA_ALWAYS_SENSITIVE and
CKA_NEVER_EXTRACTABLE hold), with CKA_ID the CA's UUID and CKA_LABEL its ARN. The CA row keeps
only `pkcs11:<token label>` and the CKA_ID as its key reference: no private-key bytes ever reach
pica's memory, database or data dir. Signatures are made in the token (CKM_SHA*_RSA_PKCS,
CKM_SHA*_RSA_PKCS_PSS, CKM_ECDSA over a digest made here); a key algorithm or mechanism the
token lacks is refused with InvalidArgs, never put anywhere else.

Sessions: each process opens its own (the library is opened by the process that uses it, and
again after a fork), logs in once on the first session, which stays open until `close` (the
login is the application's, and closing the session that logged in logs every session out),
and keeps a small pool of sessions, each used by one thread at a time. SoftHSM2 is not safe
under concurrent operations on one token, so its operations are serialized per token.

CA keys sealed under the KEK before the switch to a token keep working: their references name a
KEK, and the encrypted-file store given as `fallback` opens them. Delegated OCSP responder keys
(`ephemeral`) live in process memory only, as they do with the file store.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key
from pkcs11 import MGF, Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

from pica.adapters.keystore import TOKEN_KEY_REF_PREFIX, is_token_ref
from pica.adapters.keystore.file_signer import FileSigningKeyStore, SoftwareSigner
from pica.authority.algorithms import KeyFamily, SignatureScheme
from pica.authority.model import KeyAlgorithm, KeyReference, SealedKey
from pica.authority.ports import GeneratedKey
from pica.errors import InvalidArgs

SESSIONS_PER_PROCESS = 4

_RSA_BITS = {KeyAlgorithm.RSA_2048: 2048, KeyAlgorithm.RSA_3072: 3072, KeyAlgorithm.RSA_4096: 4096}
_EC_CURVES = {
    KeyAlgorithm.EC_prime256v1: "secp256r1",
    KeyAlgorithm.EC_secp384r1: "secp384r1",
    KeyAlgorithm.EC_secp521r1: "secp521r1",
}
_RSA_PKCS = {
    "sha256": Mechanism.SHA256_RSA_PKCS,
    "sha384": Mechanism.SHA384_RSA_PKCS,
    "sha512": Mechanism.SHA512_RSA_PKCS,
}
_RSA_PSS = {
    "sha256": (Mechanism.SHA256_RSA_PKCS_PSS, Mechanism.SHA256, MGF.SHA256),
    "sha384": (Mechanism.SHA384_RSA_PKCS_PSS, Mechanism.SHA384, MGF.SHA384),
    "sha512": (Mechanism.SHA512_RSA_PKCS_PSS, Mechanism.SHA512, MGF.SHA512),
}
# Private key attributes: the key can sign and do nothing else, and never leaves the token.
_PRIVATE_TEMPLATE: dict[Attribute, Any] = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.DECRYPT: False,
    Attribute.UNWRAP: False,
    Attribute.DERIVE: False,
}
_PUBLIC_TEMPLATE: dict[Attribute, Any] = {
    Attribute.TOKEN: True,
    Attribute.VERIFY: True,
    Attribute.ENCRYPT: False,
    Attribute.WRAP: False,
}


class TokenUnavailable(Exception):
    """The configured token cannot be used (module, token, PIN); the message is one line."""


class TokenError(Exception):
    """An operation in the token failed (a missing key object, a token fault): a server fault."""


@dataclass(frozen=True)
class TokenConfig:
    module: Path
    token_label: str
    pin: str


def key_id_for(owner: str) -> bytes:
    """CKA_ID of a CA's key: the 16 bytes of the CA's UUID (the ARN's last part), else a digest."""
    try:
        return uuid.UUID(owner.rsplit("/", 1)[-1]).bytes
    except ValueError:
        return hashlib.sha256(owner.encode("utf-8")).digest()[:16]


class _Token:
    """One token as this process uses it: the library, the logged-in session pool, the lock."""

    def __init__(self, config: TokenConfig) -> None:
        self.config = config
        self._pid = -1
        self._lock = threading.Lock()
        self._serialize = threading.Lock()
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._opened = 0
        self._sessions: list[Any] = []
        # Private key objects found, by (session, CKA_ID): one C_FindObjects per key and session.
        self._found: dict[tuple[int, bytes], Any] = {}
        self.mechanisms: frozenset[Mechanism] = frozenset()
        self.serialized = True
        self._open()

    def _open(self) -> None:
        config = self.config
        try:
            library = pkcs11.lib(str(config.module))
            if self._pid != -1:
                library.reinitialize()  # a forked child: PKCS#11 wants its own C_Initialize
            token = library.get_token(token_label=config.token_label)
        except pkcs11.NoSuchToken as error:
            raise TokenUnavailable(
                f"no PKCS#11 token labelled {config.token_label!r} in {config.module} "
                "(pkcs11_token_label, PICA_PKCS11_TOKEN_LABEL)"
            ) from error
        except pkcs11.PKCS11Error as error:
            raise TokenUnavailable(
                f"cannot load the PKCS#11 module {config.module} (pkcs11_module, "
                f"PICA_PKCS11_MODULE): {_one_line(error)}"
            ) from error
        try:
            first = token.open(user_pin=config.pin, rw=True)
        except pkcs11.UserAlreadyLoggedIn:
            # Another store of this process logged in (the login is the application's).
            first = token.open(rw=True)
        except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange) as error:
            raise TokenUnavailable(
                f"the PIN of the PKCS#11 token {config.token_label!r} is wrong "
                "(pkcs11_pin or pkcs11_pin_file, PICA_PKCS11_PIN)"
            ) from error
        except pkcs11.PinLocked as error:
            raise TokenUnavailable(
                f"the user PIN of the PKCS#11 token {config.token_label!r} is locked"
            ) from error
        except pkcs11.PKCS11Error as error:
            raise TokenUnavailable(
                f"cannot log in to the PKCS#11 token {config.token_label!r}: {_one_line(error)}"
            ) from error
        self._token = token
        self._pid = os.getpid()
        self._idle = queue.LifoQueue()
        self._idle.put(first)
        self._sessions = [first]  # the first stays open: it holds the login
        self._found = {}
        self._opened = 1
        self.mechanisms = frozenset(token.slot.get_mechanisms())
        # SoftHSM2 is not safe under concurrent operations on one token.
        self.serialized = "softhsm" in library.manufacturer_id.lower()

    @contextlib.contextmanager
    def session(self) -> Iterator[Any]:
        """A logged-in session for this thread alone, back in the pool afterwards."""
        if os.getpid() != self._pid:
            with self._lock:
                if os.getpid() != self._pid:
                    self._open()
        try:
            session = self._idle.get_nowait()
        except queue.Empty:
            session = None
            with self._lock:
                if self._opened < SESSIONS_PER_PROCESS:
                    session = self._token.open(rw=True)
                    self._sessions.append(session)
                    self._opened += 1
            if session is None:
                session = self._idle.get()
        try:
            if self.serialized:
                with self._serialize:
                    yield session
            else:
                yield session
        finally:
            self._idle.put(session)

    def close(self) -> None:
        if os.getpid() != self._pid:
            return  # the parent's sessions are not this process's to close
        with self._lock:
            for session in reversed(self._sessions):
                with contextlib.suppress(pkcs11.PKCS11Error):
                    session.close()
            self._sessions = []
            self._found = {}
            self._idle = queue.LifoQueue()
            self._opened = 0
            self._pid = -1

    def private_key(self, session: Any, key_id: bytes) -> Any:
        """The private key object with `key_id`, as `session` (held by this thread) sees it."""
        slot = (id(session), key_id)
        key = self._found.get(slot)
        if key is None:
            try:
                key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=key_id)
            except pkcs11.NoSuchKey as error:
                raise TokenError(
                    f"no private key with CKA_ID {key_id.hex()} in the token"
                ) from error
            self._found[slot] = key
        return key

    def forget(self, key_id: bytes) -> None:
        """A destroyed key: no session may use the object it found."""
        for slot in [slot for slot in list(self._found) if slot[1] == key_id]:
            self._found.pop(slot, None)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


class TokenSigner:
    """A `Signer` whose key is a private key object in the token, found by its CKA_ID."""

    __slots__ = ("_key_id", "_token")

    def __init__(self, token: _Token, key_id: bytes) -> None:
        self._token = token
        self._key_id = key_id

    def sign(self, data: bytes, scheme: SignatureScheme) -> bytes:
        mechanism, parameter, digest = _mechanism(scheme, self._token)
        message = data if digest is None else hashlib.new(digest, data).digest()
        with self._token.session() as session:
            key = self._token.private_key(session, self._key_id)
            try:
                signature: bytes = key.sign(message, mechanism=mechanism, mechanism_param=parameter)
            except pkcs11.PKCS11Error as error:
                raise TokenError(f"the token failed to sign: {_one_line(error)}") from error
        if scheme.family is KeyFamily.ECDSA:
            # PKCS#11 gives r || s; X.509 carries the DER ECDSA-Sig-Value.
            half = len(signature) // 2
            r, s = int.from_bytes(signature[:half]), int.from_bytes(signature[half:])
            return encode_dss_signature(r, s)
        return signature

    def key_in_memory(self) -> None:
        return None  # the key never leaves the token


def _mechanism(scheme: SignatureScheme, token: _Token) -> tuple[Mechanism, Any, str | None]:
    """The mechanism (and parameter) that signs under `scheme`, and the digest made here."""
    hash_name = None if scheme.hash_algorithm is None else scheme.hash_algorithm.name
    found: tuple[Mechanism, Any, str | None] | None = None
    if scheme.family is KeyFamily.RSA and hash_name is not None and scheme.pss:
        mechanism, hash_mechanism, mgf = _RSA_PSS[hash_name]
        assert scheme.hash_algorithm is not None
        found = (mechanism, (hash_mechanism, mgf, scheme.hash_algorithm.digest_size), None)
    elif scheme.family is KeyFamily.RSA and hash_name is not None:
        found = (_RSA_PKCS[hash_name], None, None)
    elif scheme.family is KeyFamily.ECDSA and hash_name is not None:
        found = (Mechanism.ECDSA, None, hash_name)
    if found is None or found[0] not in token.mechanisms:
        raise InvalidArgs(
            f"The PKCS#11 token {token.config.token_label!r} that holds this pica's CA keys "
            f"cannot sign with {scheme.family.value}"
            + (f" and {hash_name.upper()}" if hash_name else "")
            + (" (PSS)" if scheme.pss else "")
            + "."
        )
    return found


class Pkcs11SigningKeyStore:
    """The `SigningKeyStore` port over one PKCS#11 token (and the file store for older keys)."""

    def __init__(self, config: TokenConfig, fallback: FileSigningKeyStore) -> None:
        self._token = _Token(config)
        self._fallback = fallback
        self._key_ref = TOKEN_KEY_REF_PREFIX + config.token_label

    @property
    def key_ref(self) -> str:
        """What CA rows whose key is in this token keep as `key_ref`."""
        return self._key_ref

    def supported(self) -> tuple[KeyAlgorithm, ...]:
        mechanisms = self._token.mechanisms
        held: list[KeyAlgorithm] = []
        if Mechanism.RSA_PKCS_KEY_PAIR_GEN in mechanisms:
            held.extend(_RSA_BITS)
        if Mechanism.EC_KEY_PAIR_GEN in mechanisms and Mechanism.ECDSA in mechanisms:
            held.extend(_EC_CURVES)
        return tuple(held)

    def generate(self, key_algorithm: KeyAlgorithm, owner: str) -> GeneratedKey:
        if key_algorithm not in self.supported():
            raise InvalidArgs(
                f"The key algorithm {key_algorithm} cannot be held in the PKCS#11 token "
                f"{self._token.config.token_label!r} that keeps this pica's CA keys; it holds "
                + ", ".join(str(a) for a in self.supported())
                + "."
            )
        key_id = key_id_for(owner)
        with self._token.session() as session:
            for stale in session.get_objects({Attribute.ID: key_id}):
                stale.destroy()  # a key left by a creation that failed before its row was stored
            self._token.forget(key_id)
            try:
                public = _generate(session, key_algorithm, key_id, owner)
            except pkcs11.PKCS11Error as error:
                raise TokenError(
                    f"the token failed to generate a key: {_one_line(error)}"
                ) from error
        reference = KeyReference(owner, SealedKey(self._key_ref, key_id))
        return GeneratedKey(public, reference)

    def signer(self, reference: KeyReference) -> TokenSigner | SoftwareSigner:
        handle = reference.handle
        if not is_token_ref(handle.key_ref):
            return self._fallback.signer(reference)
        if handle.key_ref != self._key_ref:
            raise TokenError(
                f"the key of {reference.owner} is in the PKCS#11 token "
                f"{handle.key_ref[len(TOKEN_KEY_REF_PREFIX) :]!r}, not in {self._key_ref!r}"
            )
        return TokenSigner(self._token, handle.ciphertext)

    def ephemeral(
        self, key_algorithm: KeyAlgorithm
    ) -> tuple[CertificatePublicKeyTypes, SoftwareSigner]:
        return self._fallback.ephemeral(key_algorithm)

    def discard(self, reference: KeyReference) -> None:
        handle = reference.handle
        if handle.key_ref != self._key_ref:
            self._fallback.discard(reference)
            return
        with self._token.session() as session:
            for found in session.get_objects({Attribute.ID: handle.ciphertext}):
                found.destroy()
        self._token.forget(handle.ciphertext)

    def probe(self) -> None:
        """`/readyz`: a logged-in session answers (16 random bytes from the token)."""
        try:
            with self._token.session() as session:
                session.generate_random(128)
        except pkcs11.PKCS11Error as error:
            raise TokenError(f"the PKCS#11 token does not answer: {_one_line(error)}") from error

    def close(self) -> None:
        self._token.close()


def _generate(
    session: Any, key_algorithm: KeyAlgorithm, key_id: bytes, owner: str
) -> CertificatePublicKeyTypes:
    options: dict[str, Any] = {
        "id": key_id,
        "label": owner,
        "store": True,
        "public_template": dict(_PUBLIC_TEMPLATE),
        "private_template": dict(_PRIVATE_TEMPLATE),
    }
    if key_algorithm in _RSA_BITS:
        public, _ = session.generate_keypair(KeyType.RSA, _RSA_BITS[key_algorithm], **options)
        numbers = rsa.RSAPublicNumbers(
            int.from_bytes(public[Attribute.PUBLIC_EXPONENT]),
            int.from_bytes(public[Attribute.MODULUS]),
        )
        return numbers.public_key()
    parameters = session.create_domain_parameters(
        KeyType.EC,
        {Attribute.EC_PARAMS: encode_named_curve_parameters(_EC_CURVES[key_algorithm])},
        local=True,
    )
    public, _ = parameters.generate_keypair(**options)
    return load_der_public_key(encode_ec_public_key(public))  # type: ignore[return-value]

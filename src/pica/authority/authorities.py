"""CA lifecycle: create, describe, list, update, delete, restore, CSR, CA certificate import, tags.

Each public method is one API operation and runs in one store transaction (one commit). Key
generation, the slow part of creating a CA, happens before the transaction opens so no database
lock is held while it runs.

Past ~400 lines because it holds every CA-lifecycle operation of one service; their shared
rules live in `lifecycle`, `ca_access`, `tagging`, `quotas` and `ca_certificate`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding

from pica.authority import idempotency, lifecycle, revocation_settings, tagging
from pica.authority.algorithms import check_pairing
from pica.authority.arns import ArnFactory, account_of
from pica.authority.ca_access import (
    Caller,
    is_purged,
    load_ca,
    record_success,
    shared_with_caller,
)
from pica.authority.ca_certificate import validate_import
from pica.authority.issuance import key_usage_extension, sign_csr
from pica.authority.key_hashes import public_key_hashes
from pica.authority.lifecycle import Action
from pica.authority.model import (
    AccessMethodType,
    CaConfiguration,
    CaStatus,
    CaType,
    CertificateAuthority,
    KeyStorageSecurityStandard,
    RevocationConfiguration,
    Tag,
    UsageMode,
)
from pica.authority.names import general_name_to_x509, parse_oid, subject_to_name
from pica.authority.pagination import decode_token, encode_token
from pica.authority.pem import certificate_pem, join_pem
from pica.authority.ports import (
    Clock,
    GeneratedKey,
    ObjectStore,
    SigningKeyStore,
    Store,
    Transaction,
)
from pica.authority.quotas import MAX_CAS_PER_ACCOUNT
from pica.errors import (
    Conflict,
    InvalidArgs,
    InvalidNextToken,
    InvalidState,
    LimitExceeded,
    RequestFailed,
    RequestInProgress,
)

IDEMPOTENCY_WINDOW = idempotency.WINDOW  # defined in pica.authority.idempotency
DEFAULT_PERMANENT_DELETION_DAYS = 30
LIST_PAGE_LIMIT = 100

_ACCESS_METHOD_OIDS = {
    AccessMethodType.CA_REPOSITORY: "1.3.6.1.5.5.7.48.5",
    AccessMethodType.RESOURCE_PKI_MANIFEST: "1.3.6.1.5.5.7.48.10",
    AccessMethodType.RESOURCE_PKI_NOTIFY: "1.3.6.1.5.5.7.48.13",
}


@dataclass(frozen=True)
class Limits:
    max_cas_per_account: int = MAX_CAS_PER_ACCOUNT


@dataclass(frozen=True)
class CreateCaRequest:
    type: CaType
    configuration: CaConfiguration
    revocation_configuration: RevocationConfiguration = dataclasses.field(
        default_factory=RevocationConfiguration
    )
    usage_mode: UsageMode = UsageMode.GENERAL_PURPOSE
    key_storage_security_standard: KeyStorageSecurityStandard = (
        KeyStorageSecurityStandard.FIPS_140_2_LEVEL_3_OR_HIGHER
    )
    tags: tuple[Tag, ...] = ()
    idempotency_token: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[CertificateAuthority]
    next_token: str | None


@dataclass(frozen=True)
class TagPage:
    tags: list[Tag]
    next_token: str | None


@lru_cache(maxsize=4096)
def parse_certificate_pem(pem: str) -> x509.Certificate:
    """CA certificates are read on every issuance; parse each distinct one once."""
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def ca_public_key(ca: CertificateAuthority) -> CertificatePublicKeyTypes:
    assert ca.csr_pem is not None
    return x509.load_pem_x509_csr(ca.csr_pem.encode("ascii")).public_key()


def save(tx: Transaction, ca: CertificateAuthority, **changes: object) -> CertificateAuthority:
    """Write a changed CA under the optimistic lock (version + 1)."""
    updated = dataclasses.replace(ca, version=ca.version + 1, **changes)  # type: ignore[arg-type]
    tx.update_ca(updated)
    return updated


def _csr_extensions(config: CaConfiguration) -> tuple[x509.Extension[x509.ExtensionType], ...]:
    extensions: list[x509.Extension[x509.ExtensionType]] = []
    csr_ext = config.csr_extensions
    if csr_ext is None:
        return ()
    if csr_ext.key_usage is not None:
        ku = key_usage_extension(csr_ext.key_usage)
        extensions.append(x509.Extension(ku.oid, True, ku))
    if csr_ext.subject_information_access:
        descriptions = []
        for access in csr_ext.subject_information_access:
            method = access.access_method
            if (method.access_method_type is None) == (method.custom_object_identifier is None):
                raise InvalidArgs(
                    "An AccessMethod must have exactly one of AccessMethodType and "
                    "CustomObjectIdentifier."
                )
            dotted = (
                _ACCESS_METHOD_OIDS[method.access_method_type]
                if method.access_method_type is not None
                else method.custom_object_identifier
            )
            assert dotted is not None
            descriptions.append(
                x509.AccessDescription(
                    parse_oid(dotted, "AccessMethod"), general_name_to_x509(access.access_location)
                )
            )
        sia = x509.SubjectInformationAccess(descriptions)
        extensions.append(x509.Extension(sia.oid, False, sia))
    return tuple(extensions)


class CertificateAuthorityService:
    def __init__(
        self,
        store: Store,
        keys: SigningKeyStore,
        clock: Clock,
        arns: ArnFactory,
        objects: ObjectStore,
        limits: Limits = Limits(),
    ) -> None:
        self._store = store
        self._keys = keys
        self._clock = clock
        self._arns = arns
        self._objects = objects
        self._limits = limits

    # --- create -----------------------------------------------------------------------------

    def create(self, caller: Caller, request: CreateCaRequest) -> str:
        config = request.configuration
        check_pairing(config.key_algorithm, config.signing_algorithm)
        subject = subject_to_name(config.subject)
        if len(subject) == 0:
            raise InvalidArgs(
                "The certificate authority Subject must contain at least one attribute."
            )
        csr_extensions = _csr_extensions(config)
        revocation = revocation_settings.normalise(request.revocation_configuration)
        if revocation.crl.enabled:
            with self._store.transaction(read_only=True) as tx:
                revocation_settings.check_bucket_owner(tx, revocation.crl, caller.account_id)
        revocation_settings.probe_bucket(self._objects, revocation.crl)
        tagging.check_initial_tags(list(request.tags))
        scope = f"{caller.account_id}:CreateCertificateAuthority"
        token = request.idempotency_token
        if token is not None:
            replay = self._replay(scope, token)
            if replay is not None:
                return replay
        arn = self._arns.new_ca_arn(caller.account_id)
        key = self._keys.generate(config.key_algorithm, owner=arn)
        try:
            return self._store_new_ca(caller, request, arn, key, scope, subject, csr_extensions)
        except BaseException:
            self._keys.discard(key.reference)  # no CA row names it: never leave it behind
            raise

    def _store_new_ca(
        self,
        caller: Caller,
        request: CreateCaRequest,
        arn: str,
        key: GeneratedKey,
        scope: str,
        subject: x509.Name,
        csr_extensions: tuple[x509.Extension[x509.ExtensionType], ...],
    ) -> str:
        config = request.configuration
        revocation = revocation_settings.normalise(request.revocation_configuration)
        token = request.idempotency_token
        csr = sign_csr(
            subject=subject,
            public_key=key.public_key,
            signer=self._keys.signer(key.reference),
            signing_algorithm=config.signing_algorithm,
            extensions=csr_extensions,
        )
        now = self._clock.now()
        key_sha1, key_sha256 = public_key_hashes(key.public_key)
        ca = CertificateAuthority(
            arn=arn,
            account_id=caller.account_id,
            type=request.type,
            status=CaStatus.PENDING_CERTIFICATE,
            configuration=config,
            revocation_configuration=revocation,
            usage_mode=request.usage_mode,
            key_storage_security_standard=request.key_storage_security_standard,
            created_at=now,
            last_state_change_at=now,
            sealed_key=key.reference.handle,
            csr_pem=csr.public_bytes(Encoding.PEM).decode("ascii"),
            public_key_sha1=key_sha1,
            public_key_sha256=key_sha256,
        )
        try:
            with self._store.transaction() as tx:
                if tx.count_cas(caller.account_id) >= self._limits.max_cas_per_account:
                    raise LimitExceeded(
                        "You have reached the quota of "
                        f"{self._limits.max_cas_per_account} certificate authorities per account."
                    )
                if token is not None:
                    tx.put_idempotent_result(scope, token, arn, now)
                revocation_settings.claim_bucket(tx, revocation.crl, caller.account_id, now)
                tx.insert_ca(ca)
                record_success(tx, caller, "CreateCertificateAuthority", arn, now)
                if request.tags:
                    tx.put_tags(arn, list(request.tags))
        except Conflict:
            # A concurrent request with the same token won; answer with its CA.
            if token is not None:
                replay = self._replay(scope, token)
                if replay is not None:
                    self._keys.discard(key.reference)
                    return replay
            raise
        return arn

    def _replay(self, scope: str, token: str) -> str | None:
        now = self._clock.now()
        with self._store.transaction(read_only=True) as tx:
            found = tx.get_idempotent_result(scope, token)
        if found is not None and now - found[1] < IDEMPOTENCY_WINDOW:
            return found[0]
        return None

    # --- read -------------------------------------------------------------------------------

    def describe(self, caller: Caller, arn: str) -> CertificateAuthority:
        now = self._clock.now()
        with self._store.transaction(read_only=True) as tx:
            return load_ca(tx, caller, arn, now, action="DescribeCertificateAuthority")

    def list_cas(
        self,
        caller: Caller,
        max_results: int | None,
        next_token: str | None,
        *,
        shared: bool = False,
    ) -> Page:
        """The caller's own CAs (ResourceOwner=SELF) or, with `shared`, other accounts' CAs
        whose resource policy shares them with the caller (ResourceOwner=OTHER_ACCOUNTS)."""
        now = self._clock.now()
        limit = min(max_results or LIST_PAGE_LIMIT, LIST_PAGE_LIMIT)
        kind = "shared-ca" if shared else "ca"
        after = decode_token(kind, next_token)
        items: list[CertificateAuthority] = []
        with self._store.transaction(read_only=True) as tx:
            cursor = after
            # Purged-but-not-yet-removed CAs are skipped, so read until the page is full.
            while len(items) <= limit:
                batch = self._list_batch(tx, caller, shared, limit + 1, cursor)
                items.extend(
                    ca
                    for ca in batch
                    if not is_purged(ca, now) and (not shared or shared_with_caller(tx, caller, ca))
                )
                if len(batch) < limit + 1:
                    break
                cursor = batch[-1].arn
        if len(items) > limit:
            items = items[:limit]
            return Page(items, encode_token(kind, items[-1].arn))
        return Page(items, None)

    @staticmethod
    def _list_batch(
        tx: Transaction, caller: Caller, shared: bool, limit: int, after: str | None
    ) -> list[CertificateAuthority]:
        if not shared:
            return tx.list_cas(caller.account_id, limit=limit, after_arn=after)
        found = (
            tx.get_ca(arn)
            for arn in tx.list_cas_shared_with(caller.account_id, limit=limit, after_arn=after)
        )
        return [ca for ca in found if ca is not None]

    def get_csr(self, caller: Caller, arn: str) -> str:
        now = self._clock.now()
        with self._store.transaction(read_only=True) as tx:
            ca = load_ca(tx, caller, arn, now, action="GetCertificateAuthorityCsr")
        status = ca.effective_status(now)
        if status is CaStatus.CREATING or ca.csr_pem is None:
            raise RequestInProgress(
                f"The certificate signing request for {arn} is still being created."
            )
        if status is CaStatus.FAILED:
            raise RequestFailed(f"The certificate authority {arn} failed to be created.")
        lifecycle.require(Action.GET_CSR, status, arn)
        return ca.csr_pem

    def get_ca_certificate(self, caller: Caller, arn: str) -> tuple[str, str | None]:
        now = self._clock.now()
        with self._store.transaction(read_only=True) as tx:
            ca = load_ca(tx, caller, arn, now, action="GetCertificateAuthorityCertificate")
        lifecycle.require(Action.GET_CA_CERTIFICATE, ca.effective_status(now), arn)
        assert ca.certificate_pem is not None
        return ca.certificate_pem, ca.certificate_chain_pem or None

    # --- import -----------------------------------------------------------------------------

    def import_certificate(
        self, caller: Caller, arn: str, certificate: bytes, chain: bytes | None
    ) -> None:
        now = self._clock.now()
        with self._store.transaction() as tx:
            ca = load_ca(
                tx,
                caller,
                arn,
                now,
                action="ImportCertificateAuthorityCertificate",
                for_update=True,
            )
            status = ca.effective_status(now)
            lifecycle.require(Action.IMPORT_CA_CERTIFICATE, status, arn)
            imported = validate_import(
                ca_type=ca.type,
                ca_public_key=ca_public_key(ca),
                certificate_data=certificate,
                chain_data=chain,
                now=now,
            )
            cert = imported.certificate
            # Back to ACTIVE, unless the CA had been disabled (AWS keeps DISABLED then).
            target = CaStatus.DISABLED if ca.status is CaStatus.DISABLED else CaStatus.ACTIVE
            new_status = lifecycle.transition(ca.status, target, arn)
            save(
                tx,
                ca,
                status=new_status,
                last_state_change_at=now
                if new_status is not ca.status
                else ca.last_state_change_at,
                certificate_pem=certificate_pem(cert),
                certificate_chain_pem=join_pem(*(certificate_pem(c) for c in imported.chain))
                or None,
                serial=cert.serial_number,
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
            )
            if ca.revocation_configuration.crl.enabled and ca.certificate_pem is not None:
                # A renewed CA certificate: re-sign the CRL under it.
                tx.mark_crl_dirty(arn, now)

    # --- update / delete / restore ----------------------------------------------------------

    def update(
        self,
        caller: Caller,
        arn: str,
        status: CaStatus | None,
        revocation_configuration: RevocationConfiguration | None,
    ) -> None:
        now = self._clock.now()
        if status is not None and status not in (CaStatus.ACTIVE, CaStatus.DISABLED):
            raise InvalidArgs(f"Status can only be set to ACTIVE or DISABLED, not {status}.")
        revocation = (
            revocation_settings.normalise(revocation_configuration)
            if revocation_configuration is not None
            else None
        )
        if revocation is not None and revocation.crl.enabled:
            # Check the CA first, then the bucket (network I/O, outside any write lock).
            with self._store.transaction(read_only=True) as tx:
                current = load_ca(tx, caller, arn, now, action="UpdateCertificateAuthority")
                revocation_settings.check_bucket_owner(tx, revocation.crl, caller.account_id)
            lifecycle.require(Action.UPDATE, current.effective_status(now), arn)
            if revocation.crl != current.revocation_configuration.crl:
                revocation_settings.probe_bucket(self._objects, revocation.crl)
        with self._store.transaction() as tx:
            ca = load_ca(tx, caller, arn, now, action="UpdateCertificateAuthority", for_update=True)
            lifecycle.require(Action.UPDATE, ca.effective_status(now), arn)
            changes: dict[str, object] = {}
            if status is not None and status is not ca.status:
                changes["status"] = lifecycle.transition(ca.status, status, arn)
                changes["last_state_change_at"] = now
            if revocation is not None:
                revocation_settings.claim_bucket(tx, revocation.crl, caller.account_id, now)
            if revocation is not None and revocation != ca.revocation_configuration:
                changes["revocation_configuration"] = revocation
                if revocation.crl.enabled:
                    tx.mark_crl_dirty(arn, now)
            if changes:
                save(tx, ca, **changes)

    def delete(self, caller: Caller, arn: str, permanent_deletion_days: int | None) -> None:
        now = self._clock.now()
        days = permanent_deletion_days or DEFAULT_PERMANENT_DELETION_DAYS
        with self._store.transaction() as tx:
            ca = load_ca(tx, caller, arn, now, action="DeleteCertificateAuthority", for_update=True)
            status = ca.effective_status(now)
            if status is CaStatus.ACTIVE:
                raise InvalidState(
                    f"The certificate authority {arn} is ACTIVE. Disable it before you delete it."
                )
            lifecycle.require(Action.DELETE, status, arn)
            if ca.status in (CaStatus.CREATING, CaStatus.FAILED):
                # AWS: no restoration period for a CA that never finished creating.
                tx.delete_ca(arn)
                if ca.sealed_key is not None:
                    self._keys.discard(ca.key_reference)
                return
            save(
                tx,
                ca,
                status=lifecycle.transition(ca.status, CaStatus.DELETED, arn),
                status_before_deletion=ca.status,
                restorable_until=now + timedelta(days=days),
                last_state_change_at=now,
            )

    def restore(self, caller: Caller, arn: str) -> None:
        now = self._clock.now()
        with self._store.transaction() as tx:
            ca = load_ca(
                tx, caller, arn, now, action="RestoreCertificateAuthority", for_update=True
            )
            lifecycle.require(Action.RESTORE, ca.effective_status(now), arn)
            previous = ca.status_before_deletion or CaStatus.PENDING_CERTIFICATE
            save(
                tx,
                ca,
                status=lifecycle.transition(ca.status, previous, arn),
                status_before_deletion=None,
                restorable_until=None,
                last_state_change_at=now,
            )

    def purge_deleted(self, limit: int = 100) -> int:
        """Permanently remove DELETED CAs whose restoration window has passed."""
        now = self._clock.now()
        with self._store.transaction() as tx:
            due = tx.list_cas_due_for_purge(now, limit)
            keys = []
            for arn in due:
                ca = tx.get_ca(arn)
                if ca is not None and ca.sealed_key is not None:
                    keys.append(ca.key_reference)
                tx.delete_ca(arn)
                # pica acts alone, on behalf of the owner: the CA and its key are gone for good.
                record_success(tx, Caller(account_of(arn)), "PurgeCertificateAuthority", arn, now)
        for reference in keys:
            self._keys.discard(reference)
        return len(due)

    # --- tags -------------------------------------------------------------------------------

    def tag(self, caller: Caller, arn: str, tags: list[Tag]) -> None:
        now = self._clock.now()
        with self._store.transaction() as tx:
            load_ca(tx, caller, arn, now, action="TagCertificateAuthority", for_update=True)
            tx.put_tags(arn, tagging.merged(tx.get_tags(arn), tags))

    def untag(self, caller: Caller, arn: str, tags: list[Tag]) -> None:
        now = self._clock.now()
        with self._store.transaction() as tx:
            load_ca(tx, caller, arn, now, action="UntagCertificateAuthority", for_update=True)
            tx.put_tags(arn, tagging.without(tx.get_tags(arn), tags))

    def list_tags(
        self, caller: Caller, arn: str, max_results: int | None, next_token: str | None
    ) -> TagPage:
        now = self._clock.now()
        position = decode_token(f"tags:{arn}", next_token) or "0"
        if not position.isdigit():
            raise InvalidNextToken("The NextToken is not valid.")
        start = int(position)
        with self._store.transaction(read_only=True) as tx:
            load_ca(tx, caller, arn, now, action="ListTags")
            tags = tx.get_tags(arn)
        end = start + (max_results or len(tags) or 1)
        token = encode_token(f"tags:{arn}", str(end)) if end < len(tags) else None
        return TagPage(tags[start:end], token)

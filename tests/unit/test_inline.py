"""Which request work runs on the event loop (`pica.wire.inline`)."""

from pica.wire.awsjson.dispatch import DISPATCH
from pica.wire.inline import INLINE_TARGETS, serves_inline


def test_every_inline_target_is_a_served_operation() -> None:
    for target in INLINE_TARGETS:
        assert target in DISPATCH, target
        assert DISPATCH[target][1] is not None, f"{target} has no handler"


def test_slow_operations_keep_the_thread_hop() -> None:
    for operation in ("CreateCertificateAuthority", "CreateCertificateAuthorityAuditReport"):
        assert f"ACMPrivateCA.{operation}" not in INLINE_TARGETS


def test_only_sqlite_with_file_keys_serves_inline() -> None:
    assert serves_inline("sqlite:////var/lib/pica/pica.db", "file")
    assert not serves_inline("postgresql+psycopg://pica@db/pica", "file")
    assert not serves_inline("sqlite:////var/lib/pica/pica.db", "pkcs11")

"""Which request work runs on the event loop (`pica.wire.inline`)."""

import asyncio

import pytest

from pica.authority.write_turns import WRITE_TURN, Steps, run_steps
from pica.wire.awsjson.dispatch import DISPATCH, STEPPED
from pica.wire.inline import INLINE_TARGETS, serves_inline
from pica.wire.write_turns import drive_steps


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


def test_every_stepped_handler_runs_inline() -> None:
    """A stepped handler is only driven on the loop; elsewhere its plain twin runs the steps."""
    for target in STEPPED:
        assert target in INLINE_TARGETS, target


def test_steps_run_to_their_answer_in_both_drivers() -> None:
    turns: list[str] = []

    def steps() -> Steps[str]:
        turns.append("read")
        yield WRITE_TURN
        turns.append("write")
        yield WRITE_TURN
        turns.append("write again")
        return "answer"

    assert run_steps(steps()) == "answer"
    assert turns == ["read", "write", "write again"]

    async def until_writable() -> None:
        turns.append("wait")

    turns.clear()
    assert asyncio.run(drive_steps(steps(), until_writable)) == "answer"
    assert turns == ["read", "wait", "write", "wait", "write again"]


def test_an_error_in_a_step_reaches_the_driver() -> None:
    def steps() -> Steps[str]:
        yield WRITE_TURN
        raise LookupError("gone")

    async def until_writable() -> None:
        return None

    with pytest.raises(LookupError, match="gone"):
        run_steps(steps())
    with pytest.raises(LookupError, match="gone"):
        asyncio.run(drive_steps(steps(), until_writable))

"""pica.worker_balance: the shared per-worker connection counts behind the balanced accept."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
from pathlib import Path

import pytest

from pica import worker_balance
from pica.worker_balance import WorkerSlots, worker_slots


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _slots(path: Path, pid: int) -> WorkerSlots:
    slots = WorkerSlots(path)
    slots.claim(pid)
    return slots


def test_a_worker_over_the_least_loaded_peer_steps_back(tmp_path: Path) -> None:
    path = tmp_path / "slots"
    WorkerSlots.create(path, 2)
    peer = subprocess.Popen(["sleep", "30"])  # a live pid that is not this process
    try:
        mine, theirs = _slots(path, os.getpid()), _slots(path, peer.pid)
        assert not mine.over_share()  # 0 and 0
        mine.add(1)
        assert mine.over_share() and not theirs.over_share()  # 1 against 0
        theirs.add(1)
        assert not mine.over_share() and not theirs.over_share()  # 1 and 1
        theirs.add(-1)
        theirs.add(-1)  # never below zero
        assert mine.counts() == (1, [0])
    finally:
        peer.kill()
        peer.wait()


def test_alone_a_worker_never_waits(tmp_path: Path) -> None:
    path = tmp_path / "slots"
    WorkerSlots.create(path, 2)
    mine = _slots(path, os.getpid())
    mine.add(5)
    assert not mine.over_share()


def test_a_dead_workers_slot_is_reclaimed_and_ignored(tmp_path: Path) -> None:
    path = tmp_path / "slots"
    WorkerSlots.create(path, 1)  # two slots
    mine = _slots(path, os.getpid())
    _slots(path, _dead_pid())  # the other slot, held by a worker that died
    assert mine.counts() == (0, [])  # the dead worker's slot does not count
    respawned = subprocess.Popen(["sleep", "30"])
    try:
        WorkerSlots(path).claim(respawned.pid)  # only the dead worker's slot is left to take
        mine.add(1)
        assert mine.counts() == (1, [0]) and mine.over_share()
        with pytest.raises(RuntimeError):  # both slots now held by live processes
            WorkerSlots(path).claim(_dead_pid() + 1_000_000)
    finally:
        respawned.kill()
        respawned.wait()


def test_more_live_workers_than_slots_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "slots"
    WorkerSlots.create(path, 1)
    sleepers = [subprocess.Popen(["sleep", "30"]) for _ in range(2)]
    try:
        for sleeper in sleepers:
            WorkerSlots(path).claim(sleeper.pid)
        with pytest.raises(RuntimeError):
            WorkerSlots(path).claim(os.getpid())
    finally:
        for sleeper in sleepers:
            sleeper.kill()
            sleeper.wait()


def test_the_supervisor_file_is_private_and_removed() -> None:
    with worker_slots(2) as path:
        assert os.environ["PICA_WORKER_SLOTS"] == str(path)
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.stat().st_size > 0
    assert not path.exists() and "PICA_WORKER_SLOTS" not in os.environ


def test_a_worker_without_its_slots_file_serves_unbalanced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The file gone (a temp cleaner) when a worker is respawned: one warning, and the loop's
    own server accepts as before, rather than a worker that fails to start again and again."""
    monkeypatch.setattr(worker_balance, "_slots", None)
    monkeypatch.setattr(worker_balance, "_looked", False)
    monkeypatch.setenv(worker_balance.SLOTS_ENV, str(tmp_path / "gone"))
    listener = socket.create_server(("127.0.0.1", 0))

    async def serve() -> object:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(asyncio.Protocol, sock=listener)
        server.close()
        return server

    try:
        with (
            caplog.at_level(logging.WARNING, logger="pica.worker_balance"),
            asyncio.Runner(loop_factory=worker_balance.asyncio_loop) as runner,
        ):
            server = runner.run(serve())
    finally:
        listener.close()
    assert isinstance(server, asyncio.Server)
    assert "unbalanced" in caplog.text

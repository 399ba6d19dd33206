"""Which worker process of a live `pica serve --workers N` holds which TCP connection, read from
/proc (Linux): the sockets each process has open, matched to the established connections on the
server's port."""

from __future__ import annotations

import os
from pathlib import Path

_ESTABLISHED = "01"


def worker_pids(server_pid: int) -> list[int]:
    """The server's child processes (uvicorn's workers), from /proc/<pid>/task/*/children."""
    children: list[int] = []
    for task in Path(f"/proc/{server_pid}/task").iterdir():
        text = (task / "children").read_text()
        children.extend(int(pid) for pid in text.split())
    return sorted(children)


def _established_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == _ESTABLISHED:
                inodes.add(fields[9])
    return inodes


def connections_per_worker(port: int, pids: list[int]) -> dict[int, int]:
    """Established connections to `port` held by each of `pids`."""
    inodes = _established_inodes(port)
    found: dict[int, int] = {}
    for pid in pids:
        count = 0
        for descriptor in os.scandir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(descriptor.path)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                count += 1
        found[pid] = count
    return found

"""Smoke runs of `python -m bench asgi` and `python -m bench alternate` (tiny sizes: they
must run and print their figures; the figures themselves are not checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _bench(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_asgi_prints_the_wire_next_to_the_domain() -> None:
    completed = _bench("asgi", "20", timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    for line in ("through the ASGI app", "CertificateService.issue", "the wire"):
        assert line in completed.stdout


def test_alternate_serves_two_versions_and_compares_them() -> None:
    completed = _bench(
        "alternate",
        "--a",
        "HEAD",
        "--b",
        ".",
        "--rounds",
        "2",
        "--duration",
        "1",
        "--workers",
        "1",
        "--connections",
        "1",
        timeout=240,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.count("round ") == 4
    assert "B/A:" in completed.stdout
    assert "FAILED" not in completed.stdout

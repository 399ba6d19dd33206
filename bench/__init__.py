"""Benchmarks that print figures and ratios; run with `make bench` (python -m bench).

The benchmarks reuse the test helpers (`tests.support`: live server, PKI, PostgreSQL), so the
repository root must be importable whatever the working directory.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

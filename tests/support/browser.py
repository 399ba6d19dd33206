"""Debian's chromium for the console's browser tests, installed by the tests when missing.

A browser build cannot be downloaded here (`playwright install` is never run): Playwright
launches the distribution's chromium by its path. Like `postgres.py`, the setup installs the
package with apt-get when it is missing and the tests run as root; otherwise the tests skip,
saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_or_reason() -> tuple[Path | None, str]:
    """The chromium executable, installing it first when possible; else None and why not."""
    if CHROMIUM.exists():
        return CHROMIUM, ""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None, f"{CHROMIUM} is missing and cannot be installed here (not root, or no apt-get)"
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for arguments in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(arguments, env=environment, capture_output=True, text=True)
        if done.returncode != 0:
            return None, f"{' '.join(arguments)} failed: {done.stderr.strip()[-500:]}"
    if not CHROMIUM.exists():
        return None, f"apt-get installed chromium but {CHROMIUM} is missing"
    return CHROMIUM, ""

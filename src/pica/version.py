"""pica's version and the git revision it was built from: `pica version`, `pica --version`,
the `pica_build_info` metric and every backup's manifest.

The revision is read, in this order, from:
1. the `REVISION` file next to this module, which the build writes into wheels and images
   (`setup.py`: `PICA_REVISION` from the environment, as the Dockerfile passes it, or else
   `git rev-parse` of the tree being built);
2. git, when pica runs from a checkout (an editable install): the commit, `-dirty` when
   tracked files changed;
3. otherwise "unknown": a missing git or revision never stops a command.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from pica import __version__

REVISION_FILE = "REVISION"
UNKNOWN = "unknown"
_GIT_TIMEOUT_SECONDS = 5.0


def describe() -> str:
    """`pica 0.1.0 (revision 0123456789ab)`."""
    return f"pica {__version__} (revision {revision()})"


@functools.cache
def revision() -> str:
    here = Path(__file__).resolve().parent
    return built_revision(here) or checkout_revision(here.parent.parent) or UNKNOWN


def built_revision(package_dir: Path) -> str | None:
    """The revision the build recorded in the package, if it did."""
    try:
        text = (package_dir / REVISION_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def checkout_revision(tree: Path) -> str | None:
    """The commit checked out at `tree` (a git work tree), `-dirty` with local changes."""
    if not (tree / ".git").exists():
        return None
    commit = _git(tree, "rev-parse", "--short=12", "HEAD")
    if commit is None:
        return None
    changes = _git(tree, "status", "--porcelain", "--untracked-files=no")
    return f"{commit}-dirty" if changes else commit


def _git(tree: Path, *arguments: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", "-C", str(tree), *arguments],
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None

"""Build hook: record the git revision in the package (`pica/REVISION`, read by `pica.version`).

`PICA_REVISION` from the environment wins (a Docker build has no .git: the Dockerfile passes
it as a build argument); otherwise `git rev-parse` of the tree being built; otherwise nothing
is written and `pica version` says "unknown". Everything else is in pyproject.toml.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


def _git_revision() -> str | None:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() or None if completed.returncode == 0 else None


class BuildWithRevision(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install runs from the checkout: pica asks git itself
        revision = os.environ.get("PICA_REVISION", "").strip() or _git_revision()
        package = Path(self.build_lib) / "pica"
        if revision and package.is_dir():
            (package / "REVISION").write_text(revision + "\n", encoding="utf-8")


setup(cmdclass={"build_py": BuildWithRevision})

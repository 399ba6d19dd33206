"""A SoftHSM2 token for tests: Debian's `softhsm2` (and `opensc`'s `pkcs11-tool`), one token per
test session in a temporary directory.

When the packages are missing and we run as root, `apt-get install softhsm2 opensc` first (as
`tests.support.postgres` installs PostgreSQL). The token lives in its own directory, named by a
private `softhsm2.conf` that `SOFTHSM2_CONF` points at: nothing outside the temporary directory
is read or written, and the machine's own tokens are never seen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MODULE_CANDIDATES = (
    Path("/usr/lib/softhsm/libsofthsm2.so"),
    Path("/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"),
    Path("/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"),
)
TOKEN_LABEL = "pica-test"
USER_PIN = "4321-pica"
SO_PIN = "8765-pica"


class SoftHsmUnavailable(Exception):
    """SoftHSM2 is not installed and cannot be installed here."""


@dataclass(frozen=True)
class SoftHsmToken:
    module: Path
    config: Path  # the softhsm2.conf naming this token's directory
    label: str = TOKEN_LABEL
    pin: str = USER_PIN

    @property
    def env(self) -> dict[str, str]:
        """The environment a process needs to find this token (and only it)."""
        return {"SOFTHSM2_CONF": str(self.config)}

    def pkcs11_tool(self, *arguments: str) -> str:
        """`pkcs11-tool` (OpenSC) on this token, logged in; its standard output."""
        completed = subprocess.run(
            [
                "pkcs11-tool",
                "--module",
                str(self.module),
                "--token-label",
                self.label,
                "--login",
                "--pin",
                self.pin,
                *arguments,
            ],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=True,
        )
        return completed.stdout

    def pica_env(self) -> dict[str, str]:
        """The PICA_* variables of a pica whose CA keys are in this token."""
        return {
            **self.env,
            "PICA_KEY_STORE": "pkcs11",
            "PICA_PKCS11_MODULE": str(self.module),
            "PICA_PKCS11_TOKEN_LABEL": self.label,
            "PICA_PKCS11_PIN": self.pin,
        }


def find_module() -> Path | None:
    for candidate in MODULE_CANDIDATES:
        if candidate.exists():
            return candidate
    return None


def _install() -> None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SoftHsmUnavailable(
            "SoftHSM2 (softhsm2) and OpenSC (opensc) are not installed and cannot be installed "
            "here: apt-get install softhsm2 opensc"
        )
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for arguments in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "softhsm2", "opensc"],
    ):
        subprocess.run(arguments, check=True, env=environment, capture_output=True)


def new_token(folder: Path) -> SoftHsmToken:
    """A freshly initialised token (label `TOKEN_LABEL`) whose files live under `folder`."""
    module = find_module()
    if (
        module is None
        or shutil.which("softhsm2-util") is None
        or shutil.which("pkcs11-tool") is None
    ):
        _install()
        module = find_module()
        if module is None:
            raise SoftHsmUnavailable("apt-get installed softhsm2 but no libsofthsm2.so was found")
    tokens = folder / "tokens"
    tokens.mkdir(parents=True, mode=0o700)
    config = folder / "softhsm2.conf"
    config.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
        "slots.removable = false\n",
        encoding="utf-8",
    )
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            TOKEN_LABEL,
            "--so-pin",
            SO_PIN,
            "--pin",
            USER_PIN,
        ],
        env={**os.environ, "SOFTHSM2_CONF": str(config)},
        check=True,
        capture_output=True,
    )
    return SoftHsmToken(module, config)

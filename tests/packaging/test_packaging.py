"""The Dockerfile, docker-compose.yml and systemd unit, exercised as far as this machine allows
(no Docker engine runs here), and `pica version`.

- systemd: `systemd-analyze verify` on the unit (its ExecStart pointed at this checkout's pica,
  since verify requires the program to exist) and `systemd-analyze security --offline` for its
  sandboxing score.
- compose: the file against the Compose Specification's JSON schema. `compose-spec.json`
  beside this file is that schema (the compose-spec project's, Apache-2.0) as the npm package
  dclint 3.1.0 ships it at `schemas/compose.schema.json`; vendored because tests run offline.
- Dockerfile: its instructions, structurally (hadolint is not packaged for Debian), and its
  HEALTHCHECK command run against a live pica.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pica import __version__
from pica.version import built_revision, checkout_revision
from tests.support.server import LiveServer, free_port

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "packaging" / "systemd" / "pica.service"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SCHEMA = Path(__file__).with_name("compose-spec.json")
MAX_EXPOSURE = 2.0


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("systemd-analyze is missing and cannot be installed here (not root)")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for arguments in (["apt-get", "update"], ["apt-get", "install", "-y", "systemd"]):
        subprocess.run(arguments, check=True, env=environment, capture_output=True, timeout=600)
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("apt-get installed systemd but no systemd-analyze was found")
    return found


@pytest.fixture
def unit_here(tmp_path: Path) -> Path:
    """The unit, its ExecStart program replaced by this checkout's `pica`."""
    pica = Path(sys.executable).with_name("pica")
    assert pica.exists()
    text = UNIT.read_text()
    assert "ExecStart=/opt/pica/bin/pica serve" in text
    copy = tmp_path / "pica.service"
    copy.write_text(text.replace("/opt/pica/bin/pica", str(pica)))
    return copy


def test_systemd_unit_verifies(unit_here: Path) -> None:
    completed = subprocess.run(
        [systemd_analyze(), "verify", str(unit_here)], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == "", completed.stderr  # unknown keys are only warned about


def test_systemd_unit_is_sandboxed(unit_here: Path) -> None:
    completed = subprocess.run(
        [systemd_analyze(), "security", "--offline=yes", "--no-pager", str(unit_here)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", completed.stdout)
    assert found is not None, completed.stdout
    assert float(found.group(1)) <= MAX_EXPOSURE, completed.stdout
    settings = dict(
        line.split("=", 1) for line in UNIT.read_text().splitlines() if re.match(r"^\w+=", line)
    )
    assert settings["DynamicUser"] == "yes"
    assert settings["StateDirectory"] == "pica"
    assert "--data-dir /var/lib/pica" in settings["ExecStart"]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose()), key=str)
    assert not errors, [error.message for error in errors]
    # The schema bites: a misspelt service key is an error.
    broken = compose()
    broken["services"]["pica1"]["helthcheck"] = {}
    assert list(validator.iter_errors(broken))


def test_compose_runs_two_pica_nodes_on_postgres() -> None:
    spec = compose()
    services = spec["services"]
    nodes = {name: service for name, service in services.items() if name.startswith("pica")}
    assert sorted(nodes) == ["pica1", "pica2"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert "healthcheck" in services["postgres"]
    for service in nodes.values():
        environment = service["environment"]
        assert environment["PICA_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@postgres:5432/" in environment["PICA_DATABASE_URL"]
        # Both nodes write the same public URL into certificates and share KEK and buckets.
        assert environment["PICA_PUBLIC_URL"] == nodes["pica1"]["environment"]["PICA_PUBLIC_URL"]
        assert service["volumes"] == ["pica-data:/var/lib/pica"]
        assert service["build"]["context"] == "."
        assert service["cap_drop"] == ["ALL"] and service["read_only"] is True
    assert nodes["pica1"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert nodes["pica2"]["depends_on"]["pica1"]["condition"] == "service_healthy"
    assert {port.split(":")[1] for n in nodes.values() for port in n["ports"]} == {"8080"}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        pending += " " + stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
            pending = ""
    assert not pending, "a continued line runs off the end"
    return instructions


def test_dockerfile_builds_a_slim_non_root_image_with_a_volume_and_healthcheck() -> None:
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    assert keywords[0] == "FROM"
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", instructions[0][1])
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    last_user = max(i for i, k in enumerate(keywords) if k == "USER")
    assert all(keywords[i] != "RUN" for i in range(last_user, len(keywords)))
    environment = " ".join(arguments for keyword, arguments in instructions if keyword == "ENV")
    data_dir = re.search(r"PICA_DATA_DIR=(\S+)", environment)
    assert data_dir is not None
    volumes = [json.loads(arguments) for keyword, arguments in instructions if keyword == "VOLUME"]
    assert volumes == [[data_dir.group(1)]]
    assert ("EXPOSE", "8080") in instructions
    assert ("ENTRYPOINT", '["pica"]') in instructions
    assert ("ARG", "PICA_REVISION=unknown") in instructions
    assert "/healthz" in dict(instructions)["HEALTHCHECK"]
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") :][1:] == [
        "!pyproject.toml",
        "!setup.py",
        "!README.md",
        "!src/",
        "**/__pycache__",
    ]


def healthcheck_command() -> list[str]:
    arguments = dict(dockerfile_instructions())["HEALTHCHECK"]
    command: list[str] = json.loads(arguments.split(" CMD ", 1)[1])
    return command


def test_the_image_healthcheck_passes_against_pica_and_fails_without_it(
    server: LiveServer,
) -> None:
    command = healthcheck_command()
    assert command[0] == "python"
    run = [sys.executable, *command[1:]]
    env = {**os.environ, "PICA_PORT": str(server.port)}
    assert subprocess.run(run, env=env, capture_output=True, timeout=30).returncode == 0
    env["PICA_PORT"] = str(free_port())
    assert subprocess.run(run, env=env, capture_output=True, timeout=30).returncode != 0


# --- version ----------------------------------------------------------------------------------


def test_pica_version_names_the_git_revision() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICA_")}
    answers = [
        subprocess.run(
            [sys.executable, "-m", "pica", *args], capture_output=True, text=True, env=env
        ).stdout
        for args in (("version",), ("--version",))
    ]
    assert answers[0] == answers[1]
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        assert answers[0] == f"pica {__version__} (revision unknown)\n"
        return
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert re.fullmatch(
        rf"pica {re.escape(__version__)} \(revision {head}(-dirty)?\)\n", answers[0]
    )


def test_a_build_records_the_revision_it_was_given(tmp_path: Path) -> None:
    env = {**os.environ, "PICA_REVISION": "0123456789ab"}
    built = tmp_path / "build"
    completed = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(built)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert built_revision(built / "pica") == "0123456789ab"
    assert checkout_revision(tmp_path) is None  # not a checkout: no git revision either

"""docs/deploy.md is followed literally where a test can follow it: its systemd units start
``scripts/serve`` with processes and queues that exist and together run every queue, systemd
and Caddy accept its files (where they are installed), and its environment file names only
variables Kobling reads and is refused until the secret is filled in."""

import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from itertools import takewhile
from pathlib import Path

import pytest
from django.conf import settings

from config.serve_check import PROCESSES

DOC = (settings.BASE_DIR / "docs" / "deploy.md").read_text()
APP = "/srv/kobling/app"


def files_in_doc(language: str) -> dict[str, str]:
    """Each ```language block after a paragraph that starts with its file's path in backticks
    and ends with a colon."""
    pattern = rf"^`(/[^`]+)`(?:(?!```).)*?:\n\n```{language}\n(.*?)```"
    return dict(re.findall(pattern, DOC, re.S | re.M))


UNITS = {
    Path(name).name: text
    for name, text in files_in_doc("ini").items()
    if name.startswith("/etc/systemd/system/")
}
ENV_FILES = {name: text for name, text in files_in_doc("ini").items() if name.endswith(".env")}


def exec_start(unit: str) -> list[str]:
    [line] = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    return shlex.split(line.removeprefix("ExecStart="))


def test_there_is_a_unit_for_each_process_and_the_workers_take_every_queue():
    assert set(UNITS) == {
        "kobling-release.service",
        "kobling-web.service",
        "kobling-worker-matching.service",
        "kobling-worker-email.service",
        "kobling-beat.service",
    }
    queues_served = set()
    for unit in UNITS.values():
        command = exec_start(unit)
        assert command[0] == f"{APP}/scripts/serve"
        assert command[1] in PROCESSES
        if command[1] == "worker":
            queues_served |= set(takewhile(lambda arg: not arg.startswith("-"), command[2:]))
    assert queues_served == {queue.name for queue in settings.CELERY_TASK_QUEUES}


def test_only_the_release_step_reads_the_owner_role():
    for name, unit in UNITS.items():
        reads_release_env = "EnvironmentFile=/etc/kobling/release.env" in unit
        assert reads_release_env == (name == "kobling-release.service"), name


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_accepts_the_units(tmp_path):
    """Checked with the repository in place of /srv/kobling/app, so the commands exist."""
    for name in ("kobling.env", "release.env"):
        (tmp_path / name).write_text("")
    for name, unit in UNITS.items():
        text = unit.replace(APP, str(settings.BASE_DIR)).replace("/etc/kobling", str(tmp_path))
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(tmp_path / n) for n in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not [line for line in output.splitlines() if "kobling-" in line], output


@pytest.mark.skipif(not shutil.which("caddy"), reason="caddy not installed")
def test_caddy_accepts_the_caddyfile(tmp_path):
    [caddyfile] = re.findall(r"```caddy\n(.*?)```", DOC, re.S)
    (tmp_path / "Caddyfile").write_text(caddyfile)
    result = subprocess.run(
        ["caddy", "adapt", "--adapter", "caddyfile", "--config", str(tmp_path / "Caddyfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert '"X-Request-Id":["{http.request.uuid}"]' in result.stdout
    assert '"dial":"127.0.0.1:8000"' in result.stdout


def variables(env_file: str) -> dict[str, str]:
    lines = (line.strip() for line in env_file.splitlines())
    return dict(
        line.lstrip("# ").split("=", 1)
        for line in lines
        if re.match(r"#? ?[A-Z_]+=", line) and not line.startswith("# 50")
    )


def test_the_environment_files_name_only_variables_kobling_reads():
    documented = set(
        re.findall(r"^([A-Z_]+)=", (settings.BASE_DIR / ".env.example").read_text(), re.M)
    )
    assert set(ENV_FILES) == {"/etc/kobling/kobling.env", "/etc/kobling/release.env"}
    for text in ENV_FILES.values():
        assert set(variables(text)) <= documented


def test_the_environment_file_loads_once_its_secret_is_filled_in():
    given = {
        k: v
        for k, v in variables(ENV_FILES["/etc/kobling/kobling.env"]).items()
        if k != "SENTRY_DSN"
    }
    inherited = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    script = "import django; django.setup(); print('loaded')"

    def load(extra: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", script],
            env={**inherited, **given, **extra, "DJANGO_SETTINGS_MODULE": "config.settings"},
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = load({})
    assert refused.returncode != 0
    assert "SECRET_KEY must be set when KOBLING_ENV=production." in refused.stderr
    loaded = load({"SECRET_KEY": secrets.token_urlsafe(50)})
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "loaded"

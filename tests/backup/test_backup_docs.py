"""docs/backup.md is followed literally: its systemd units are valid and run scripts/backup with
the settings the script reads, and the environment file it shows sets exactly those."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
DOC = (BASE_DIR / "docs" / "backup.md").read_text()
INSTALLED_AT = "/srv/kobling/"


def block_after(marker: str) -> str:
    """The fenced block that follows the line ending in ``marker``."""
    found = re.search(re.escape(marker) + r"\n+```\w*\n(.*?)```", DOC, re.DOTALL)
    assert found, f"no block after {marker!r} in docs/backup.md"
    return found.group(1)


SERVICE = block_after("`/etc/systemd/system/kobling-backup.service`:")
TIMER = block_after("`/etc/systemd/system/kobling-backup.timer`:")
ENVIRONMENT = block_after("(the owner role's password: only `kobling` and root may read it):")


def settings_read_by(script: str) -> set[str]:
    return set(re.findall(r"\$\{(BACKUP_\w+|DATABASE_URL)", (BASE_DIR / script).read_text()))


def test_the_service_runs_the_backup_script_with_the_documented_environment_file():
    [command] = re.findall(r"^ExecStart=(\S+)$", SERVICE, re.MULTILINE)
    [environment_file] = re.findall(r"^EnvironmentFile=(\S+)$", SERVICE, re.MULTILINE)
    script = BASE_DIR / command.removeprefix(INSTALLED_AT)

    assert command.startswith(INSTALLED_AT) and script.is_file()
    assert script.stat().st_mode & 0o111
    assert environment_file == "/etc/kobling/backup.env"
    assert "Type=oneshot" in SERVICE
    assert "Persistent=true" in TIMER and "WantedBy=timers.target" in TIMER


def test_the_documented_environment_sets_every_setting_the_backup_reads():
    documented = set(re.findall(r"^([A-Z_]+)=", ENVIRONMENT, re.MULTILINE))

    assert documented == settings_read_by("scripts/backup")


def test_systemd_accepts_the_documented_units(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("needs systemd-analyze (Debian: systemd)")
    installed = tmp_path / "srv" / "kobling" / "scripts"
    installed.mkdir(parents=True)
    shutil.copy2(BASE_DIR / "scripts" / "backup", installed / "backup")
    # The same units, pointing at this copy and a user that exists here.
    service = (
        SERVICE.replace(INSTALLED_AT, f"{tmp_path}/srv/kobling/")
        .replace("EnvironmentFile=", "EnvironmentFile=-")
        .replace("User=kobling", "User=root")
        .replace("Group=kobling", "Group=root")
    )
    (tmp_path / "kobling-backup.service").write_text(service)
    (tmp_path / "kobling-backup.timer").write_text(TIMER)

    result = subprocess.run(
        ["systemd-analyze", "verify", "kobling-backup.service", "kobling-backup.timer"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == "", result.stderr

"""Without Chromium the browser tests are skipped on a newcomer's machine, but CI stops."""

from tests import services_check


def test_ci_names_a_missing_chromium(monkeypatch):
    monkeypatch.setattr(services_check, "CHROMIUM", "/nowhere/chromium")
    assert services_check._chromium_problems() == [
        "chromium is missing at /nowhere/chromium (scripts/test installs it when run as root)"
    ]


def test_an_installed_chromium_is_no_problem(monkeypatch, tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    monkeypatch.setattr(services_check, "CHROMIUM", str(chromium))
    assert services_check._chromium_problems() == []

"""A new web process loads the project's templates, URLs and translations before its first
request (core/warm_up.py, called by gunicorn as each process starts), and a failure there never
stops the process."""

import logging

from django.template import engines

from config import gunicorn
from core import warm_up


def compiled_templates() -> set[str]:
    cached_loader = engines["django"].engine.template_loaders[0]
    return {key.split("-", 1)[0] for key in cached_loader.get_template_cache}


def test_the_project_templates_are_compiled_before_the_first_request():
    engines["django"].engine.template_loaders[0].reset()
    names = warm_up.project_template_names()

    warm_up.warm_up()

    assert {"base.html", "matching/dashboard.html", "programmes/home.html"} <= set(names)
    assert "admin/base.html" not in names  # the installed packages' own load on use
    assert set(names) <= compiled_templates()


def test_gunicorn_warms_each_process_up_as_it_starts():
    engines["django"].engine.template_loaders[0].reset()
    assert "matching/dashboard.html" not in compiled_templates()

    gunicorn.post_worker_init(worker=None)

    assert set(warm_up.project_template_names()) <= compiled_templates()


def test_a_failure_while_warming_up_is_logged_and_the_process_goes_on(monkeypatch, caplog):
    def broken() -> None:
        raise OSError("templates unreadable")

    monkeypatch.setattr(warm_up, "_load_project_templates", broken)
    with caplog.at_level(logging.WARNING, logger="kobling.warm_up"):
        warm_up.warm_up()

    assert "loads on use" in caplog.text

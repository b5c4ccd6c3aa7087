"""A new web process gets ready before its first request: the URLs and every view module, the
translations, the static files' manifest and the project's templates, which Django otherwise
loads on the first request that needs them. gunicorn calls ``warm_up`` as each process starts
(config/gunicorn.py), so the person whose request lands on a new or replaced process (after a
deploy, or every ``max_requests``) does not wait for it."""

import logging
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template import engines
from django.template.utils import get_app_template_dirs
from django.urls import get_resolver
from django.utils import translation

log = logging.getLogger("kobling.warm_up")


def warm_up() -> None:
    """Never stops the process: what fails here is loaded on first use, as without it."""
    try:
        get_resolver().reverse_dict  # noqa: B018 (imports every URLconf and view module)
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                translation.gettext("Kobling")
        staticfiles_storage.url("kobling/favicon.svg")
        _load_project_templates()
    except Exception:
        log.warning("Could not get the web process ready ahead; it loads on use", exc_info=True)


def project_template_names() -> list[str]:
    """Every template under the project's own template folders (not the installed packages')."""
    configured = cast(list[dict[str, Any]], settings.TEMPLATES)[0]["DIRS"]
    folders = [*configured, *get_app_template_dirs("templates")]
    ours = [Path(folder) for folder in folders if Path(folder).is_relative_to(settings.BASE_DIR)]
    ours = [folder for folder in ours if ".venv" not in folder.parts]
    return sorted(
        {str(path.relative_to(folder)) for folder in ours for path in folder.rglob("*.html")}
    )


def _load_project_templates() -> None:
    django_templates = engines["django"]
    for name in project_template_names():
        django_templates.get_template(name)

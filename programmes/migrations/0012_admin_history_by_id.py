"""Django's admin history written before issue 12 names objects by ``str()``: a referral's alias,
a volunteer's name. Rename each to "Model #id" as new entries are, and drop the names of inline
objects from change messages (their kind stays: 'Added vetting record "—"')."""

import json

from django.db import migrations


def history_by_id(apps, schema_editor):
    LogEntry = apps.get_model("admin", "LogEntry")
    for entry in LogEntry.objects.select_related("content_type").iterator():
        entry.object_repr = f"{_model_name(apps, entry.content_type)} #{entry.object_id}"
        entry.change_message = _without_object_names(entry.change_message)
        entry.save(update_fields=["object_repr", "change_message"])


def _model_name(apps, content_type) -> str:
    if content_type is None:
        return "Object"
    try:
        return apps.get_model(content_type.app_label, content_type.model).__name__
    except LookupError:
        return content_type.model.capitalize()


def _without_object_names(message: str) -> str:
    try:
        parts = json.loads(message)
    except ValueError:
        return message
    if not isinstance(parts, list):
        return message
    for part in parts:
        for detail in part.values() if isinstance(part, dict) else ():
            if isinstance(detail, dict) and "object" in detail:
                detail["object"] = "—"
    return json.dumps(parts)


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("programmes", "0011_referral_submission_key"),
    ]

    operations = [migrations.RunPython(history_by_id, migrations.RunPython.noop)]

"""Writing and deleting demo rows in bulk."""

from django.db import connection
from django.db.models import Model, ProtectedError, QuerySet

MAX_DEPENDENT_DEPTH = 5


def restore_history(model, rows: list[tuple[Model, dict]]) -> None:
    """Write back the drawn dates of auto_now_add fields, which bulk_create set to now.

    One executemany rather than bulk_update: its CASE expressions took longer to build than
    the rest of the demo together."""
    for obj, history in rows:
        for name, value in history.items():
            setattr(obj, name, value)
    fields = [model._meta.get_field(name) for name in rows[0][1]]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk]
        for obj, _ in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def delete_with_dependents(rows: QuerySet, depth: int = 0) -> None:
    """Delete ``rows`` after the rows that protect them from deletion. Found through the
    ProtectedError rather than listed, so that new apps (matching) need no change here."""
    try:
        rows.delete()
    except ProtectedError as error:
        if depth >= MAX_DEPENDENT_DEPTH:
            raise
        for model, pks in _by_model(error.protected_objects).items():
            delete_with_dependents(model._default_manager.filter(pk__in=pks), depth + 1)
        rows.delete()


def _by_model(objects) -> dict[type[Model], list]:
    grouped: dict[type[Model], list] = {}
    for obj in objects:
        grouped.setdefault(type(obj), []).append(obj.pk)
    return grouped

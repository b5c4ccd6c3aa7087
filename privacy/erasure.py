"""What erasing a referral and erasing a volunteer share."""

from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.contenttypes.models import ContentType

from core.audit import object_label

# Written over free text; a fixed marker rather than "" because some of these fields must not be
# empty (a rejected proposal has a reason).
REMOVED = "[removed]"


def admin_history_forget(obj) -> None:
    """Django's own admin history names each edited object by ``str()`` (a referral's alias, a
    volunteer's name); the neutral "Referral #12" replaces it."""
    AdminLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).update(object_repr=object_label(type(obj), obj.pk))

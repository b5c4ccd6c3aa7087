"""A user's API tokens end when they leave, by whatever path they leave.

``user_deactivate`` is the service for closing an account, but "active" can also be unticked and
a crisis centre's staff list edited in the back office or the shell, by Django's own forms and
managers. These receivers catch those paths; the rule itself is
``accounts.api_tokens.api_tokens_revoke_for``.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from accounts.api_tokens import api_tokens_revoke_for
from programmes.models import CrisisCentre


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def tokens_end_when_user_deactivated(sender, instance, raw=False, **kwargs) -> None:
    if not raw and not instance.is_active:
        api_tokens_revoke_for(instance)


@receiver(m2m_changed, sender=CrisisCentre.staff.through)
def tokens_end_when_user_leaves_centre(sender, instance, action, reverse, pk_set, **kwargs):
    """``centre.staff.remove(user)``, ``user.crisis_centres.remove(centre)``, or a clear, which
    is seen before it happens: afterwards no one knows who was there."""
    if action == "pre_clear":
        gone = instance.crisis_centres.all() if reverse else instance.staff.all()
    elif action == "post_remove":
        model = CrisisCentre if reverse else get_user_model()
        gone = model.objects.filter(pk__in=pk_set)
    else:
        return
    for other in gone:
        user, centre = (instance, other) if reverse else (other, instance)
        api_tokens_revoke_for(user, crisis_centre=centre)

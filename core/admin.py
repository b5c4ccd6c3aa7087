"""The back office's shared parts: the base of every ModelAdmin (history by id, service refusals
as messages), admins-only and read-only mixins, and scoped reads. The apps register their
models' admins in their own admin.py."""

import json
from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.admin.options import get_content_type_for_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.utils.translation import gettext

from core.audit import object_label
from core.exceptions import StateConflict

SERVICE_ERRORS = (ValidationError, PermissionDenied, StateConflict)


def service_error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or gettext("You may not do that.")


class ServiceRefused(Exception):
    """A service refused a save: shown as an error message, never a server error."""


def service_call(service, *args, **kwargs):
    try:
        return service(*args, **kwargs)
    except SERVICE_ERRORS as error:
        raise ServiceRefused(service_error_text(error)) from error


def history_label(obj) -> str:
    """The model and id, never ``str(obj)``: that is a referral's alias or a person's name."""
    if obj.pk is None:
        return type(obj).__name__
    return object_label(type(obj), obj.pk)


class IdsInHistory:
    """Django's admin history (LogEntry) names every object by the model and its id only, as
    the access log does; the change message names changed inline objects the same way."""

    def log_addition(self, request, obj, message):
        return self._history_write(request, [obj], ADDITION, message)[0]

    def log_change(self, request, obj, message):
        return self._history_write(request, [obj], CHANGE, message)[0]

    def log_deletions(self, request, queryset):
        return self._history_write(request, queryset, DELETION, "")

    def construct_change_message(self, request, form, formsets, add=False):
        message = super().construct_change_message(request, form, formsets, add)
        # Django lists each formset's added, changed and deleted objects in this order.
        objects = iter(
            [
                obj
                for formset in formsets or ()
                for obj in (
                    *formset.new_objects,
                    *(changed for changed, _fields in formset.changed_objects),
                    *formset.deleted_objects,
                )
            ]
        )
        for entry in message:
            for detail in entry.values():
                if "object" in detail:
                    detail["object"] = history_label(next(objects))
        return message

    @staticmethod
    def _history_write(request, objects, flag, message) -> list[LogEntry]:
        if isinstance(message, list):
            message = json.dumps(message)
        entries = [
            LogEntry(
                user_id=request.user.pk,
                content_type_id=get_content_type_for_model(obj).pk,
                object_id=str(obj.pk),
                object_repr=history_label(obj),
                action_flag=flag,
                change_message=message,
            )
            for obj in objects
        ]
        for entry in entries:
            entry.save()
        return entries


class KoblingAdmin(IdsInHistory, admin.ModelAdmin):
    """The base of every ModelAdmin here. A save that calls a service and is refused (see
    ``service_call``) ends as an error message on the same page; the admin's transaction is
    rolled back first, so nothing of it is saved."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRefused as refused:
            self.message_user(request, str(refused), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class SuperusersOnly:
    """For admins only, whatever model permissions a group may hold."""

    def _by_superuser(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self._by_superuser(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._by_superuser(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._by_superuser(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._by_superuser(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._by_superuser(request) and super().has_delete_permission(request, obj)


class ScopedAdmin(KoblingAdmin):
    """Reads go through a ``*_visible_to(user)`` selector, never the bare manager."""

    # Each subclass names its selector: a plain function of the user, called on the class.
    visible_to: ClassVar[Callable[[Any], QuerySet[Any]]]

    def get_queryset(self, request):
        return type(self).visible_to(request.user)


class ReadOnlyAdminMixin:
    """Shown in the back office, never added, changed or deleted there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

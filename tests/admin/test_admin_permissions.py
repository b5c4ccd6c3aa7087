"""Every model in the back office × every role: which pages open, whether the change form saves,
which actions are offered, and that nothing reaches an object outside the role's scope. A model
registered in the admin without joining EXPECTED fails test_every_registered_model_is_expected.

Roles not named for a model are refused everything (403, or the login page for those who are
not staff). Staff hold the demo's groups (demo/builder.py), which is how they get into the
back office; the ModelAdmins narrow that to what the services allow.
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.messages import ERROR, get_messages
from django.urls import reverse

from tests.admin.conftest import PLAYERS, subject_for

pytestmark = pytest.mark.django_db

NONE, VIEW, CHANGE = "none", "view", "change"


@dataclass(frozen=True)
class Access:
    pages: str = NONE  # the change form: NONE, VIEW (read-only) or CHANGE (it saves)
    add: bool = False
    actions: frozenset[str] = field(default_factory=frozenset)


def view(*actions: str) -> Access:
    return Access(VIEW, actions=frozenset(actions))


def change(*actions: str, add: bool = False) -> Access:
    return Access(CHANGE, add=add, actions=frozenset(actions))


FULL = change("delete_selected", add=True)
AXES = change("delete_selected")
REFERENCE = {"admin": view(), "coordinator": view(), "staff": view()}
REVIEW = {"admin": view("approve", "reject"), "coordinator": view("approve", "reject")}

EXPECTED: dict[str, dict[str, Access]] = {
    "auth.Group": {"admin": FULL},
    "auth.User": {"admin": change("delete_selected", "deactivate", add=True)},
    "otp_totp.TOTPDevice": {"admin": FULL},
    "otp_static.StaticDevice": {"admin": FULL},
    "axes.AccessAttempt": {"admin": change("delete_selected", "cleanup_expired_attempts")},
    "axes.AccessLog": {"admin": AXES},
    "axes.AccessFailureLog": {"admin": AXES},
    "programmes.County": {"admin": view()},
    "programmes.Municipality": REFERENCE,
    "programmes.PostalCode": REFERENCE,
    "programmes.Organisation": {"admin": FULL},
    "programmes.CrisisCentre": {"admin": FULL, "coordinator": view(), "staff": view()},
    "programmes.Programme": {"admin": FULL, "coordinator": view()},
    "programmes.Activity": {"admin": change("delete_selected", "offer", "stop_offering", add=True)},
    "programmes.ProgrammeSite": {
        "admin": change("delete_selected", "start_match_run", add=True),
        "coordinator": view("start_match_run"),
        "staff": view(),
    },
    "programmes.Referral": {
        # Only the referring centre's staff correct a referral (referral_update).
        "admin": view("accept_into_queue", "participant_access_report", "participant_erase"),
        "coordinator": view("accept_into_queue"),
        "staff": change(),
    },
    "programmes.AuditLogEntry": {"admin": view()},
    "volunteers.Volunteer": {
        "admin": change(add=True),
        "coordinator": change(),  # vetting records only; every field is read-only
    },
    "volunteers.VolunteerDeletionRequest": {"admin": view("erase_volunteer", "decline")},
    "matching.MatchRun": {"admin": view(), "coordinator": view()},
    "matching.Proposal": REVIEW,
    "matching.UnmatchedReferral": {"admin": view(), "coordinator": view()},
    "matching.Match": {"admin": view(), "coordinator": view(), "staff": view()},
    "matching.Agreement": {"admin": view(), "coordinator": view(), "staff": view()},
    "matching.AgreementTerms": {"admin": FULL},
}

REGISTERED = sorted(model._meta.label for model in admin.site._registry)


def test_every_registered_model_is_expected():
    assert sorted(EXPECTED) == REGISTERED


class FormFields(HTMLParser):
    """The fields a browser would send from the form with ``form_id``, as they are shown."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.select = self.textarea = None
        self.text: list[str] = []
        self.data: dict[str, list[str]] = {}

    def add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("id") == self.form_id
        elif not self.inside or ("name" not in attributes and tag != "option"):
            return
        elif tag == "input":
            kind = attributes.get("type", "text")
            unchecked = kind in ("checkbox", "radio") and "checked" not in attributes
            if kind not in ("submit", "button", "file", "image", "reset") and not unchecked:
                self.add(attributes["name"], attributes.get("value") or "")
        elif tag == "select":
            self.select = attributes["name"]
        elif tag == "option" and self.select and "selected" in attributes:
            self.add(self.select, attributes.get("value") or "")
        elif tag == "textarea":
            self.textarea, self.text = attributes["name"], []

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.add(self.textarea, "".join(self.text).removeprefix("\n"))
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.text.append(data)


def form_data(response, model) -> dict[str, list[str]]:
    parser = FormFields(f"{model._meta.model_name}_form")
    parser.feed(response.content.decode())
    return parser.data


def snapshot(model, obj) -> dict | None:
    row = model._default_manager.filter(pk=obj.pk).values().first()
    return row


def refused(response) -> bool:
    """403, or sent to log in (not staff)."""
    if response.status_code == 403:
        return True
    return response.status_code == 302 and "login" in response.url


def kept_away(response) -> bool:
    """An object outside the scope: refused, or the admin's "does not exist" redirect."""
    return response.status_code in (302, 403, 404)


def urls(model, obj) -> dict[str, str]:
    info = model._meta.app_label, model._meta.model_name
    return {
        "changelist": reverse("admin:{}_{}_changelist".format(*info)),
        "add": reverse("admin:{}_{}_add".format(*info)),
        "change": reverse("admin:{}_{}_change".format(*info), args=[obj.pk]) if obj else "",
    }


def all_actions(model_admin) -> set[str]:
    names = {name for name, _action in admin.site.actions}
    return names | {a if isinstance(a, str) else a.__name__ for a in model_admin.actions or ()}


def offered_actions(response) -> set[str]:
    if response.status_code != 200 or not response.context.get("action_form"):
        return set()
    choices = response.context["action_form"].fields["action"].choices
    return {value for value, _label in choices if value}


def problems(response) -> list:
    """What the admin said was wrong with a save, for the assertion's message."""
    shown = [str(m) for m in get_messages(response.wsgi_request) if m.level == ERROR]
    form = response.context and response.context.get("adminform")
    return shown + ([form.form.errors] if form else [])


@pytest.mark.parametrize("label", REGISTERED)
@pytest.mark.parametrize("role", list(PLAYERS))
def test_back_office_access(back_office, label, role):
    model = next(m for m in admin.site._registry if m._meta.label == label)
    model_admin = admin.site._registry[model]
    subject = subject_for(back_office, label)
    expected = EXPECTED.get(label, {}).get(role, Access())
    outside = subject.outside if role != "admin" else None
    client = back_office.client_as(role)
    inside = urls(model, subject.inside)

    listing = client.get(inside["changelist"])
    if expected.pages == NONE:
        assert refused(listing)
    else:
        assert listing.status_code == 200
    assert offered_actions(listing) == expected.actions

    add = client.get(inside["add"])
    assert add.status_code == 200 if expected.add else refused(add)

    page = client.get(inside["change"])
    if expected.pages == NONE:
        assert refused(page)
    else:
        assert page.status_code == 200
        assert page.context["has_change_permission"] == (expected.pages == CHANGE)

    before = snapshot(model, subject.inside)
    payload = form_data(page, model) if page.status_code == 200 else {}
    saved = client.post(inside["change"], {**payload, "_save": "Save"})
    if expected.pages == CHANGE:
        assert (saved.status_code, saved.url) == (302, inside["changelist"]), problems(saved)
    else:
        assert refused(saved)
        assert snapshot(model, subject.inside) == before

    for name in sorted(all_actions(model_admin)):
        before = snapshot(model, subject.inside)
        selected = {"action": name, "_selected_action": [subject.inside.pk], "index": 0}
        response = client.post(inside["changelist"], selected)
        assert response.status_code < 500, name
        if name not in expected.actions:
            assert snapshot(model, subject.inside) == before, name

    if outside is None:
        return
    away = urls(model, outside)
    before = snapshot(model, outside)
    assert kept_away(client.get(away["change"]))
    assert kept_away(client.post(away["change"], {**payload, "_save": "Save"}))
    for name in sorted(all_actions(model_admin)):
        selected = {"action": name, "_selected_action": [outside.pk], "index": 0}
        assert client.post(away["changelist"], selected).status_code < 500, name
    assert snapshot(model, outside) == before

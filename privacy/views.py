"""The volunteer's "Your data" pages: download a copy of everything Kobling holds about them,
and ask for it to be deleted."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from privacy.volunteers import volunteer_data_export, volunteer_deletion_request
from volunteers.views import own_volunteer_or_404


@login_required
def privacy(request):
    volunteer = own_volunteer_or_404(request.user)
    open_request = volunteer.deletion_requests.filter(handled_at__isnull=True).first()
    return render(request, "privacy/your_data.html", {"open_request": open_request})


@login_required
def privacy_download(request):
    volunteer = own_volunteer_or_404(request.user)
    export = volunteer_data_export(volunteer, exported_by=request.user)
    response = HttpResponse(
        json.dumps(export, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    filename = f"kobling-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def privacy_delete(request):
    """A confirmation page first; the request is recorded only when the volunteer confirms."""
    volunteer = own_volunteer_or_404(request.user)
    if request.method == "GET":
        return render(request, "privacy/your_data_delete.html", {"volunteer": volunteer})
    volunteer_deletion_request(volunteer)
    messages.success(
        request,
        _("We have received your request. An administrator will delete your data."),
    )
    return redirect("volunteer_privacy")

"""Pages of the programmes app that need nothing of the others. The home page and the referral
pages are in casework (casework/home.py, casework/referral_views.py)."""

from django.shortcuts import redirect, render
from django.templatetags.static import static


def about(request):
    return render(request, "programmes/about.html")


def accessibility(request):
    """The accessibility statement (tilgjengelighetserklæring) that Norwegian law asks of a
    public-sector web service."""
    return render(request, "programmes/accessibility.html")


def favicon(request):
    """Browsers ask for /favicon.ico where a page names no icon (the admin, the API's JSON)."""
    return redirect(static("kobling/favicon.svg"), permanent=True)

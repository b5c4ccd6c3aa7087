from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from config.api_urls import api_urls
from config.health import health, live

urlpatterns = [
    path("health/", health, name="health"),
    path("health/live/", live, name="health-live"),
    path("health/ready/", health, name="health-ready"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    *api_urls(),
    path("", include("casework.urls")),
    path("", include("matching.urls")),
    path("", include("volunteers.urls")),
    path("", include("privacy.urls")),
    path("", include("programmes.urls")),
]

admin.site.site_header = admin.site.site_title = _("Kobling back office")

handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"

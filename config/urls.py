from django.contrib import admin
from django.urls import include, path

from config.api import api_urls
from config.health import health

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/", include("config.accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    *api_urls(),
    path("", include("matching.urls")),
    path("", include("volunteers.urls")),
    path("", include("programmes.urls")),
]

handler400 = "config.errors.bad_request"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"

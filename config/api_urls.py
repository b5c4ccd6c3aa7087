"""The URL table of /api/v1/, its schema and its documentation page."""

from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from casework import api as casework_api
from matching import api as matching_api
from volunteers import api as volunteers_api


@csrf_exempt
def api_not_found(request):
    """A JSON 404 for any /api/ address no route takes, so clients never get an HTML page (not
    even the CSRF failure page: there is nothing here to protect)."""
    return JsonResponse({"detail": _("Not found.")}, status=404)


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served as a file of its own (``?script``) and no
    inline style, so it runs under the Content Security Policy."""

    template_name = "api/swagger_ui.html"


def api_urls() -> list:
    """/api/v1/ and the schema."""
    router = SimpleRouter()
    for module in (casework_api, matching_api):
        for prefix, viewset, basename in module.ROUTES:
            router.register(prefix, viewset, basename=basename)
    v1 = [*volunteers_api.URLS, *router.urls]
    return [
        path("api/v1/", include((v1, "api"), namespace="api")),
        path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
        path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
        re_path(r"^api/", api_not_found),
    ]

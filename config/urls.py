"""Root URLs (CONTRACT §3): wiring only; the admin site is composed by `desk.admin`."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.exceptions import api_not_found, not_found
from config.health import healthz, readyz

api_v1 = [
    path("", include("groups.api.urls")),
    path("", include("messaging.api.urls")),
    path("", include("webhooks.api.urls")),
    path("", include("integrations.api.urls")),
]

urlpatterns = [
    path("", include("desk.urls")),  # Before `admin/`: the dashboard lives under it.
    path("admin/", admin.site.urls),
    path("webhooks/", include("webhooks.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # Any other /api/ URL: the API's JSON 404 also with DEBUG (make run), where Django skips handler404. Only
    # URLs ending in a slash, so /api/v1/groups still redirects to /api/v1/groups/ (APPEND_SLASH).
    re_path(r"^api/.*/$", api_not_found),
    # Browsers ask for /favicon.ico on pages that name none (the API's JSON, the docs).
    path("favicon.ico", RedirectView.as_view(url=static("groupdesk/favicon.svg"), permanent=True)),
    path("healthz/", healthz, name="healthz"),
    path("readyz/", readyz, name="readyz"),
]

handler404 = not_found

"""Root URLs (CONTRACT §3)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.exceptions import not_found
from config.health import healthz, readyz
from config.paginator import use_estimated_counts
from webhooks.dashboard import dashboard_view

admin.site.site_header = "Groupdesk"
admin.site.site_title = "Groupdesk"
admin.site.index_title = "Support desk"
# A million messages: no changelist of ours runs a full COUNT(*) (issue 8, docs/benchmarks.md).
use_estimated_counts(admin.site, app_labels=("groups", "messaging", "webhooks"))

api_v1 = [
    path("", include("groups.api.urls")),
    path("", include("messaging.api.urls")),
    path("", include("webhooks.api.urls")),
    path("", include("integrations.api.urls")),
]

urlpatterns = [
    path("admin/dashboard/", admin.site.admin_view(dashboard_view), name="desk-dashboard"),
    path("admin/", admin.site.urls),
    path("webhooks/", include("webhooks.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz/", healthz, name="healthz"),
    path("readyz/", readyz, name="readyz"),
]

handler404 = not_found

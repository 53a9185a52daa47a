"""REST routes of the webhooks app, mounted under /api/v1/."""

from django.urls import path

from webhooks.api.views import WebhookEventDetailApi, WebhookEventListApi, WebhookEventReprocessApi

app_name = "webhooks"

urlpatterns = [
    path("webhook-events/", WebhookEventListApi.as_view(), name="webhook-event-list"),
    path("webhook-events/<int:pk>/", WebhookEventDetailApi.as_view(), name="webhook-event-detail"),
    path("webhook-events/<int:pk>/reprocess/", WebhookEventReprocessApi.as_view(), name="webhook-event-reprocess"),
]

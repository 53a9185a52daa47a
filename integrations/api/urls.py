"""REST routes of the integrations app, mounted under /api/v1/."""

from django.urls import path

from integrations.api import views

app_name = "integrations"

urlpatterns = [
    path("webhook-endpoints/", views.EndpointListApi.as_view(), name="endpoint-list"),
    path("webhook-endpoints/<int:pk>/", views.EndpointDetailApi.as_view(), name="endpoint-detail"),
    path("webhook-endpoints/<int:pk>/rotate-secret/", views.EndpointRotateSecretApi.as_view(),
         name="endpoint-rotate-secret"),
    path("webhook-endpoints/<int:pk>/ping/", views.EndpointPingApi.as_view(), name="endpoint-ping"),
    path("webhook-endpoints/<int:pk>/deliveries/", views.DeliveryListApi.as_view(), name="delivery-list"),
    path("webhook-endpoints/<int:pk>/deliveries/resend-failed/", views.DeliveryResendFailedApi.as_view(),
         name="delivery-resend-failed"),
    path("webhook-endpoints/<int:pk>/deliveries/<int:delivery_id>/", views.DeliveryDetailApi.as_view(),
         name="delivery-detail"),
    path("webhook-endpoints/<int:pk>/deliveries/<int:delivery_id>/resend/", views.DeliveryResendApi.as_view(),
         name="delivery-resend"),
]

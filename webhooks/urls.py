"""The endpoint Meta calls (CONTRACT §4)."""

from django.urls import path

from webhooks.views import WhatsAppWebhookView

urlpatterns = [path("whatsapp/", WhatsAppWebhookView.as_view(), name="whatsapp-webhook")]

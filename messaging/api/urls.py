"""REST routes of the messaging app, mounted under /api/v1/."""

from django.urls import path

from messaging.api import details, pins, views

app_name = "messaging"

urlpatterns = [
    path("messages/", views.MessageListCreateApi.as_view(), name="message-list"),
    path("messages/<int:pk>/", views.MessageDetailApi.as_view(), name="message-detail"),
    path("messages/<int:pk>/statuses/", views.MessageStatusListApi.as_view(), name="message-statuses"),
    path("messages/<int:pk>/statuses/<int:status_change>/", details.MessageStatusDetailApi.as_view(),
         name="message-status-detail"),
    path("messages/<int:pk>/receipts/", views.MessageReceiptListApi.as_view(), name="message-receipts"),
    path("messages/<int:pk>/receipts/<int:receipt>/", details.MessageReceiptDetailApi.as_view(),
         name="message-receipt-detail"),
    path("messages/<int:pk>/retry/", views.MessageRetryApi.as_view(), name="message-retry"),
    path("inbound-messages/", views.InboundMessageListApi.as_view(), name="inbound-message-list"),
    path("inbound-messages/<int:pk>/", details.InboundMessageDetailApi.as_view(), name="inbound-message-detail"),
    path("pins/", pins.PinListCreateApi.as_view(), name="pin-list"),
    path("pins/", pins.PinListCreateApi.as_view(), name="pin-create"),  # Same route: POST on the list.
    path("pins/<int:pk>/", pins.PinDetailApi.as_view(), name="pin-detail"),
    path("pins/<int:pk>/unpin/", pins.PinUnpinApi.as_view(), name="pin-unpin"),
]

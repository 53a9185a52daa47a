"""Webhook events API (staff with the model permissions, as in the admin): list, detail, reprocess."""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ModelPermissions
from config.filters import UTCIsoDateTimeFilter
from core.audit import audit_record
from core.models import Source
from webhooks.api.serializers import WebhookEventDetailSerializer, WebhookEventSerializer
from webhooks.models import WebhookAuditAction, WebhookEvent
from webhooks.selectors import webhook_event_list
from webhooks.services import webhook_event_reprocess

WEBHOOK_EVENT_LIST_COLUMNS = (
    "id", "received_at", "fields", "state", "error", "attempts", "deliveries", "processed_at", "item_counts",
)


class ReprocessPermission(ModelPermissions):
    """Reprocessing needs `webhooks.reprocess_webhookevent` (Support lead), on top of being staff."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["webhooks.reprocess_webhookevent"]}


class WebhookEventFilter(django_filters.FilterSet):
    field = django_filters.CharFilter(method="filter_field", help_text="A change field, e.g. `messages`.")
    received_after = UTCIsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = UTCIsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = WebhookEvent
        fields = ["state"]

    def filter_field(self, queryset, name, value):
        return queryset.filter(fields__icontains=f'"{value}"')


# Raw payloads hold phone numbers, names and texts: staff only, and only with view_webhookevent (as in the admin).
VIEW_PERMISSIONS = [permissions.IsAdminUser, ModelPermissions]


class WebhookEventListApi(generics.ListAPIView):
    """List stored webhook events, newest first."""

    permission_classes = VIEW_PERMISSIONS
    serializer_class = WebhookEventSerializer
    filterset_class = WebhookEventFilter

    def get_queryset(self):
        # Only the columns the list shows: the others are not loaded (nor parsed) for each of up to 500 rows.
        return webhook_event_list().only(*WEBHOOK_EVENT_LIST_COLUMNS)


class WebhookEventDetailApi(APIView):
    queryset = WebhookEvent.objects.all()  # For ModelPermissions.
    permission_classes = VIEW_PERMISSIONS

    @extend_schema(responses=WebhookEventDetailSerializer, summary="Show one webhook event with its payload")
    def get(self, request, pk: int):
        event = get_object_or_404(WebhookEvent, pk=pk)
        return Response(WebhookEventDetailSerializer(event).data)


class WebhookEventReprocessApi(APIView):
    queryset = WebhookEvent.objects.all()
    permission_classes = [permissions.IsAdminUser, ReprocessPermission]

    @extend_schema(
        request=None,
        responses={202: WebhookEventSerializer},
        summary="Process a failed, ignored or pending event again",
    )
    def post(self, request, pk: int):
        event = get_object_or_404(WebhookEvent, pk=pk)
        event = webhook_event_reprocess(event=event)
        # webhook_event_reprocess takes no actor, so the adapter records the staff action.
        audit_record(actor=request.user, action=WebhookAuditAction.WEBHOOK_EVENT_REPROCESS, target=event,
                     source=Source.API)
        return Response(WebhookEventSerializer(event).data, status=status.HTTP_202_ACCEPTED)

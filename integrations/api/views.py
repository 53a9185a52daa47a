"""REST views of webhook endpoints and their deliveries (`/api/v1/webhook-endpoints/`); each write calls a service."""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ModelPermissions
from integrations.api.serializers import (
    DeliveryDetailSerializer,
    DeliveryOutputSerializer,
    EndpointInputSerializer,
    EndpointOutputSerializer,
    EndpointWithSecretSerializer,
    ResendCountSerializer,
    ResendFailedInputSerializer,
)
from integrations.models import Delivery, WebhookEndpoint
from integrations.selectors import delivery_list, endpoint_list
from integrations.services.endpoints import (
    deliveries_resend_failed,
    delivery_resend,
    endpoint_create,
    endpoint_ping,
    endpoint_secret_rotate,
    endpoint_update,
)


class ChangePermission(ModelPermissions):
    """Actions that change an endpoint (rotate, ping, resend) need `change_webhookendpoint`."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


def _with_secret(result) -> dict:
    return {**EndpointOutputSerializer(result.endpoint).data, "secret": result.secret}


class EndpointListApi(generics.ListAPIView):
    """List webhook endpoints, or create one (its secret is shown in the answer only)."""

    queryset = WebhookEndpoint.objects.all()
    permission_classes = [ModelPermissions]
    serializer_class = EndpointOutputSerializer

    def get_queryset(self):
        return endpoint_list()

    @extend_schema(request=EndpointInputSerializer, responses={201: EndpointWithSecretSerializer},
                   summary="Create a webhook endpoint (the answer shows its secret once)")
    def post(self, request):
        data = EndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created = endpoint_create(**data.validated_data, created_by=request.user)
        return Response(_with_secret(created), status=status.HTTP_201_CREATED)


class EndpointDetailApi(APIView):
    queryset = WebhookEndpoint.objects.all()
    permission_classes = [ModelPermissions]

    @extend_schema(responses=EndpointOutputSerializer, summary="Show one webhook endpoint")
    def get(self, request, pk: int):
        return Response(EndpointOutputSerializer(get_object_or_404(WebhookEndpoint, pk=pk)).data)

    @extend_schema(request=EndpointInputSerializer(partial=True), responses=EndpointOutputSerializer,
                   summary="Change a webhook endpoint; `active: true` re-enables a disabled one")
    def patch(self, request, pk: int):
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        data = EndpointInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(EndpointOutputSerializer(endpoint_update(endpoint=endpoint, **data.validated_data)).data)

    @extend_schema(responses={204: None}, summary="Delete a webhook endpoint and its delivery log")
    def delete(self, request, pk: int):
        get_object_or_404(WebhookEndpoint, pk=pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointRotateSecretApi(APIView):
    queryset = WebhookEndpoint.objects.all()
    permission_classes = [ChangePermission]

    @extend_schema(request=None, responses=EndpointWithSecretSerializer,
                   summary="Give the endpoint a new secret (shown once); the old one also signs for 24 hours")
    def post(self, request, pk: int):
        rotated = endpoint_secret_rotate(endpoint=get_object_or_404(WebhookEndpoint, pk=pk))
        return Response(_with_secret(rotated))


class EndpointPingApi(APIView):
    queryset = WebhookEndpoint.objects.all()
    permission_classes = [ChangePermission]

    @extend_schema(request=None, responses={202: DeliveryOutputSerializer, 409: OpenApiResponse(
                       description="The endpoint is not active (`extra.fields.active`): enable it first.")},
                   summary="Send a `ping` event to this endpoint; its delivery shows the outcome (409 if inactive)")
    def post(self, request, pk: int):
        delivery = endpoint_ping(endpoint=get_object_or_404(WebhookEndpoint, pk=pk))
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryFilter(django_filters.FilterSet):
    class Meta:
        model = Delivery
        fields = ["state"]


class DeliveryListApi(generics.ListAPIView):
    """List an endpoint's deliveries, newest first (filter `state`)."""

    queryset = Delivery.objects.all()  # Reading the log needs `view_delivery`; rows come from get_queryset.
    permission_classes = [ModelPermissions]
    serializer_class = DeliveryOutputSerializer
    filterset_class = DeliveryFilter

    def get_queryset(self):
        return delivery_list(endpoint=get_object_or_404(WebhookEndpoint, pk=self.kwargs["pk"]))


class DeliveryDetailApi(APIView):
    queryset = Delivery.objects.all()
    permission_classes = [ModelPermissions]

    @extend_schema(responses=DeliveryDetailSerializer, summary="Show one delivery: the event sent and every attempt")
    def get(self, request, pk: int, delivery_id: int):
        delivery = get_object_or_404(delivery_list(endpoint=get_object_or_404(WebhookEndpoint, pk=pk)),
                                     pk=delivery_id)
        return Response(DeliveryDetailSerializer(delivery).data)


class DeliveryResendApi(APIView):
    queryset = WebhookEndpoint.objects.all()
    permission_classes = [ChangePermission]

    @extend_schema(request=None, responses={202: DeliveryOutputSerializer},
                   summary="Send the delivery's event again now (same `webhook-id`)")
    def post(self, request, pk: int, delivery_id: int):
        delivery = get_object_or_404(Delivery, endpoint_id=pk, pk=delivery_id)
        return Response(DeliveryOutputSerializer(delivery_resend(delivery=delivery)).data,
                        status=status.HTTP_202_ACCEPTED)


class DeliveryResendFailedApi(APIView):
    queryset = WebhookEndpoint.objects.all()
    permission_classes = [ChangePermission]

    @extend_schema(request=ResendFailedInputSerializer, responses={202: ResendCountSerializer},
                   summary="Send again every delivery of the endpoint that gave up, of events since a time")
    def post(self, request, pk: int):
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        data = ResendFailedInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = deliveries_resend_failed(endpoint=endpoint, since=data.validated_data["since"])
        return Response({"resent": count}, status=status.HTTP_202_ACCEPTED)

"""Every REST endpoint refuses who may not use it: anonymous 401, no permission 403 (CONTRACT §5).

The endpoints come from the URL resolver, so an endpoint added later is tested here without
anyone remembering to: it fails until it refuses, or until its URL kwargs are known below.
"""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework import permissions as drf_permissions

from tests.groups.factories import GroupFactory, JoinRequestFactory, ParticipantFactory
from tests.integrations.factories import WebhookEndpointFactory
from tests.messaging.factories import OutboundMessageFactory
from tests.messaging.pin_factories import PinFactory

pytestmark = pytest.mark.django_db

API_PREFIX = "api/v1/"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def _view_class(callback):
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def api_operations() -> list[tuple[str, str, type]]:
    """Return (route, method, view class) for every operation under /api/v1/, from the resolver."""
    seen, operations = set(), []
    for route, callback in _walk(get_resolver().url_patterns):
        if not route.startswith(API_PREFIX):
            continue
        view = _view_class(callback)
        assert view is not None, f"{route} is not a class-based view: test its permissions by hand"
        for method in HTTP_METHODS:
            if hasattr(view, method) and method in view.http_method_names and (route, method) not in seen:
                seen.add((route, method))
                operations.append((route, method, view))
    return operations


OPERATIONS = api_operations()


def _is_staff_only(view) -> bool:
    return any(issubclass(cls, drf_permissions.IsAdminUser) for cls in view.permission_classes)


def _required_permissions(view, method: str) -> set[str]:
    """The "app.codename" permissions the view's model-permission classes demand for `method`."""
    queryset = getattr(view, "queryset", None)
    required: set[str] = set()
    for cls in view.permission_classes:
        if queryset is not None and issubclass(cls, drf_permissions.DjangoModelPermissions):
            required |= set(cls().get_required_permissions(method.upper(), queryset.model))
    return required


@pytest.fixture
def objects():
    """One real object per kind of id in the routes, so a refusal is never a mere 404."""
    from groups.models import GroupEvent
    from integrations.services.endpoints import endpoint_ping
    from messaging.models import InboundMessage, MessageReceipt, MessageStatusChange
    from webhooks.models import WebhookEvent

    group = GroupFactory()
    message = OutboundMessageFactory(group=group)
    event = WebhookEvent.objects.create(received_at=timezone.now(), body=b"{}", sha256="a" * 64)
    delivery = endpoint_ping(endpoint=WebhookEndpointFactory())
    return {
        # The first id of a route, by its family.
        "phone-numbers": group.phone_number_id,
        "groups": group.pk,
        "messages": message.pk,
        "inbound-messages": InboundMessage.objects.create(wamid="wamid.IN1", type="text",
                                                          timestamp=timezone.now()).pk,
        "pins": PinFactory(group=group).pk,
        "webhook-events": event.pk,
        # A second id, by its URL kwarg: a row of the first.
        "participant": ParticipantFactory(group=group).pk,
        "join_request": JoinRequestFactory(group=group).pk,
        "event": GroupEvent.objects.create(group=group, type=GroupEvent.Type.SYNCED, occurred_at=timezone.now(),
                                           source="api").pk,
        "status_change": MessageStatusChange.objects.create(message=message, status="queued", source="api").pk,
        "receipt": MessageReceipt.objects.create(message=message, participant_key="wa:1").pk,
        "webhook-endpoints": delivery.endpoint_id,
        "delivery_id": delivery.pk,
    }


def _path(route: str, objects: dict) -> str:
    path = "/" + route
    if "<int:pk>" in path:
        kind = route.removeprefix(API_PREFIX).split("/", 1)[0]
        assert kind in objects, f"no test object for {route}: add one to the `objects` fixture"
        path = path.replace("<int:pk>", str(objects[kind]))
    for name in re.findall(r"<int:(\w+)>", path):
        assert name in objects, f"no test object for <int:{name}> in {route}: add one to the `objects` fixture"
        path = path.replace(f"<int:{name}>", str(objects[name]))
    assert "<" not in path, f"unknown URL kwargs in {route}: teach _path about them"
    return path


def test_the_resolver_lists_every_endpoint_family():
    routes = {route for route, _, _ in OPERATIONS}
    # Every family of CONTRACT §5; a broken walk would otherwise test nothing and pass.
    for expected in ("phone-numbers/", "groups/", "groups/<int:pk>/invite-link/reset/", "messages/<int:pk>/retry/",
                     "inbound-messages/", "pins/<int:pk>/unpin/", "webhook-events/<int:pk>/reprocess/"):
        assert API_PREFIX + expected in routes
    assert len(OPERATIONS) >= 25


@pytest.mark.parametrize(("route", "method", "view"), OPERATIONS,
                         ids=[f"{m.upper()} /{r}" for r, m, _ in OPERATIONS])
def test_anonymous_is_refused_with_401(api_client, objects, route, method, view):
    # when
    response = getattr(api_client, method)(_path(route, objects), {}, format="json")
    # then
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize(("route", "method", "view"), OPERATIONS,
                         ids=[f"{m.upper()} /{r}" for r, m, _ in OPERATIONS])
def test_a_user_without_the_permission_is_refused_with_403(api_client, django_user_model, objects, route, method,
                                                           view):
    # given: a user holding every permission except the ones this operation needs (all of them, but not
    # staff, for the staff-only endpoints)
    user = django_user_model.objects.create_user(username="outsider", password="pw-123456789")
    granted = list(Permission.objects.select_related("content_type"))
    if not _is_staff_only(view):
        required = _required_permissions(view, method)
        assert required, f"{method.upper()} /{route} needs neither a model permission nor staff"
        granted = [p for p in granted if f"{p.content_type.app_label}.{p.codename}" not in required]
    user.user_permissions.set(granted)
    api_client.force_authenticate(django_user_model.objects.get(pk=user.pk))
    # when
    response = getattr(api_client, method)(_path(route, objects), {}, format="json")
    # then
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize(("route", "method", "view"), [op for op in OPERATIONS if not _is_staff_only(op[2])],
                         ids=[f"{m.upper()} /{r}" for r, m, v in OPERATIONS if not _is_staff_only(v)])
def test_a_user_with_no_permission_at_all_is_refused_with_403(api_client, user_with_perms, objects, route, method,
                                                              view):
    # given: even staff status gives nothing without the model permission
    api_client.force_authenticate(user_with_perms(is_staff=True))
    # when
    response = getattr(api_client, method)(_path(route, objects), {}, format="json")
    # then
    assert response.status_code == 403, response.content

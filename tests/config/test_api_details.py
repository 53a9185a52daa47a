"""Every list resource of the REST API has its detail (issue 16 §2), found by walking the OpenAPI schema.

A list is any GET whose answer is a page (`results`); its detail is the same path plus `{<id>}/`, in the schema,
answering 200 for a row the list shows and 404 for a missing one, under the list's own permissions.
"""

import re
from datetime import UTC, datetime

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

from groups.models import GroupEvent
from integrations.services.endpoints import endpoint_ping
from messaging.models import InboundMessage, MessageReceipt
from messaging.services import message_create
from messaging.services.pins import pin_create
from tests.groups.factories import GroupFactory, JoinRequestFactory, ParticipantFactory, PhoneNumberFactory
from tests.integrations.factories import WebhookEndpointFactory
from tests.messaging.factories import OutboundMessageFactory
from tests.spec import webhook_body
from webhooks.services import webhook_event_record

pytestmark = pytest.mark.django_db

MISSING = 987654321


def _group_row(make):
    def build():
        group = GroupFactory()
        return [group.pk, make(group).pk]

    return build


def _message_row(make):
    def build():
        message = message_create(group=GroupFactory(), type="text", content={"body": "Hi"})  # Writes `queued`.
        return [message.pk, make(message).pk]

    return build


def _pin():
    message = OutboundMessageFactory(accepted=True)
    return pin_create(group=message.group, message_id=message.wamid, expiration_days=7)


def _delivery_ids(delivery) -> list[int]:
    return [delivery.endpoint_id, delivery.pk]


# One builder per list: it makes a row the list shows and returns the path's ids. A new list with no
# builder here fails test_every_list_is_known, so it cannot be added without its detail.
ROWS = {
    "/api/v1/phone-numbers/": lambda: [PhoneNumberFactory().pk],
    "/api/v1/groups/": lambda: [GroupFactory().pk],
    "/api/v1/groups/{id}/participants/": _group_row(lambda group: ParticipantFactory(group=group)),
    "/api/v1/groups/{id}/join-requests/": _group_row(lambda group: JoinRequestFactory(group=group)),
    "/api/v1/groups/{id}/events/": _group_row(lambda group: GroupEvent.objects.create(
        group=group, type=GroupEvent.Type.SYNCED, occurred_at=datetime(2026, 1, 1, tzinfo=UTC), source="api")),
    "/api/v1/messages/": lambda: [OutboundMessageFactory().pk],
    "/api/v1/messages/{id}/statuses/": _message_row(lambda message: message.status_changes.get()),
    "/api/v1/messages/{id}/receipts/": _message_row(lambda message: MessageReceipt.objects.create(
        message=message, participant_key="wa:16505551234", participant_wa_id="16505551234")),
    "/api/v1/inbound-messages/": lambda: [InboundMessage.objects.create(
        wamid="wamid.IN1", type="text", text="Hi", timestamp=datetime(2026, 1, 1, tzinfo=UTC)).pk],
    "/api/v1/pins/": lambda: [_pin().pk],
    "/api/v1/webhook-events/": lambda: [webhook_event_record(body=webhook_body("messages.status_sent"),
                                                             headers={})[0].pk],
    "/api/v1/webhook-endpoints/": lambda: [WebhookEndpointFactory().pk],
    "/api/v1/webhook-endpoints/{id}/deliveries/": lambda: _delivery_ids(endpoint_ping(
        endpoint=WebhookEndpointFactory())),
}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _is_page(schema: dict, response: dict) -> bool:
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    component = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    return "results" in component.get("properties", {})


def _list_paths(schema: dict) -> set[str]:
    return {path for path, operations in schema["paths"].items()
            if "get" in operations and _is_page(schema, operations["get"]["responses"].get("200", {}))}


def _detail_path(schema: dict, list_path: str) -> str:
    details = [path for path in schema["paths"]
               if re.fullmatch(re.escape(list_path) + r"\{\w+\}/", path) and "get" in schema["paths"][path]]
    assert len(details) == 1, f"{list_path} has no detail route"
    return details[0]


def _url(path: str, ids: list[int]) -> str:
    parts = iter(ids)
    return re.sub(r"\{\w+\}", lambda _: str(next(parts)), path)


def test_every_list_is_known(schema):
    assert _list_paths(schema) == set(ROWS)


@pytest.mark.parametrize("list_path", sorted(ROWS))
def test_every_list_has_a_detail_answering_200_and_404(schema, admin_api, list_path):
    # given
    detail = _detail_path(schema, list_path)
    ids = ROWS[list_path]()
    listed = admin_api.get(_url(list_path, ids[:-1]))
    # when
    found = admin_api.get(_url(detail, ids))
    missing = admin_api.get(_url(detail, [*ids[:-1], MISSING]))
    # then: the detail is the row its list shows
    assert found.status_code == 200, found.content
    row = next(item for item in listed.json()["results"] if item.get("id") == ids[-1])
    assert {key: found.json()[key] for key in row} == row
    assert missing.status_code == 404
    assert set(missing.json()) >= {"code", "message"}


@pytest.mark.parametrize("list_path", sorted(ROWS))
def test_every_detail_needs_the_lists_permissions(schema, api_client, user_with_perms, list_path):
    # given: staff holding nothing, and staff holding only the view permission of the list's model
    detail = _detail_path(schema, list_path)
    ids = ROWS[list_path]()
    list_url, detail_url = _url(list_path, ids[:-1]), _url(detail, ids)
    view = resolve(list_url).func.view_class
    model = (view.queryset if view.queryset is not None else view().get_queryset()).model
    view_perm = f"{model._meta.app_label}.view_{model._meta.model_name}"
    nothing = user_with_perms(is_staff=True, username="nothing")
    viewer = user_with_perms(view_perm, is_staff=True, username="viewer")
    for user, expected in ((nothing, 403), (viewer, 200)):
        # when
        api_client.force_authenticate(user)
        listing, answer = api_client.get(list_url), api_client.get(detail_url)
        # then: the detail answers as its list does
        assert answer.status_code == listing.status_code, (user.username, answer.content)
        if list_path != "/api/v1/webhook-events/":  # Staff-only today; issue 16 §5 moves it to model permissions.
            assert answer.status_code == expected, user.username
    api_client.force_authenticate(None)
    assert api_client.get(detail_url).status_code == 401

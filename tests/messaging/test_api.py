"""REST: /messages/ (list, filters, create with validation and Idempotency-Key), statuses, receipts, retry, inbound."""

import json

import pytest

from messaging.models import InboundMessage, OutboundMessage
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory
from tests.messaging.pin_factories import PinFactory
from tests.spec import SPEC_PHONE_NUMBER_ID, graph_json, webhook_body

pytestmark = pytest.mark.django_db

MESSAGES_URL = f"https://graph.meta.test/v25.0/{SPEC_PHONE_NUMBER_ID}/messages"
WAMID = "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwQzJGNEExRDhFNkI3QzkwQQA="


@pytest.fixture
def group():
    group = GroupFactory(spec_g1=True)
    for wa_id in ("16505551234", "447700900123", "5511987654321"):
        ParticipantFactory(group=group, wa_id=wa_id)
    return group


def test_create_queues_the_message_and_sends_it_on_commit(admin_api, group, graph, django_capture_on_commit_callbacks):
    # given
    graph.post(MESSAGES_URL, json=graph_json("send_text_to_group.response"))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(
            "/api/v1/messages/", {"group": group.pk, "type": "text", "text": {"body": "Hello"}}, format="json"
        )
    # then
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "queued"
    assert body["text"] == {"preview_url": False, "body": "Hello"}
    assert "image" not in body
    assert OutboundMessage.objects.get().status == "accepted"


def test_create_with_the_same_idempotency_key_sends_once(admin_api, group, graph, django_capture_on_commit_callbacks):
    # given
    graph.post(MESSAGES_URL, json=graph_json("send_text_to_group.response"))
    payload = {"group": group.pk, "type": "text", "text": {"body": "Hello"}}
    # when
    with django_capture_on_commit_callbacks(execute=True):
        first = admin_api.post("/api/v1/messages/", payload, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    with django_capture_on_commit_callbacks(execute=True):
        again = admin_api.post("/api/v1/messages/", payload, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    other = admin_api.post("/api/v1/messages/", {**payload, "text": {"body": "Other"}}, format="json",
                           HTTP_IDEMPOTENCY_KEY="abc")
    # then
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["id"] == again.json()["id"]
    assert OutboundMessage.objects.count() == 1
    assert len(graph.calls) == 1
    assert other.status_code == 409
    assert "Idempotency-Key" in other.json()["extra"]["fields"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"group": None, "type": "text", "text": {"body": "x"}}, "group"),
        ({"group": 999999, "type": "text", "text": {"body": "x"}}, "group"),
        ({"type": "interactive", "interactive": {}}, "type"),
        ({"type": "reaction", "reaction": {}}, "type"),
        ({"type": "text", "text": {"body": "x" * 4097}}, "text.body"),
        ({"type": "text"}, "text"),
        ({"type": "image", "image": {"caption": "no media"}}, "image.id"),
        ({"type": "audio", "audio": {"id": "1", "caption": "c"}}, "audio.caption"),
        ({"type": "template", "template": {"name": "x"}}, "template.language"),
    ],
)
def test_create_rejects_invalid_input_naming_the_field(admin_api, group, payload, field):
    # given
    payload = {key: value for key, value in {"group": group.pk, **payload}.items() if value is not None}
    # when
    response = admin_api.post("/api/v1/messages/", payload, format="json")
    # then
    assert response.status_code == 400, response.json()
    assert field in response.json()["extra"]["fields"]
    assert OutboundMessage.objects.count() == 0


def test_unsupported_type_says_not_supported_in_groups(admin_api, group):
    response = admin_api.post("/api/v1/messages/", {"group": group.pk, "type": "location", "location": {}},
                              format="json")
    assert response.status_code == 400
    assert "not supported in groups" in response.json()["message"]


@pytest.mark.parametrize("traits", [{"state": "creating"}, {"suspended": True}, {"state": "deleted"}])
def test_create_refuses_a_group_that_cannot_receive(admin_api, traits):
    group = GroupFactory(**traits)
    response = admin_api.post("/api/v1/messages/", {"group": group.pk, "type": "text", "text": {"body": "x"}},
                              format="json")
    assert response.status_code == 400
    assert "group" in response.json()["extra"]["fields"]


def test_anonymous_gets_401(api_client):
    assert api_client.get("/api/v1/messages/").status_code == 401
    assert api_client.get("/api/v1/inbound-messages/").status_code == 401


def test_without_the_model_permission_gets_403(api_client, user_with_perms, group):
    # given
    message = OutboundMessageFactory(group=group)
    api_client.force_authenticate(user_with_perms("messaging.view_inboundmessage"))
    # when / then
    assert api_client.get("/api/v1/messages/").status_code == 403
    assert api_client.get(f"/api/v1/messages/{message.pk}/statuses/").status_code == 403
    assert api_client.post("/api/v1/messages/", {}, format="json").status_code == 403
    assert api_client.get("/api/v1/inbound-messages/").status_code == 200


def test_view_permission_cannot_send(api_client, user_with_perms, group):
    api_client.force_authenticate(user_with_perms("messaging.view_outboundmessage"))
    response = api_client.post("/api/v1/messages/", {"group": group.pk, "type": "text", "text": {"body": "x"}},
                               format="json")
    assert response.status_code == 403


def test_list_filters(admin_api, group):
    # given
    other = GroupFactory()
    failed = OutboundMessageFactory(group=group, status="failed", error_code="131020",
                                    error={"code": 131020, "title": "Bad group", "message": "", "details": ""})
    OutboundMessageFactory(group=group, accepted=True)
    OutboundMessageFactory(group=other)

    def ids(query):
        response = admin_api.get(f"/api/v1/messages/?{query}")
        assert response.status_code == 200, response.json()
        return {item["id"] for item in response.json()["results"]}

    # then
    assert len(ids(f"group={group.pk}")) == 2
    assert ids("status=failed") == {failed.pk}
    assert ids("error_code=131020") == {failed.pk}
    assert len(ids("created_after=2000-01-01T00:00:00Z")) == 3
    assert ids("created_before=2000-01-01T00:00:00Z") == set()
    bad = admin_api.get("/api/v1/messages/?status=nope")
    assert bad.status_code == 400
    assert "status" in bad.json()["extra"]["fields"]


def test_detail_statuses_and_receipts(admin_api, group, post_webhook):
    # given
    message = OutboundMessageFactory(group=group, accepted=True, wamid=WAMID)
    post_webhook(webhook_body("messages.status_delivered_aggregated"))
    post_webhook(webhook_body("messages.status_read_aggregated"))
    # when
    detail = admin_api.get(f"/api/v1/messages/{message.pk}/").json()
    statuses = admin_api.get(f"/api/v1/messages/{message.pk}/statuses/").json()
    receipts = admin_api.get(f"/api/v1/messages/{message.pk}/receipts/").json()
    # then
    assert (detail["status"], detail["delivered_count"], detail["read_count"]) == ("read", 3, 2)
    assert [s["status"] for s in statuses["results"]] == ["delivered"] * 3 + ["read"] * 2
    first = statuses["results"][0]
    assert set(first) >= {"status", "participant", "timestamp", "error", "received_at"}
    assert first["participant"] is not None
    assert len(receipts["results"]) == 3
    assert {"participant", "delivered_at", "read_at"} <= set(receipts["results"][0])


def test_retry_only_for_failed(admin_api, group, graph):
    # given
    failed = OutboundMessageFactory(group=group, status="failed", error_code="131020")
    accepted = OutboundMessageFactory(group=group, accepted=True)
    # when
    retried = admin_api.post(f"/api/v1/messages/{failed.pk}/retry/")
    refused = admin_api.post(f"/api/v1/messages/{accepted.pk}/retry/")
    # then
    assert retried.status_code == 202
    assert retried.json()["retry_of"] == failed.pk
    assert retried.json()["status"] == "queued"
    assert refused.status_code == 409
    assert "this one is" in refused.json()["extra"]["fields"]["status"][0]


def test_a_failure_is_retried_once_however_often_retry_is_asked(admin_api, group):
    # given
    failed = OutboundMessageFactory(group=group, status="failed", error_code="131020")
    # when: a double click
    first = admin_api.post(f"/api/v1/messages/{failed.pk}/retry/")
    second = admin_api.post(f"/api/v1/messages/{failed.pk}/retry/")
    # then: both answered with the one retry
    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["id"] == first.json()["id"]
    assert list(OutboundMessage.objects.filter(retry_of=failed).values_list("pk", flat=True)) == [first.json()["id"]]
    assert failed.status_changes.filter(detail__retry_id=first.json()["id"]).count() == 1


def test_a_failed_retry_is_retried_in_turn(admin_api, group):
    # given
    failed = OutboundMessageFactory(group=group, status="failed", error_code="131020")
    retry = OutboundMessageFactory(group=group, status="failed", error_code="131020", retry_of=failed)
    # when
    again = admin_api.post(f"/api/v1/messages/{retry.pk}/retry/")
    # then
    assert again.status_code == 202
    assert again.json()["retry_of"] == retry.pk
    assert again.json()["id"] not in {failed.pk, retry.pk}


@pytest.mark.parametrize("path", ["/api/v1/messages/", "/api/v1/inbound-messages/"])
@pytest.mark.parametrize("value", ["1e30", "99999999999999999999", "-1.5e61", "2.5", "0", "seven"])
def test_a_group_filter_that_is_not_an_id_is_a_400_naming_it(admin_api, group, path, value):
    # Without the check: a number past 64 bits was a 500 (OverflowError), and 2.5 or 0 an empty list.
    # when
    response = admin_api.get(path, {"group": value})
    # then
    assert response.status_code == 400, response.content
    assert list(response.json()["extra"]["fields"]) == ["group"]


@pytest.mark.django_db
def test_the_schema_gives_the_group_filters_as_integers(admin_api):
    # when
    schema = admin_api.get("/api/schema/?format=json").json()
    # then
    for path in ["/api/v1/messages/", "/api/v1/inbound-messages/"]:
        (group,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "group"]
        assert group["schema"] == {"type": "integer", "minimum": 1}, path


def test_every_field_a_pin_action_message_shows_is_in_the_schema(admin_api):
    # A pin or unpin is a message of type `pin` (made by /pins/); its content under `pin` was undocumented.
    # given
    pin = PinFactory()
    # when
    shown = admin_api.get(f"/api/v1/messages/{pin.pin_message_id}/").json()
    schemas = admin_api.get("/api/schema/?format=json").json()["components"]["schemas"]
    # then
    assert shown["type"] == "pin"
    assert set(shown) <= set(schemas["Message"]["properties"])
    assert schemas["Message"]["properties"]["pin"]["allOf"] == [{"$ref": "#/components/schemas/PinContent"}]
    assert set(shown["pin"]) <= set(schemas["PinContent"]["properties"])


def test_the_schema_lists_the_types_a_group_message_may_have(admin_api):
    # The schema said any string; only these six are sent (others: 400 "not supported in groups").
    # when
    schemas = admin_api.get("/api/schema/?format=json").json()["components"]["schemas"]
    # then
    (ref,) = schemas["MessageCreateInputRequest"]["properties"]["type"]["allOf"]
    assert schemas[ref["$ref"].rsplit("/", 1)[1]]["enum"] == ["text", "image", "video", "audio", "document", "template"]


def test_inbound_messages_list_with_group_filter(admin_api, group, post_webhook):
    # given
    post_webhook(webhook_body("messages.inbound_unsupported"))
    post_webhook(webhook_body("messages.inbound_text"))
    # when
    response = admin_api.get(f"/api/v1/inbound-messages/?group={group.pk}")
    empty = admin_api.get(f"/api/v1/inbound-messages/?group={GroupFactory().pk}")
    # then
    results = response.json()["results"]
    assert {r["type"] for r in results} == {"text", "unsupported"}
    unsupported = next(r for r in results if r["type"] == "unsupported")
    assert unsupported["error"]["code"] == 130501
    assert set(unsupported) == {"id", "group", "wamid", "from_wa_id", "from_user_id", "contact_name", "type", "text",
                                "content", "error", "timestamp"}
    assert empty.json()["results"] == []
    assert InboundMessage.objects.count() == 2


def test_schema_documents_the_message_endpoints(admin_api):
    schema = admin_api.get("/api/schema/?format=json")
    paths = json.loads(schema.content)["paths"]
    for path in ("/api/v1/messages/", "/api/v1/messages/{id}/statuses/", "/api/v1/messages/{id}/receipts/",
                 "/api/v1/messages/{id}/retry/", "/api/v1/inbound-messages/"):
        assert path in paths


MESSAGE_FIELDS = {
    "id", "group", "wamid", "type", "status", "error", "recipient_count", "delivered_count", "read_count",
    "retry_of", "created_at", "accepted_at", "sent_at", "delivered_at", "read_at", "failed_at",
}


@pytest.mark.parametrize(
    ("message_type", "content"),
    [
        ("text", {"body": "Hello", "preview_url": True}),
        ("image", {"link": "https://example.com/a.jpg", "caption": "A box"}),
        ("document", {"id": "1234", "filename": "label.pdf"}),
        ("template", {"name": "order_update", "language": {"code": "en_US"}}),
    ],
)
def test_message_fields_are_the_contract_names_with_the_content_under_its_type(
    admin_api, group, message_type, content
):
    # when
    response = admin_api.post(
        "/api/v1/messages/", {"group": group.pk, "type": message_type, message_type: content}, format="json"
    )
    detail = admin_api.get(f"/api/v1/messages/{response.json()['id']}/")
    # then
    assert response.status_code == 202, response.json()
    for body in (response.json(), detail.json()):
        assert set(body) == MESSAGE_FIELDS | {message_type}
        assert body[message_type] == {**content, **({"preview_url": True} if message_type == "text" else {})}
        assert (body["group"], body["type"], body["status"], body["wamid"]) == (group.pk, message_type, "queued", None)


def test_failed_message_error_has_the_contract_keys(admin_api, group, graph, django_capture_on_commit_callbacks):
    # given
    graph.post(MESSAGES_URL, json=graph_json("error.bad_group_131020"), status=400)
    with django_capture_on_commit_callbacks(execute=True):
        created = admin_api.post(
            "/api/v1/messages/", {"group": group.pk, "type": "text", "text": {"body": "x"}}, format="json"
        )
    # when
    body = admin_api.get(f"/api/v1/messages/{created.json()['id']}/").json()
    failed = admin_api.get("/api/v1/messages/?error_code=131020").json()["results"]
    # then
    assert body["status"] == "failed"
    assert set(body["error"]) == {"code", "title", "message", "details", "href"}
    assert body["error"]["code"] == 131020
    assert body["failed_at"] is not None
    assert [item["id"] for item in failed] == [body["id"]]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"type": "interactive", "interactive": {"type": "button"}}, "type"),
        ({"type": "sticker", "sticker": {"id": "1"}}, "type"),
        ({"type": "contacts", "contacts": [{"name": {"formatted_name": "A"}}]}, "type"),
        ({"type": "text", "text": {"body": ""}}, "text.body"),
        ({"type": "video", "video": {"link": "ftp://x/y.mp4"}}, "video.link"),
    ],
)
def test_a_refused_message_names_the_field_and_calls_meta_never(
    admin_api, group, graph, django_capture_on_commit_callbacks, payload, field
):
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_api.post("/api/v1/messages/", {"group": group.pk, **payload}, format="json")
    # then
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == [field]
    assert callbacks == []
    assert len(graph.calls) == 0
    if field == "type":
        assert "not supported in groups" in response.json()["message"]


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"type": "text", "text": {"body": "x"}, "image": {"link": "https://example.com/a.jpg"}}, "image"),
        ({"type": "image", "image": {"link": "https://example.com/a.jpg"}, "text": {"body": "x"}}, "text"),
        ({"type": "document", "document": {"link": "https://example.com/a.pdf"},
          "template": {"name": "hello_world", "language": {"code": "en_US"}}}, "template"),
    ],
)
def test_content_under_another_types_key_is_a_400_naming_it_and_nothing_is_sent(
    admin_api, group, graph, django_capture_on_commit_callbacks, payload, field
):
    # Without the check the other object was silently dropped: an integrator who meant the image sent the text.
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_api.post("/api/v1/messages/", {"group": group.pk, **payload}, format="json")
    # then
    assert response.status_code == 400, response.json()
    assert list(response.json()["extra"]["fields"]) == [field]
    assert payload["type"] in response.json()["extra"]["fields"][field][0]
    assert callbacks == [] and len(graph.calls) == 0
    assert OutboundMessage.objects.count() == 0


@pytest.mark.parametrize(
    ("traits", "reason"),
    [({"state": "creating"}, "creating"), ({"state": "deleting"}, "deleting"), ({"suspended": True}, "suspended")],
)
def test_a_group_that_cannot_receive_is_named_with_its_reason_and_nothing_is_sent(
    admin_api, graph, django_capture_on_commit_callbacks, traits, reason
):
    # given
    group = GroupFactory(**traits)
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_api.post(
            "/api/v1/messages/", {"group": group.pk, "type": "text", "text": {"body": "x"}}, format="json"
        )
    # then
    assert response.status_code == 400
    assert reason in response.json()["extra"]["fields"]["group"][0].lower()
    assert callbacks == [] and len(graph.calls) == 0


def test_an_idempotency_key_too_long_is_a_400_naming_the_header(admin_api, group, graph):
    response = admin_api.post(
        "/api/v1/messages/", {"group": group.pk, "type": "text", "text": {"body": "x"}}, format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 256,
    )
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["Idempotency-Key"]
    assert OutboundMessage.objects.count() == 0


def test_retry_answers_a_new_message_and_the_failure_stays_in_the_history(
    admin_api, group, graph, django_capture_on_commit_callbacks
):
    # given: a message Meta refused
    graph.post(MESSAGES_URL, json=graph_json("error.bad_group_131020"), status=400)
    with django_capture_on_commit_callbacks(execute=True):
        first = admin_api.post(
            "/api/v1/messages/", {"group": group.pk, "type": "text", "text": {"body": "x"}}, format="json"
        ).json()
    graph.post(MESSAGES_URL, json=graph_json("send_text_to_group.response"))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        retry = admin_api.post(f"/api/v1/messages/{first['id']}/retry/")
    # then
    assert retry.status_code == 202
    assert retry.json()["id"] != first["id"]
    assert (retry.json()["retry_of"], retry.json()["status"]) == (first["id"], "queued")
    original = admin_api.get(f"/api/v1/messages/{first['id']}/").json()
    history = [item["status"] for item in admin_api.get(f"/api/v1/messages/{first['id']}/statuses/").json()["results"]]
    assert (original["status"], original["error"]["code"]) == ("failed", 131020)
    assert history == ["queued", "sending", "failed", "retried"]
    assert admin_api.get(f"/api/v1/messages/{retry.json()['id']}/").json()["status"] == "accepted"


def test_statuses_and_receipts_have_the_contract_fields(admin_api, group, post_webhook):
    # given
    message = OutboundMessageFactory(group=group, accepted=True, wamid=WAMID)
    post_webhook(webhook_body("messages.status_read_aggregated"))
    # when
    statuses = admin_api.get(f"/api/v1/messages/{message.pk}/statuses/").json()["results"]
    receipts = admin_api.get(f"/api/v1/messages/{message.pk}/receipts/").json()["results"]
    # then
    maya = group.participants.get(wa_id="16505551234")
    read = next(item for item in statuses if item["participant"] == maya.pk)
    assert {"status", "participant", "timestamp", "error", "received_at"} <= set(read)
    assert (read["status"], read["timestamp"], read["error"]) == ("read", "2026-02-17T09:54:20Z", None)
    receipt = next(item for item in receipts if item["participant"] == maya.pk)
    assert {"participant", "delivered_at", "read_at"} <= set(receipt)
    assert receipt["delivered_at"] == receipt["read_at"] == "2026-02-17T09:54:20Z"


def test_inbound_list_answers_only_the_contract_fields(admin_api, group, post_webhook):
    post_webhook(webhook_body("messages.inbound_text_bsuid"))
    (item,) = admin_api.get("/api/v1/inbound-messages/").json()["results"]
    assert set(item) == {"id", "group", "wamid", "from_wa_id", "from_user_id", "contact_name", "type", "text",
                         "content", "error", "timestamp"}
    assert (item["group"], item["from_wa_id"], item["from_user_id"]) == (group.pk, "", "GB.48810273365190042771")
    assert item["contact_name"] == "Oliver Grant"

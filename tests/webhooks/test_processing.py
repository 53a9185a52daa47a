"""Processing stored events: every item dispatched on its own, outcomes kept, replay, sweep, retention."""

import hashlib
import json
from datetime import timedelta

import jsonschema
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groups.models import PhoneNumber
from tests.spec import sign, webhook_body
from webhooks.models import WebhookEvent
from webhooks.registry import HANDLERS, ItemContext
from webhooks.services import (
    webhook_event_process,
    webhook_event_record,
    webhook_events_delete_old,
    webhook_events_sweep_pending,
)

State = WebhookEvent.State


def _statuses_body(*statuses: dict) -> bytes:
    """A `messages` body whose statuses[] holds the given items (shaped like the spec samples)."""
    sample = json.loads(webhook_body("messages.status_delivered_aggregated"))
    sample["entry"][0]["changes"][0]["value"]["statuses"] = list(statuses)
    return json.dumps(sample).encode()


@pytest.fixture
def recording_handler(monkeypatch):
    """Register a statuses handler that records each item as a row, and fails items marked bad."""
    seen: list[ItemContext] = []

    def handle(item: dict, ctx: ItemContext) -> None:
        seen.append(ctx)
        PhoneNumber.objects.create(phone_number_id=item["id"], display_phone_number="1", waba_id=ctx.waba_id)
        if item.get("bad"):
            raise ValueError(f"cannot apply {item['id']}")

    monkeypatch.setitem(HANDLERS, ("messages", "statuses"), handle)
    return seen


@pytest.mark.django_db
def test_one_bad_item_fails_the_event_but_the_good_ones_are_applied(post_webhook, recording_handler):
    # given
    body = _statuses_body({"id": "a"}, {"id": "b", "bad": True}, {"id": "c"})
    # when
    response = post_webhook(body)
    # then
    assert response.status_code == 200
    assert set(PhoneNumber.objects.values_list("phone_number_id", flat=True)) == {"a", "c"}  # "b" rolled back
    event = WebhookEvent.objects.get()
    assert event.state == State.FAILED
    assert event.item_counts == {"processed": 2, "ignored": 0, "failed": 1, "deferred": 0}
    assert "entry[0].changes[0].statuses[1]" in event.error
    assert "cannot apply b" in event.error
    assert "ValueError" in event.traceback
    assert event.item_failures == [
        {
            "path": "entry[0].changes[0].statuses[1]",
            "field": "messages",
            "kind": "statuses",
            "state": "failed",
            "error": "ValueError: cannot apply b",
        }
    ]


@pytest.mark.django_db
def test_handlers_get_the_envelope_context(post_webhook, recording_handler):
    # when
    post_webhook(_statuses_body({"id": "a"}))
    # then
    (ctx,) = recording_handler
    assert (ctx.field, ctx.kind, ctx.path) == ("messages", "statuses", "entry[0].changes[0].statuses[0]")
    assert (ctx.waba_id, ctx.phone_number_id, ctx.display_phone_number) == (
        "102290129340398",
        "106540352242922",
        "15550783881",
    )
    assert ctx.event_id == WebhookEvent.objects.get().pk


@pytest.mark.django_db
def test_items_without_a_handler_leave_the_event_ignored(post_webhook, monkeypatch):
    # given
    monkeypatch.delitem(HANDLERS, ("messages", "statuses"), raising=False)
    # when
    post_webhook(webhook_body("messages.status_delivered_aggregated"))
    # then
    event = WebhookEvent.objects.get()
    assert event.state == State.IGNORED
    assert event.item_counts == {"processed": 0, "ignored": 3, "failed": 0, "deferred": 0}


@pytest.mark.django_db
def test_an_unknown_kind_in_a_handled_field_is_logged_as_a_warning(post_webhook, caplog):
    # given: a group item whose type Meta added after we wrote our handlers
    body = json.loads(webhook_body("group_status_update.suspended"))
    body["entry"][0]["changes"][0]["value"]["groups"][0]["type"] = "group_archived"
    # when
    post_webhook(json.dumps(body).encode())
    # then
    event = WebhookEvent.objects.get()
    assert event.state == State.IGNORED
    (record,) = [r for r in caplog.records if r.getMessage() == "webhook item has no handler"]
    assert record.levelname == "WARNING"
    assert (record.field, record.kind) == ("group_status_update", "group_archived")


@pytest.mark.django_db
def test_a_body_without_entries_fails_naming_the_problem(post_webhook):
    # when
    post_webhook(json.dumps({"object": "whatsapp_business_account"}).encode())
    # then
    event = WebhookEvent.objects.get()
    assert event.state == State.FAILED
    assert "no entry list" in event.error


@pytest.mark.django_db
def test_a_failed_event_replays_through_rest_once_its_handler_is_fixed(
    post_webhook, recording_handler, admin_api, monkeypatch
):
    # given: an event that failed on one item
    post_webhook(_statuses_body({"id": "a"}, {"id": "b", "bad": True}))
    event = WebhookEvent.objects.get()

    def fixed(item: dict, ctx: ItemContext) -> None:
        PhoneNumber.objects.get_or_create(phone_number_id=item["id"], defaults={"display_phone_number": "1"})

    monkeypatch.setitem(HANDLERS, ("messages", "statuses"), fixed)
    # when
    response = admin_api.post(f"/api/v1/webhook-events/{event.pk}/reprocess/")
    # then
    assert response.status_code == 202
    event.refresh_from_db()
    assert event.state == State.PROCESSED
    assert event.attempts == 2
    assert event.error == ""
    assert set(PhoneNumber.objects.values_list("phone_number_id", flat=True)) == {"a", "b"}


@pytest.mark.django_db
def test_a_processed_event_does_not_replay(post_webhook, recording_handler, admin_api):
    # given
    post_webhook(_statuses_body({"id": "a"}))
    event = WebhookEvent.objects.get()
    # when
    response = admin_api.post(f"/api/v1/webhook-events/{event.pk}/reprocess/")
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "not_replayable"


@pytest.mark.django_db
def test_the_management_command_replays_failed_events_since_a_date(post_webhook, monkeypatch, capsys):
    # given: two failed events, one of them old
    def broken(item, ctx):
        raise ValueError("broken")

    monkeypatch.setitem(HANDLERS, ("messages", "statuses"), broken)
    post_webhook(_statuses_body({"id": "old"}))
    post_webhook(_statuses_body({"id": "new"}))
    old, new = WebhookEvent.objects.order_by("pk")
    WebhookEvent.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=10))
    monkeypatch.setitem(HANDLERS, ("messages", "statuses"), lambda item, ctx: None)
    # when
    since = (timezone.now() - timedelta(days=1)).date().isoformat()
    call_command("reprocess_webhooks", "--failed", "--since", since)
    # then
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, new.state) == (State.FAILED, State.PROCESSED)
    assert "1 event(s) queued" in capsys.readouterr().out


@pytest.mark.django_db
def test_the_sweep_processes_events_left_pending(recording_handler):
    # given: an event stored while the broker was down (never queued)
    body = _statuses_body({"id": "a"})
    event, _ = webhook_event_record(body=body, headers={})
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    # when
    queued = webhook_events_sweep_pending()
    # then
    assert queued == 1
    event.refresh_from_db()
    assert event.state == State.PROCESSED
    assert PhoneNumber.objects.filter(phone_number_id="a").exists()


@pytest.mark.django_db
def test_a_claimed_event_is_not_processed_twice(recording_handler):
    # given: one worker holds the event
    event, _ = webhook_event_record(body=_statuses_body({"id": "a"}), headers={})
    WebhookEvent.objects.filter(pk=event.pk).update(claimed_until=timezone.now() + timedelta(minutes=1))
    # when
    result = webhook_event_process(event_id=event.pk)
    # then
    assert result is None
    assert not recording_handler


@pytest.mark.django_db
def test_retention_deletes_old_processed_and_ignored_events_only():
    # given
    old = timezone.now() - timedelta(days=31)
    for index, state in enumerate([State.PROCESSED, State.IGNORED, State.FAILED, State.PENDING]):
        WebhookEvent.objects.create(received_at=old, body=b"{}", sha256=f"{index:064d}", state=state)
    recent = WebhookEvent.objects.create(received_at=timezone.now(), body=b"{}", sha256="f" * 64, state=State.PROCESSED)
    # when
    deleted = webhook_events_delete_old(older_than_days=30)
    # then
    assert deleted == 2
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {State.FAILED, State.PENDING, State.PROCESSED}
    assert WebhookEvent.objects.filter(pk=recent.pk).exists()


@pytest.mark.django_db
def test_the_retention_command_refuses_less_than_14_days():
    with pytest.raises(CommandError, match="at least 14"):
        call_command("delete_old_webhook_events", "--days", "7")


# --- REST and admin -----------------------------------------------------------


@pytest.mark.django_db
def test_webhook_events_api_is_for_staff_only(api_client, user_with_perms, post_webhook):
    # given
    post_webhook(webhook_body("messages.status_sent"))
    non_staff = user_with_perms("webhooks.view_webhookevent")
    # then
    assert api_client.get("/api/v1/webhook-events/").status_code == 401
    api_client.force_authenticate(non_staff)
    assert api_client.get("/api/v1/webhook-events/").status_code == 403


@pytest.mark.django_db
def test_webhook_events_api_lists_filters_and_shows_the_payload(admin_api, post_webhook):
    # given
    post_webhook(webhook_body("messages.status_sent"))
    post_webhook(webhook_body("group_status_update.suspended"))
    # when
    listed = admin_api.get("/api/v1/webhook-events/", {"field": "group_status_update"}).json()
    detail = admin_api.get(f"/api/v1/webhook-events/{listed['results'][0]['id']}/").json()
    # then
    assert [e["fields"] for e in listed["results"]] == [["group_status_update"]]
    assert set(listed["results"][0]) >= {"id", "received_at", "fields", "state", "error", "attempts"}
    assert "next" in listed
    assert detail["payload"] == json.loads(webhook_body("group_status_update.suspended"))


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"not json at all", b"[1, 2]", b"42", webhook_body("messages.status_sent")])
def test_the_payload_shown_matches_its_schema_whatever_the_body(admin_api, post_webhook, body):
    # The schema said `object`, but a body that is not JSON is shown as its text (schemathesis found it).
    # given
    post_webhook(body)
    schema = admin_api.get("/api/schema/?format=json").json()["components"]["schemas"]
    # when
    event = admin_api.get("/api/v1/webhook-events/").json()["results"][0]
    detail = admin_api.get(f"/api/v1/webhook-events/{event['id']}/").json()
    # then
    jsonschema.validate(detail["payload"], schema["WebhookEventDetail"]["properties"]["payload"])


@pytest.mark.django_db
def test_admin_shows_the_pretty_payload_and_replays(client, superuser, post_webhook, monkeypatch):
    # given
    monkeypatch.setitem(HANDLERS, ("messages", "statuses"), lambda item, ctx: (_ for _ in ()).throw(ValueError("x")))
    post_webhook(webhook_body("messages.status_sent"))
    event = WebhookEvent.objects.get()
    client.force_login(superuser)
    # when
    page = client.get(f"/admin/webhooks/webhookevent/{event.pk}/change/")
    listing = client.get("/admin/webhooks/webhookevent/", {"state": "failed", "field": "messages"})
    monkeypatch.setitem(HANDLERS, ("messages", "statuses"), lambda item, ctx: None)
    replay = client.post(
        "/admin/webhooks/webhookevent/",
        {"action": "reprocess", "_selected_action": [event.pk], "post": "yes"},
        follow=True,
    )
    # then
    assert page.status_code == 200
    assert b"<th>Recipient type</th>" in page.content and b"&quot;recipient_type&quot;" not in page.content  # Tables
    body = client.get(f"/admin/webhooks/webhookevent/{event.pk}/body.json")
    assert b"".join(body.streaming_content if body.streaming else [body.content]) == webhook_body(
        "messages.status_sent")  # The exact bytes Meta signed, one click away.
    assert str(event.pk).encode() in listing.content
    assert b"1 event queued for reprocessing." in replay.content
    event.refresh_from_db()
    assert event.state == State.PROCESSED


# --- Any JSON under a valid signature -----------------------------------------

# Text as a hostile sender may spell it in JSON: NUL and lone surrogates included (Hypothesis leaves surrogates out
# by default). PostgreSQL's text and jsonb refuse both, and no page can encode a lone surrogate as UTF-8.
hostile_text = st.text(st.characters(exclude_categories=()), max_size=20) | st.sampled_from(
    ["\u0000", "group_suspend\u0000", "\ud800", "\udfff x", "messages\ud800"]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4),
    max_leaves=25,
)
group_items = st.fixed_dictionaries({"type": st.sampled_from(["group_suspend", "group_create"]) | hostile_text},
                                    optional={"group_id": json_values})
envelopes = st.fixed_dictionaries(
    {
        "object": st.just("whatsapp_business_account"),
        "entry": st.lists(
            st.fixed_dictionaries(
                {
                    "id": json_values,
                    "changes": st.lists(
                        st.fixed_dictionaries(
                            {
                                "field": st.sampled_from(
                                    ["messages", "group_lifecycle_update", "group_participants_update",
                                     "group_settings_update", "group_status_update", "other"]
                                ) | hostile_text,
                                "value": st.dictionaries(
                                    st.sampled_from(["groups", "statuses", "messages", "errors", "metadata",
                                                     "contacts"]),
                                    st.lists(group_items | json_values, max_size=3) | json_values,
                                ),
                            }
                        ),
                        max_size=2,
                    ),
                }
            ),
            max_size=2,
        ),
    }
)
# Bodies nested deeper than Python's parser can recurse (json.dumps cannot build them: they are written as text).


def _nested(depth: int, opener: str, inner: str) -> bytes:
    """`{"entry": [[[...inner...]]]}` or `{"entry": {"a":{"a":...inner...}}}`, `depth` levels deep."""
    opening, closing = ("[", "]") if opener == "[" else ('{"a":', "}")
    return ('{"entry": ' + opening * depth + inner + closing * depth + "}").encode()


nested_bodies = st.builds(
    _nested,
    depth=st.integers(min_value=1_000, max_value=20_000),
    opener=st.sampled_from(["[", "{"]),
    inner=st.sampled_from(["1", '"\\u0000"', '"\\ud800"']),
)
bodies = st.one_of(json_values, envelopes).map(lambda payload: json.dumps(payload).encode()) | nested_bodies


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_any_signed_body_never_raises_and_every_event_can_be_shown(client, admin_client, body):
    """Any JSON, deeply nested JSON, NUL and lone surrogates: answered, processed, and shown in the admin and REST."""
    # when
    response = client.post(
        "/webhooks/whatsapp/", data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(body)
    )
    # then: JSON is acknowledged; JSON too deep to read is refused as unreadable and failed at once (or, when the
    # request's shallower stack could still read it, failed by the drain, whose stack is deeper)
    assert response.status_code in (200, 400)
    event = WebhookEvent.objects.get(sha256=hashlib.sha256(body).hexdigest())
    assert event.state in (State.PROCESSED, State.IGNORED, State.FAILED)
    if response.status_code == 400:
        assert event.state == State.FAILED and "not JSON" in event.error
    assert admin_client.get(f"/admin/webhooks/webhookevent/{event.pk}/change/").status_code == 200
    assert admin_client.get(f"/api/v1/webhook-events/{event.pk}/").status_code == 200


# --- Items that name something not known yet -----------------------------------


@pytest.mark.django_db
def test_a_group_event_before_its_create_webhook_is_applied_once_the_group_exists(post_webhook):
    # given: Meta delivers a suspension before the group is known here
    from groups.models import Group
    from tests.groups.factories import GroupFactory
    from tests.spec import SPEC_G2

    post_webhook(webhook_body("group_status_update.suspended"))
    event = WebhookEvent.objects.get()
    assert event.state == State.PENDING
    # when: the group becomes known, and the periodic sweep runs after the retry time
    group = GroupFactory(group_id=SPEC_G2)
    WebhookEvent.objects.filter(pk=event.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    queued = webhook_events_sweep_pending()
    # then
    assert queued == 1
    event.refresh_from_db()
    assert event.state == State.PROCESSED
    assert event.attempts == 2
    group.refresh_from_db()
    assert group.suspended is True
    assert Group.objects.count() == 1


@pytest.mark.django_db
def test_a_deferred_item_fails_after_waiting_long_enough(post_webhook, settings):
    # given
    post_webhook(webhook_body("group_status_update.suspended"))
    event = WebhookEvent.objects.get()
    WebhookEvent.objects.filter(pk=event.pk).update(
        received_at=timezone.now() - timedelta(hours=settings.WEBHOOK_DEFER_MAX_HOURS + 1), claimed_until=None
    )
    # when
    webhook_event_process(event_id=event.pk)
    # then
    event.refresh_from_db()
    assert event.state == State.FAILED
    assert event.item_counts["failed"] == 1
    assert "still not applicable after waiting" in event.item_failures[0]["error"]


@pytest.mark.django_db
def test_a_deferred_event_is_not_taken_before_its_retry_time(post_webhook):
    # given
    post_webhook(webhook_body("group_status_update.suspended"))
    event = WebhookEvent.objects.get()
    # when: the sweep runs before the retry time
    queued = webhook_events_sweep_pending(now=event.claimed_until - timedelta(seconds=1))
    # then
    assert queued == 0


@pytest.mark.django_db
def test_the_same_task_takes_its_own_claim_back_after_a_database_outage(recording_handler):
    # given: a task claimed the event, then the database went away before it finished
    event, _ = webhook_event_record(body=_statuses_body({"id": "a"}), headers={})
    WebhookEvent.objects.filter(pk=event.pk).update(
        claimed_until=timezone.now() + timedelta(minutes=4), claimed_by="task-1"
    )
    # when: another task tries, then the first one's retry
    other = webhook_event_process(event_id=event.pk, claimant="task-2")
    retry = webhook_event_process(event_id=event.pk, claimant="task-1")
    # then
    assert other is None
    assert retry.state == State.PROCESSED
    assert retry.claimed_by == ""


@pytest.mark.django_db
def test_a_datetime_filter_out_of_range_is_a_400_naming_it(admin_api):
    # when: year 1 minus a positive offset falls before the first representable datetime
    response = admin_api.get("/api/v1/webhook-events/", {"received_after": "0001-01-01T00:00:00+05:00"})
    # then
    assert response.status_code == 400
    assert "received_after" in response.json()["extra"]["fields"]


@pytest.mark.django_db
def test_webhook_events_api_needs_the_view_permission_even_for_staff(api_client, user_with_perms, post_webhook):
    # given: raw payloads hold phone numbers, names and texts; the admin refuses them to staff without the permission
    post_webhook(webhook_body("messages.status_sent"))
    event = WebhookEvent.objects.get()
    bare_staff = user_with_perms(is_staff=True, username="bare")
    viewer = user_with_perms("webhooks.view_webhookevent", is_staff=True, username="viewer")
    # when
    api_client.force_authenticate(bare_staff)
    refused = [api_client.get("/api/v1/webhook-events/").status_code,
               api_client.get(f"/api/v1/webhook-events/{event.pk}/").status_code,
               api_client.post(f"/api/v1/webhook-events/{event.pk}/reprocess/").status_code]
    api_client.force_authenticate(viewer)
    allowed = [api_client.get("/api/v1/webhook-events/").status_code,
               api_client.get(f"/api/v1/webhook-events/{event.pk}/").status_code,
               api_client.post(f"/api/v1/webhook-events/{event.pk}/reprocess/").status_code]
    # then: viewing needs view_webhookevent; reprocessing needs reprocess_webhookevent on top
    assert refused == [403, 403, 403]
    assert allowed == [200, 200, 403]

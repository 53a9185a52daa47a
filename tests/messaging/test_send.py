"""The send pipeline: exact Graph bodies, retry classes, the read-timeout path, sweeps, idempotency."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from responses import matchers

from core.due import due_work_run
from groups.cloud_api import retry_delay
from groups.models import Group
from messaging.exceptions import ContentInvalid, GroupNotSendable, IdempotencyKeyReused, MessageTypeNotSupported
from messaging.models import MessageStatusChange, OutboundMessage
from messaging.services import (
    message_create,
    message_retry,
    message_send,
    messages_fail_outcome_unknown,
)
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory
from tests.spec import SPEC_PHONE_NUMBER_ID, graph_json, graph_names, webhook_body

pytestmark = pytest.mark.django_db

MESSAGES_URL = f"https://graph.meta.test/v25.0/{SPEC_PHONE_NUMBER_ID}/messages"
SPEC_WAMID = graph_json("send_text_to_group.response")["messages"][0]["id"]
Status = OutboundMessage.Status


@pytest.fixture
def group():
    group = GroupFactory(spec_g1=True)
    for wa_id in ("16505551234", "447700900123", "5511987654321"):
        ParticipantFactory(group=group, wa_id=wa_id)
    return group


def _expected_body(sample: str, message: OutboundMessage) -> dict:
    return {**graph_json(sample), "biz_opaque_callback_data": f"groupdesk:message:{message.pk}"}


@pytest.mark.parametrize("sample", ["send_text_to_group", "send_image_to_group", "send_template_to_group"])
def test_message_send_posts_the_spec_request(graph, group, django_capture_on_commit_callbacks, sample):
    # given
    request = graph_json(f"{sample}.request")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        message = message_create(group=group, type=request["type"], content=request[request["type"]])
        graph.post(
            MESSAGES_URL,
            json=graph_json("send_text_to_group.response"),
            match=[matchers.json_params_matcher(_expected_body(f"{sample}.request", message))],
        )
    # then
    message.refresh_from_db()
    assert message.status == Status.ACCEPTED
    assert message.wamid == SPEC_WAMID
    assert message.recipient_count == 3
    assert message.attempt_count == 1
    assert list(message.status_changes.values_list("status", flat=True)) == ["queued", "sending", "accepted"]


def test_message_send_twice_sends_once(graph, group):
    # given
    message = OutboundMessageFactory(group=group)
    graph.post(MESSAGES_URL, json=graph_json("send_text_to_group.response"))
    # when
    message_send(message_id=message.pk)
    message_send(message_id=message.pk)
    # then
    assert len(graph.calls) == 1


RETRYABLE = {130429, 131056, 131208}


def _come_due(message: OutboundMessage) -> None:
    """Bring a put-off message's retry time to now, as if its wait had passed."""
    assert OutboundMessage.objects.filter(pk=message.pk, next_attempt_at__gt=timezone.now()).update(
        next_attempt_at=timezone.now()
    )


@pytest.mark.parametrize("sample", graph_names("error."))
def test_every_error_sample_is_retried_only_if_it_can_succeed_later(graph, group, settings, sample):
    # given
    settings.META_RETRY_MAX_ATTEMPTS = 3
    envelope = graph_json(sample)
    code = envelope["error"]["code"]
    status_code = {131207: 403, 131208: 429, 190: 401}.get(code, 400)
    message = OutboundMessageFactory(group=group)
    graph.post(MESSAGES_URL, json=envelope, status=status_code)
    # when
    message_send(message_id=message.pk)
    # then
    message.refresh_from_db()
    last = message.status_changes.order_by("pk").last()
    if code in RETRYABLE:
        assert message.status == Status.QUEUED
        assert last.status == "retry_scheduled"
        assert last.error["code"] == code
        assert message.next_attempt_at > timezone.now()
    else:
        assert message.status == Status.FAILED
        assert message.error_code == str(code)
        assert message.error["code"] == code
        assert message.failed_at is not None


def test_retryable_error_is_resent_until_it_succeeds(graph, group, django_capture_on_commit_callbacks):
    # given
    message = OutboundMessageFactory(group=group)
    graph.post(MESSAGES_URL, json=graph_json("error.rate_limit_130429"), status=400)
    graph.post(MESSAGES_URL, json=graph_json("send_text_to_group.response"))
    # when: sent, refused, then sent again by the due-work sweep once its retry time came
    with django_capture_on_commit_callbacks(execute=True):
        message_send(message_id=message.pk)
    _come_due(message)
    due_work_run()
    # then
    message.refresh_from_db()
    assert message.status == Status.ACCEPTED
    assert message.attempt_count == 2
    assert list(message.status_changes.values_list("status", flat=True)) == [
        "sending", "retry_scheduled", "sending", "accepted",
    ]


def test_retries_stop_at_the_configured_attempts(graph, group, settings, django_capture_on_commit_callbacks):
    # given
    settings.META_RETRY_MAX_ATTEMPTS = 2
    message = OutboundMessageFactory(group=group)
    graph.post(MESSAGES_URL, json=graph_json("error.group_rate_limit_131208"), status=429)
    graph.post(MESSAGES_URL, json=graph_json("error.group_rate_limit_131208"), status=429)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        message_send(message_id=message.pk)
        _come_due(message)
        due_work_run()
    # then
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.error_code == "131208"
    assert message.attempt_count == 2


def test_server_error_and_unreachable_meta_are_retried(graph, group, settings):
    # given
    first = OutboundMessageFactory(group=group)
    second = OutboundMessageFactory(group=group)
    graph.post(MESSAGES_URL, status=503, body="upstream down")
    graph.post(MESSAGES_URL, body=requests.ConnectionError("connection refused"))
    # when
    message_send(message_id=first.pk)
    message_send(message_id=second.pk)
    # then
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Status.QUEUED, Status.QUEUED)


def test_retry_delay_backs_off_exponentially_with_jitter(settings):
    # given
    from groups.cloud_api import CloudAPIRateLimited

    settings.META_RETRY_BASE_SECONDS = 2
    settings.META_RETRY_MAX_SECONDS = 1000
    throughput = CloudAPIRateLimited("x", meta_code=130429)
    pair = CloudAPIRateLimited("x", meta_code=131056)
    # when
    throughput_delays = [retry_delay(error=throughput, attempt=n) for n in (1, 2, 3)]
    pair_delays = [retry_delay(error=pair, attempt=n) for n in (1, 2, 3)]
    # then
    for delay, base in zip(throughput_delays, (2, 4, 8), strict=True):
        assert base <= delay <= base * 1.5
    for delay, base in zip(pair_delays, (4, 16, 64), strict=True):
        assert base <= delay <= base * 1.5


def test_read_timeout_leaves_the_message_sending_and_never_resends(graph, group, django_capture_on_commit_callbacks):
    # given
    message = OutboundMessageFactory(group=group)
    graph.post(MESSAGES_URL, body=requests.ReadTimeout("read timed out"))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        message_send(message_id=message.pk)
        message_send(message_id=message.pk)
    # then
    message.refresh_from_db()
    assert message.status == Status.SENDING
    assert len(graph.calls) == 1
    assert message.status_changes.order_by("pk").last().status == "outcome_unknown"


def test_a_status_with_our_callback_data_resolves_a_timed_out_send(graph, group, post_webhook):
    # given
    import json

    message = OutboundMessageFactory(group=group)
    graph.post(MESSAGES_URL, body=requests.ReadTimeout("read timed out"))
    message_send(message_id=message.pk)
    body = json.loads(webhook_body("messages.status_sent"))
    body["entry"][0]["changes"][0]["value"]["statuses"][0]["biz_opaque_callback_data"] = message.callback_data
    # when
    response = post_webhook(json.dumps(body).encode())
    # then
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.wamid == SPEC_WAMID
    assert message.status == Status.SENT


def test_sweep_fails_messages_whose_outcome_stayed_unknown(graph, group, settings):
    # given
    settings.MESSAGE_OUTCOME_UNKNOWN_AFTER_MINUTES = 10
    message = OutboundMessageFactory(group=group)
    graph.post(MESSAGES_URL, body=requests.ReadTimeout("read timed out"))
    message_send(message_id=message.pk)
    # when
    early = messages_fail_outcome_unknown(now=timezone.now() + timedelta(minutes=9))
    late = messages_fail_outcome_unknown(now=timezone.now() + timedelta(minutes=11))
    # then
    message.refresh_from_db()
    assert (early, late) == (0, 1)
    assert message.status == Status.FAILED
    assert message.error_code == "outcome_unknown"
    assert message.error["code"] == "outcome_unknown"


def test_sweep_requeues_a_queued_message_whose_task_was_lost(graph, group, django_capture_on_commit_callbacks):
    # given
    message = OutboundMessageFactory(group=group)
    OutboundMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(hours=1))
    graph.post(MESSAGES_URL, json=graph_json("send_text_to_group.response"))
    # when
    started = due_work_run()
    # then
    message.refresh_from_db()
    assert started["outbound-messages"] == 1
    assert message.status == Status.ACCEPTED


def test_message_create_with_the_same_idempotency_key_returns_the_first(graph, group, staff_user):
    # given
    first = message_create(group=group, type="text", content={"body": "Hi"}, created_by=staff_user,
                           idempotency_key="k-1")
    # when
    again = message_create(group=group, type="text", content={"body": "Hi"}, created_by=staff_user,
                           idempotency_key="k-1")
    # then
    assert again.pk == first.pk
    assert OutboundMessage.objects.count() == 1
    with pytest.raises(IdempotencyKeyReused):
        message_create(group=group, type="text", content={"body": "Other"}, created_by=staff_user,
                       idempotency_key="k-1")


@pytest.mark.parametrize(
    ("state", "suspended"), [(Group.State.CREATING, False), (Group.State.DELETED, False), (Group.State.ACTIVE, True)]
)
def test_message_create_refuses_groups_that_cannot_receive(graph, state, suspended):
    # given
    group = GroupFactory(state=state, suspended=suspended)
    # when / then
    with pytest.raises(GroupNotSendable) as error:
        message_create(group=group, type="text", content={"body": "Hi"})
    assert error.value.field == "group"
    assert OutboundMessage.objects.count() == 0


@pytest.mark.parametrize("message_type", ["interactive", "reaction", "location", "contacts", "sticker", "pin"])
def test_message_create_refuses_types_groups_do_not_support(graph, group, message_type):
    with pytest.raises(MessageTypeNotSupported) as error:
        message_create(group=group, type=message_type, content={})
    assert error.value.field == "type"
    assert "not supported in groups" in error.value.message


@pytest.mark.parametrize(
    ("message_type", "content", "field"),
    [
        ("text", {"body": ""}, "text.body"),
        ("text", {"body": "x" * 4097}, "text.body"),
        ("text", {"body": "ok", "preview_url": "yes"}, "text.preview_url"),
        ("image", {}, "image.id"),
        ("image", {"id": "1", "link": "https://example.com/a.jpg"}, "image.link"),
        ("image", {"link": "ftp://example.com/a.jpg"}, "image.link"),
        ("audio", {"id": "1", "caption": "no"}, "audio.caption"),
        ("template", {"language": {"code": "en"}}, "template.name"),
        ("template", {"name": "t"}, "template.language"),
        ("template", {"name": "t", "language": "en", "components": [{"x": 1}]}, "template.components[0]"),
    ],
)
def test_message_create_names_the_invalid_field(graph, group, message_type, content, field):
    with pytest.raises(ContentInvalid) as error:
        message_create(group=group, type=message_type, content=content)
    assert error.value.field == field


def test_text_body_of_4096_characters_is_accepted(graph, group):
    message = message_create(group=group, type="text", content={"body": "x" * 4096})
    assert message.content == {"preview_url": False, "body": "x" * 4096}


def test_message_retry_creates_a_new_message_and_keeps_the_failure(graph, group, staff_user):
    # given
    failed = OutboundMessageFactory(group=group)
    graph.post(MESSAGES_URL, json=graph_json("error.bad_group_131020"), status=400)
    message_send(message_id=failed.pk)
    failed.refresh_from_db()
    # when
    retry, created = message_retry(message=failed, created_by=staff_user)
    # then
    failed.refresh_from_db()
    assert created
    assert retry.retry_of == failed
    assert retry.status == Status.QUEUED
    assert retry.content == failed.content
    assert failed.status == Status.FAILED
    assert failed.error_code == "131020"
    assert MessageStatusChange.objects.filter(message=failed, status="failed").exists()


def test_only_failed_messages_can_be_retried(graph, group):
    from messaging.exceptions import MessageNotRetryable

    message = OutboundMessageFactory(group=group, accepted=True)
    with pytest.raises(MessageNotRetryable):
        message_retry(message=message)

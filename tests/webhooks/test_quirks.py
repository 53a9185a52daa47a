"""Meta's quirks (spec §6.7) reach the records intact: quoted numbers, misspelled keys, new enum values."""

import json
import logging

import pytest

from messaging.models import MessageReceipt, MessageStatusChange, OutboundMessage
from tests.messaging.factories import GroupFactory, OutboundMessageFactory
from tests.spec import webhook_body
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db


def _status_body(sample: str, **changes) -> tuple[bytes, dict]:
    body = json.loads(webhook_body(sample))
    status = body["entry"][0]["changes"][0]["value"]["statuses"][0]
    status.update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del status[key]
    return json.dumps(body).encode(), status


def _message_for(status: dict) -> OutboundMessage:
    group = GroupFactory(group_id=status["recipient_id"])
    return OutboundMessageFactory(accepted=True, wamid=status["id"], group=group)


def test_quoted_and_unquoted_timestamps_and_error_codes_mean_the_same(post_webhook):
    # given: the failed sample with its timestamp unquoted and its error code quoted
    _, original = _status_body("messages.status_failed")
    body, status = _status_body(
        "messages.status_failed",
        timestamp=int(original["timestamp"]),
        errors=[{**original["errors"][0], "code": str(original["errors"][0]["code"])}],
    )
    message = _message_for(status)
    # when
    post_webhook(body)
    # then
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.FAILED
    assert message.error["code"] == 131020
    assert message.failed_at.timestamp() == int(status["timestamp"])


def test_the_misspelled_participant_key_still_makes_a_receipt(post_webhook):
    # given: `participant_recipient_id` instead of `recipient_participant_id`
    body, status = _status_body(
        "messages.status_delivered_single", recipient_participant_id=None, participant_recipient_id="16505551234"
    )
    message = _message_for(status)
    # when
    post_webhook(body)
    # then
    receipt = MessageReceipt.objects.get(message=message)
    assert receipt.participant_wa_id == "16505551234"
    assert receipt.delivered_at is not None


def test_an_unknown_status_value_is_logged_and_never_crashes(post_webhook, caplog):
    # given: a status value Meta might add later
    body, status = _status_body("messages.status_delivered_single", status="deleted_for_everyone")
    message = _message_for(status)
    # when
    with caplog.at_level(logging.WARNING, logger="webhooks.payloads.common"):
        response = post_webhook(body)
    # then
    assert response.status_code == 200
    assert "unknown message status value" in caplog.text
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.ACCEPTED  # Nothing moves on an event we do not understand,
    change = MessageStatusChange.objects.get(message=message, status="deleted_for_everyone")
    assert change.to_status == OutboundMessage.Status.ACCEPTED  # but it is kept in the history.


def test_a_bsuid_only_participant_gets_a_receipt(post_webhook):
    # given: the BSUID sample, whose participants may come without a phone number
    body = webhook_body("messages.status_delivered_aggregated_bsuid")
    status = json.loads(body)["entry"][0]["changes"][0]["value"]["statuses"][0]
    message = _message_for(status)
    # when
    post_webhook(body)
    # then
    receipts = MessageReceipt.objects.filter(message=message)
    assert receipts.exists()
    assert all(r.participant_user_id or r.participant_wa_id for r in receipts)
    assert any(r.participant_user_id for r in receipts)

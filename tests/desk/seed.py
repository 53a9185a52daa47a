"""One row of every admin screen, with every JSON field filled: what the page-wide tests (no raw JSON, no
horizontal overflow) visit. Long values on purpose: a wamid, a BSUID, a long subject and message text."""

import hashlib
import json
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group as UserGroup
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token, TokenProxy

from core.models import AuditEntry
from groups.models import GroupEvent, GroupOperation
from integrations.models import Delivery, DeliveryAttempt, WebhookEndpoint
from messaging.models import (
    AccountError,
    InboundMessage,
    MessageStatusChange,
    OutboundMessage,
    PinStatusChange,
    UnmatchedStatus,
)
from outbox import event_types
from outbox.services import event_record
from tests.groups.factories import GroupFactory, JoinRequestFactory, ParticipantFactory
from tests.integrations.factories import WebhookEndpointFactory
from tests.messaging.factories import OutboundMessageFactory
from tests.messaging.pin_factories import PinFactory
from webhooks.models import WebhookEvent

META_ERROR = {"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable",
              "details": "The recipient's phone cannot receive this message."}
LONG_TEXT = ("Your parcel 48213 left the Leeds depot this morning and will arrive between 14:00 and 16:00; "
             "reply here if nobody will be at home, and we will arrange a safe place or a new day. " * 3)


def seed_every_screen(*, superuser) -> dict:
    """Create one object of each registered model (and what they show) and return them by admin URL part."""
    now = timezone.now()
    group = GroupFactory(subject="Parcels Leeds — weekday deliveries for the north-east region, ground floor",
                         participant_count=2, last_error=META_ERROR)
    maya = ParticipantFactory(group=group, wa_id="16505551234", name="Maya Patel",
                              user_id="US.13491208655302741918")
    join_request = JoinRequestFactory(group=group, wa_id="447700900123")
    operation = GroupOperation.objects.create(
        group=group, kind=GroupOperation.Kind.REMOVE_PARTICIPANTS, state=GroupOperation.State.PARTIALLY_FAILED,
        request_id="req-" + "9" * 40, requested={"participants": ["16505551234", "447700900123"]},
        outcome={"removed": ["16505551234"], "failed": [{"wa_id": "447700900123", "error": META_ERROR}]},
        errors=[META_ERROR], requested_by=superuser,
    )
    event = GroupEvent.objects.create(group=group, type=GroupEvent.Type.PARTICIPANT_REMOVED, occurred_at=now,
                                      source="webhook",
                                      detail={"participants": ["16505551234"], "reason": "Asked to leave"})
    message = OutboundMessageFactory(
        group=group, content={"body": LONG_TEXT, "preview_url": False}, status=OutboundMessage.Status.FAILED,
        wamid="wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA", error=META_ERROR, error_code="131026",
        recipient_count=2, failed_at=now,
    )
    MessageStatusChange.objects.create(message=message, status="failed", from_status="sent", to_status="failed",
                                       source="webhook", error=META_ERROR, pricing={"billable": False},
                                       detail={"conversation": {"id": "c1"}}, timestamp=now)
    inbound = InboundMessage.objects.create(
        group=group, phone_number=group.phone_number, wamid="wamid.INBOUND" + "A" * 40, participant=maya,
        from_wa_id="16505551234", contact_name="Maya Patel", type="image", text="",
        content={"id": "1479537139650973", "mime_type": "image/jpeg", "sha256": "abc"},
        error=META_ERROR, errors=[META_ERROR], timestamp=now,
    )
    pin = PinFactory(group=group, active=True, error=META_ERROR)
    PinStatusChange.objects.create(pin=pin, from_state="pending", to_state="active", source="webhook",
                                   detail={"webhook_event": 7, "expires_at": "2026-12-13"})
    account_error = AccountError.objects.create(phone_number=group.phone_number, code=131048, title="Spam rate limit",
                                                message="Spam rate limit hit", received_at=now)
    unmatched = UnmatchedStatus.objects.create(
        wamid="wamid.UNKNOWN" + "B" * 40, status="delivered", participant_key="wa:16505551234",
        item={"id": "wamid.UNKNOWN", "status": "delivered", "recipient_id": "16505551234"},
        event={"status": "delivered", "participant": "16505551234"}, timestamp=now,
    )
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "messages", "value": {"statuses": [{"id": message.wamid, "status": "failed",
                                                      "errors": [META_ERROR]}]}}]}]}).encode()
    webhook_event = WebhookEvent.objects.create(
        received_at=now - timedelta(minutes=3), body=body, sha256=hashlib.sha256(body).hexdigest(),
        headers={"User-Agent": "facebookexternalua", "Content-Type": "application/json"}, fields=["messages"],
        state=WebhookEvent.State.FAILED, attempts=1, item_counts={"processed": 1, "failed": 1},
        item_failures=[{"item": "entry[0].changes[0].statuses[0]", "error": "ValueError: x"}], error="ValueError: x",
    )
    audit = AuditEntry.objects.filter(target_id=str(group.pk)).first() or AuditEntry.objects.create(
        actor=superuser, actor_username=superuser.username, action="group_delete", target_repr=str(group),
        reason="Order closed", detail={"participants": ["16505551234"], "subject": group.subject}, source="admin",
    )
    user_group = UserGroup.objects.create(name="Support agents")
    token, _ = Token.objects.get_or_create(user=superuser)
    agent = get_user_model().objects.create_user(username="agent-maya", password="x" * 12, is_staff=True)
    endpoint, delivery = seed_integrations(message=message, created_by=superuser)
    return {
        "groups/group": group, "groups/participant": maya, "groups/joinrequest": join_request,
        "groups/groupoperation": operation, "groups/groupevent": event, "groups/phonenumber": group.phone_number,
        "groups/auditentry": audit, "messaging/outboundmessage": message, "messaging/inboundmessage": inbound,
        "messaging/pin": pin, "messaging/accounterror": account_error, "messaging/unmatchedstatus": unmatched,
        "webhooks/webhookevent": webhook_event, "auth/user": agent, "auth/group": user_group,
        "authtoken/tokenproxy": TokenProxy.objects.get(key=token.key),
        "integrations/webhookendpoint": endpoint, "integrations/delivery": delivery,
    }


def seed_desk_history(*, days: int = 7) -> None:
    """Add a week of messages in every status, failures of three codes among them: what the dashboard charts."""
    groups = [GroupFactory(subject=subject) for subject in ("Parcels Leeds", "Billing help", "Returns desk")]
    now = timezone.now()
    Status = OutboundMessage.Status
    cycle = [Status.READ, Status.READ, Status.DELIVERED, Status.READ, Status.SENT, Status.FAILED, Status.READ,
             Status.DELIVERED, Status.FAILED, Status.ACCEPTED]
    codes = ["131026", "131020", "130429"]
    for i in range(days * 24):
        at = now - timedelta(hours=i, minutes=7 * i % 60)
        status = cycle[i % len(cycle)]
        message = OutboundMessageFactory(
            group=groups[i % 3], status=status, content={"body": f"Update {i}: your parcel is on its way"},
            recipient_count=3, delivered_count=3 if status in (Status.DELIVERED, Status.READ) else 0,
            read_count=2 if status == Status.READ else 0, error_code=codes[i % 3] if status == Status.FAILED else "",
            failed_at=at if status == Status.FAILED else None,
        )
        OutboundMessage.objects.filter(pk=message.pk).update(created_at=at)


def seed_integrations(*, message: OutboundMessage, created_by=None) -> tuple[WebhookEndpoint, Delivery]:
    """An integrator's endpoint that is failing: a long URL, a filter, and a delivery of `message` read that gave up
    after three attempts (a timeout, then two error pages)."""
    now = timezone.now()
    endpoint = WebhookEndpointFactory(
        url="https://hooks.crm.example.com/integrations/whatsapp-groups/groupdesk/receive?tenant=parcels-leeds-north",
        description="CRM (Parcels Leeds)", event_types=[event_types.MESSAGE_READ, event_types.MESSAGE_FAILED],
        failing_since=now - timedelta(hours=5), created_by=created_by,
    )
    # One transaction: the delivery has given up before anyone can see it. Committed pending, a worker woken by the
    # commit (the integration tests run one) could try it first and leave it pending again.
    with transaction.atomic():
        event_record(type=event_types.MESSAGE_READ, obj=message, occurred_at=now - timedelta(hours=5))
        delivery = Delivery.objects.get(endpoint=endpoint)
        error_page = "<html><body><h1>500 Internal Server Error</h1><p>upstream connect error or disconnect/reset</p>"
        answers = [(None, "Timeout after 10 s", ""), (500, "", error_page + "</body>"),
                   (503, "", '{"error": "maintenance", "retry_after": 600}')]
        for i, (status_code, error, body) in enumerate(answers):
            DeliveryAttempt.objects.create(delivery=delivery, attempted_at=now - timedelta(hours=5 - 2 * i),
                                           status_code=status_code, succeeded=False,
                                           latency_ms=10000 if error else 84, error=error, response_body=body)
        Delivery.objects.filter(pk=delivery.pk).update(
            state=Delivery.State.FAILED, attempt_count=3, last_status_code=503, last_error="HTTP 503",
            next_attempt_at=None)
    delivery.refresh_from_db()
    return endpoint, delivery

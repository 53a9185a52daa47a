"""Send due deliveries: claim them, POST them signed (in parallel, outside any transaction), record each attempt.

Deliveries are picked from their rows by due time, by the `integrations` queue's task: woken when the change that
recorded them commits, at a retry's time when it is soon, and by the due-work sweep (core/due.py) for the rest. With
no broker the sweep runs in the in-process periodic runner: never inside the request that recorded the event.
"""

import json
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.bulk import bulk_insert_rows, bulk_update_rows
from core.due import run_at
from integrations import http
from integrations.models import Delivery, DeliveryAttempt, WebhookEndpoint
from integrations.services import wake
from integrations.signing import signature_headers
from integrations.tasks import deliveries_send_due_task

logger = logging.getLogger(__name__)

DeliveryState = Delivery.State

# After the first attempt fails: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 12 h (Standard Webhooks' advice),
# until INTEGRATIONS_RETRY_HOURS have passed since the event (72: the last attempt comes after 3 days).
RETRY_DELAYS = (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                timedelta(hours=5), timedelta(hours=10))
RETRY_EVERY = timedelta(hours=12)
JITTER = 0.1  # +-10%: many deliveries failing at once (a receiver down) do not all come back at once.
# A batch's retries due sooner than this get a wake-up published for their time (with a broker); later ones are
# started by the due-work sweep, which runs every minute with a broker (config/beat.py): at most that late.
RETRY_WAKE_WITHIN = timedelta(minutes=1)


def retry_delay(attempt: int) -> timedelta:
    """Return how long to wait after the `attempt`-th failed attempt (1-based), with jitter."""
    base = RETRY_DELAYS[attempt - 1] if attempt <= len(RETRY_DELAYS) else RETRY_EVERY
    return base * random.uniform(1 - JITTER, 1 + JITTER)


def _lease() -> timedelta:
    """How long a claimed delivery stays with its worker: past both timeouts, so only a dead worker's comes back."""
    return timedelta(seconds=settings.INTEGRATIONS_CONNECT_TIMEOUT + settings.INTEGRATIONS_READ_TIMEOUT + 30)


def deliveries_claim(*, now: datetime, limit: int) -> list[Delivery]:
    """Take up to `limit` due deliveries of active endpoints, oldest due first, and push them past the lease.

    SKIP LOCKED: parallel senders take different deliveries. A worker killed mid-send leaves its deliveries due
    again when the lease ends, so they are sent later (at least once: receivers dedupe on webhook-id).
    """
    with transaction.atomic():
        due = (Delivery.objects.select_for_update(skip_locked=True, of=("self",))
               .filter(state=DeliveryState.PENDING, next_attempt_at__lte=now, endpoint__active=True)
               .order_by("next_attempt_at")[:limit])
        claimed = list(due.select_related("event"))
        # The batch's few endpoints read once, rather than joined and built again on each of its rows.
        endpoints = WebhookEndpoint.objects.in_bulk({delivery.endpoint_id for delivery in claimed})
        for delivery in claimed:
            delivery.endpoint = endpoints[delivery.endpoint_id]
            delivery.next_attempt_at = now + _lease()
            delivery.updated_at = now
        bulk_update_rows(claimed, fields=["next_attempt_at", "updated_at"])
    return claimed


@dataclass(frozen=True)
class _Sent:
    delivery: Delivery
    attempted_at: datetime
    answer: http.Answer


def _signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    rotating = endpoint.previous_secret and endpoint.previous_secret_expires_at and \
        endpoint.previous_secret_expires_at > now
    return [endpoint.secret, endpoint.previous_secret] if rotating else [endpoint.secret]


def _send(delivery: Delivery) -> _Sent:
    at = timezone.now()
    body = json.dumps(delivery.event.body(), separators=(",", ":"), ensure_ascii=False)
    headers = signature_headers(event_id=delivery.event.event_id, body=body,
                                signing_secrets=_signing_secrets(delivery.endpoint, at), at=at)
    return _Sent(delivery=delivery, attempted_at=at, answer=http.post(delivery.endpoint.url, body=body.encode(),
                                                                       headers=headers))


def deliveries_send_due(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Send one batch of due deliveries; return how many were attempted."""
    claimed = deliveries_claim(now=now or timezone.now(), limit=limit or settings.INTEGRATIONS_BATCH_SIZE)
    if not claimed:
        return 0
    workers = min(settings.INTEGRATIONS_DELIVERY_CONCURRENCY, len(claimed))
    if workers == 1:
        sent = [_send(delivery) for delivery in claimed]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="delivery") as pool:
            sent = list(pool.map(_send, claimed))
    deliveries_record(sent)
    return len(sent)


def deliveries_send_all_due(*, max_seconds: float, slot: int = 0) -> int:
    """Send batch after batch while deliveries are due; return how many were attempted.

    Commits wake slot 0; a full batch (a backlog) wakes the next slot, up to INTEGRATIONS_SENDERS senders at once
    (claims keep them apart). A sender that runs past `max_seconds` hands the rest to a fresh task, so no task
    outlives Celery's time limit.
    """
    deadline, total = time.monotonic() + max_seconds, 0
    try:
        while True:
            sent = deliveries_send_due()
            if not sent and wake.wake_flag_clear(slot):
                # Let the next commit wake a sender, then look once more: a delivery committed before that commit
                # saw our flag is claimed here; one committed after it wakes a new sender.
                sent = deliveries_send_due()
            if not sent:
                return total
            total += sent
            if sent >= settings.INTEGRATIONS_BATCH_SIZE and slot + 1 < settings.INTEGRATIONS_SENDERS:
                wake.deliveries_wake(slot + 1)
            if time.monotonic() > deadline:
                wake.sender_publish(slot)
                return total
    finally:
        wake.wake_flag_clear(slot)


def deliveries_record(sent: list[_Sent]) -> None:
    """Record a batch's attempts, move each delivery on (done, retry later or given up), and judge the endpoints."""
    now = timezone.now()
    give_up_before = now - timedelta(hours=settings.INTEGRATIONS_RETRY_HOURS)
    attempts, outcomes = [], {}
    for item in sent:
        delivery, answer = item.delivery, item.answer
        attempts.append(DeliveryAttempt(
            delivery_id=delivery.pk, attempted_at=item.attempted_at, status_code=answer.status,
            succeeded=answer.succeeded, latency_ms=answer.latency_ms,
            response_body=answer.body[:DeliveryAttempt.RESPONSE_KEPT_BYTES], error=answer.error[:500],
        ))
        delivery.attempt_count += 1
        delivery.last_status_code = answer.status
        delivery.last_error = answer.error[:500]
        delivery.updated_at = now
        if answer.succeeded:
            delivery.state, delivery.next_attempt_at, delivery.delivered_at = DeliveryState.SUCCEEDED, None, now
        elif delivery.retrying_since < give_up_before:
            delivery.state, delivery.next_attempt_at = DeliveryState.FAILED, None
        else:
            delivery.next_attempt_at = now + retry_delay(delivery.attempt_count)
        endpoint_outcomes = outcomes.setdefault(delivery.endpoint_id, [])
        endpoint_outcomes.append(answer.succeeded)
    soon = [item.delivery.next_attempt_at for item in sent if item.delivery.state == DeliveryState.PENDING
            and item.delivery.next_attempt_at < now + RETRY_WAKE_WITHIN]
    with transaction.atomic():
        bulk_insert_rows(attempts)
        bulk_update_rows([item.delivery for item in sent], fields=[
            "state", "attempt_count", "next_attempt_at", "last_status_code", "last_error", "delivered_at",
            "updated_at"])
        for endpoint_id, results in outcomes.items():
            endpoint_health_record(endpoint_id=endpoint_id, succeeded=any(results), now=now)
        if soon:
            run_at(deliveries_send_due_task, at=max(soon))  # One wake-up for the batch: all of them are due then.


def endpoint_health_record(*, endpoint_id: int, succeeded: bool, now: datetime) -> None:
    """Clear an endpoint's failing time on a success; disable it once it has failed for longer than allowed."""
    if succeeded:
        WebhookEndpoint.objects.filter(pk=endpoint_id, failing_since__isnull=False).update(
            failing_since=None, updated_at=now)
        return
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since", "updated_at"])
    elif endpoint.active and endpoint.failing_since < now - timedelta(hours=settings.INTEGRATIONS_DISABLE_AFTER_HOURS):
        endpoint.active = False
        endpoint.disabled_at = now
        endpoint.disabled_reason = f"Every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC."
        endpoint.save(update_fields=["active", "disabled_at", "disabled_reason", "updated_at"])
        logger.warning("integrations: endpoint disabled after failing too long", extra={"endpoint": endpoint.pk})

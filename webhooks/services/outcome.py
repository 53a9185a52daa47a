"""What processing made of one claimed event: each item's outcome, counted, and the event's new state."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from config.exceptions import ApplicationError
from webhooks.envelope import EnvelopeItem
from webhooks.models import WebhookEvent

logger = logging.getLogger(__name__)

State = WebhookEvent.State

# A deferred event is tried again after 30 s, then twice as long each time, at most an hour apart.
DEFER_FIRST_DELAY = timedelta(seconds=30)
DEFER_MAX_DELAY = timedelta(hours=1)
# Enough to show what went wrong in a 1,000-item body without storing 1,000 entries.
MAX_ITEM_FAILURES_KEPT = 100


class EventRun:
    """One claimed event while its items are applied: their outcomes and the change fields seen."""

    def __init__(self, event: WebhookEvent) -> None:
        self.event = event
        self.results = ItemResults()
        self.fields: set[str] = set()
        self.not_json = ""

    def item_failed(self, envelope_item: EnvelopeItem, exc: BaseException, traceback_text: str) -> None:
        ctx = envelope_item.context
        logger.warning(
            "webhook item failed",
            extra={"event_id": self.event.pk, "path": ctx.path, "field": ctx.field, "kind": ctx.kind},
            exc_info=None if isinstance(exc, ApplicationError | ValueError) else (type(exc), exc, exc.__traceback__),
        )
        self.results.fail(ctx.path, ctx.field, ctx.kind, f"{type(exc).__name__}: {exc}", traceback_text)

    def outcome(self) -> dict[str, Any]:
        """Return the event's new state, its summary and, for a deferred event, when to try again."""
        if self.not_json:
            return {"state": State.FAILED, "error": self.not_json, "traceback": "", "claimed_until": None,
                    "item_counts": {}, "item_failures": []}
        results = self.results
        retry_at = None
        if results.counts["deferred"] and not results.counts["failed"]:
            retry_at = deferred_retry_at(self.event)
            if retry_at is None:
                results.give_up_deferred()
        return {
            "state": State.PENDING if retry_at else results.final_state(),
            "error": results.summary(),
            "traceback": results.first_traceback,
            # A pending event's claim doubles as "not before": a drain takes it again after retry_at.
            "claimed_until": retry_at,
            "item_counts": results.counts,
            "item_failures": results.failures,
            "fields": sorted(self.fields),
        }


def deferred_retry_at(event: WebhookEvent) -> datetime | None:
    """Return when to try an event with deferred items again, or None once it has waited long enough."""
    now = timezone.now()
    if now - event.received_at > timedelta(hours=settings.WEBHOOK_DEFER_MAX_HOURS):
        return None
    attempts = event.attempts  # This run included: the claim counted it.
    # 30 s, 1 min, 2 min ... at most an hour apart: soon for the usual race, cheap for a long wait.
    return now + min(DEFER_FIRST_DELAY * 2 ** max(attempts - 1, 0), DEFER_MAX_DELAY)


@dataclass
class ItemResults:
    counts: dict[str, int] = field(
        default_factory=lambda: {"processed": 0, "ignored": 0, "failed": 0, "deferred": 0}
    )
    failures: list[dict[str, str]] = field(default_factory=list)
    first_traceback: str = ""

    def process(self) -> None:
        self.counts["processed"] += 1

    def ignore(self, path: str, field_name: str, kind: str) -> None:
        self.counts["ignored"] += 1
        self._keep(path, field_name, kind, State.IGNORED, "no handler for this item")

    def defer(self, path: str, field_name: str, kind: str, error: str) -> None:
        self.counts["deferred"] += 1
        self._keep(path, field_name, kind, "deferred", error)

    def give_up_deferred(self) -> None:
        """Count deferred items as failed: they waited WEBHOOK_DEFER_MAX_HOURS in vain."""
        self.counts["failed"] += self.counts.pop("deferred")
        self.counts["deferred"] = 0
        for failure in self.failures:
            if failure["state"] == "deferred":
                failure["state"] = State.FAILED
                failure["error"] += " (still not applicable after waiting; replay once it is)"

    def fail(self, path: str, field_name: str, kind: str, error: str, traceback_text: str) -> None:
        self.counts["failed"] += 1
        self.first_traceback = self.first_traceback or traceback_text
        self._keep(path, field_name, kind, State.FAILED, error)

    def _keep(self, path: str, field_name: str, kind: str, state: str, error: str) -> None:
        if len(self.failures) < MAX_ITEM_FAILURES_KEPT:
            self.failures.append({"path": path, "field": field_name, "kind": kind, "state": state, "error": error})

    def final_state(self) -> str:
        if self.counts["failed"]:
            return State.FAILED
        if self.counts["ignored"] and not self.counts["processed"]:
            return State.IGNORED
        return State.PROCESSED

    def summary(self) -> str:
        total = sum(self.counts.values())
        for state, verb in ((State.FAILED, "failed"), ("deferred", "wait for something not known yet")):
            listed = [f for f in self.failures if f["state"] == state]
            if listed:
                details = "; ".join(f"{f['path']}: {f['error']}" for f in listed[:10])
                return f"{len(listed)} of {total} items {verb}: {details}"
        return ""

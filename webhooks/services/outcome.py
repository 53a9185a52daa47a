"""What processing made of one claimed event: each item's outcome, counted, and the event's new state."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from webhooks.envelope import EnvelopeItem
from webhooks.models import WebhookEvent
from webhooks.registry import ItemContext
from webhooks.text import loggable_name, storable

logger = logging.getLogger(__name__)

State = WebhookEvent.State

# A deferred event is tried again after 30 s, then twice as long each time, at most an hour apart.
DEFER_FIRST_DELAY = timedelta(seconds=30)
DEFER_MAX_DELAY = timedelta(hours=1)
# Enough to show what went wrong in a 1,000-item body without storing 1,000 entries.
MAX_ITEM_FAILURES_KEPT = 100
# Item lines logged per event: a few show what went wrong; one summary line counts the rest. A signed body of
# 500,000 bad items once wrote 500,016 lines (116 MB) of log.
MAX_ITEM_LOG_LINES = 10
# A field or kind kept in an item's outcome, and an item's error, are cut to these lengths: a body can make
# either as long as itself.
MAX_NAME_CHARS = 100
MAX_ERROR_CHARS = 1000


class EventRun:
    """One claimed event while its items are applied: their outcomes and the change fields seen."""

    def __init__(self, event: WebhookEvent) -> None:
        self.event = event
        self.results = ItemResults()
        self.fields: set[str] = set()
        self.not_json = ""
        self.crash = ""
        self.crash_traceback = ""
        self.item_lines_logged = 0
        self.item_lines_left_out = 0

    def log_item(self, level: int, message: str, ctx: ItemContext, **extra: Any) -> None:
        """Log one item's line, up to MAX_ITEM_LOG_LINES per event; log_summary() counts the rest.

        The line names the item by its place, and its field and kind only when they are identifiers: never the
        body's content, which may be personal data or something built to flood or break the log.
        """
        if self.item_lines_logged >= MAX_ITEM_LOG_LINES:
            self.item_lines_left_out += 1
            return
        self.item_lines_logged += 1
        logger.log(level, message, extra={"event_id": self.event.pk, "path": ctx.path,
                                          "field": loggable_name(ctx.field), "kind": loggable_name(ctx.kind), **extra})

    def log_summary(self) -> None:
        """Log the event's outcome in one line of counts (never its error texts, which may quote the body)."""
        failed = self.event.state == State.FAILED
        if failed or self.item_lines_left_out:
            logger.warning("webhook event failed" if failed else "webhook event not fully processed", extra={
                "event_id": self.event.pk, "state": self.event.state, "item_counts": self.results.counts,
                "item_lines_left_out": self.item_lines_left_out})

    def item_failed(self, envelope_item: EnvelopeItem, exc: BaseException, traceback_text: str) -> None:
        ctx = envelope_item.context
        # The error's type only: its text and traceback may quote the item (they are kept on the event instead).
        self.log_item(logging.WARNING, "webhook item failed", ctx, error_type=type(exc).__name__)
        self.results.fail(ctx.path, ctx.field, ctx.kind, f"{type(exc).__name__}: {exc}", traceback_text)

    def crashed(self, exc: BaseException, traceback_text: str) -> None:
        """Record that the event's body could not be walked at all (e.g. a RecursionError): it fails alone."""
        logger.warning("webhook event could not be processed", extra={
            "event_id": self.event.pk, "error_type": type(exc).__name__})
        self.crash = storable(f"Processing stopped: {type(exc).__name__}: {exc}")[:MAX_ERROR_CHARS]
        self.crash_traceback = storable(traceback_text)

    def outcome(self) -> dict[str, Any]:
        """Return the event's new state, its summary and, for a deferred event, when to try again."""
        if self.not_json or self.crash:
            return {"state": State.FAILED, "error": storable(self.not_json or self.crash),
                    "traceback": self.crash_traceback, "claimed_until": None,
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
            "traceback": storable(results.first_traceback),
            # A pending event's claim doubles as "not before": a drain takes it again after retry_at.
            "claimed_until": retry_at,
            "item_counts": results.counts,
            "item_failures": results.failures,
            "fields": sorted({storable(name) for name in self.fields}),
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
            self.failures.append({"path": path, "field": storable(field_name)[:MAX_NAME_CHARS],
                                  "kind": storable(kind)[:MAX_NAME_CHARS], "state": state,
                                  "error": storable(error)[:MAX_ERROR_CHARS]})

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

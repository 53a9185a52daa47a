"""Processing claimed events: dispatch every item to its handler, then record each event's outcome."""

import json
import logging
import traceback as tb
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from config.exceptions import NotYetApplicable
from webhooks.envelope import EnvelopeItem, iter_items
from webhooks.models import WebhookEvent
from webhooks.registry import ItemHandler, batch_form, handled_fields, handler_for
from webhooks.services.outcome import EventRun

logger = logging.getLogger(__name__)

State = WebhookEvent.State


def process_claimed(events: list[WebhookEvent]) -> list[WebhookEvent]:
    """Dispatch every item of claimed events to its handler and record each event's outcome.

    Items whose handler has a batch form (e.g. statuses) are applied together; every other item runs alone in its
    own transaction, so one bad item never drops the rest, and one event that cannot be walked fails alone.
    """
    runs = [EventRun(event) for event in events]
    batches: dict[ItemHandler, list[tuple[EventRun, EnvelopeItem]]] = {}
    for run in runs:
        try:
            batched = _dispatch(run)
        except (OperationalError, InterfaceError):
            raise  # The database went away: nothing is lost, the whole batch runs again.
        except Exception as exc:  # E.g. a RecursionError: this event fails, the others of the batch go on.
            run.crashed(exc, tb.format_exc())
            continue
        for handler, envelope_item in batched:
            batches.setdefault(handler, []).append((run, envelope_item))
    for handler, entries in batches.items():
        apply_batch(handler, entries)
    return finish_runs(runs)


def _dispatch(run: EventRun) -> list[tuple[ItemHandler, EnvelopeItem]]:
    """Walk one event's body: apply each item that runs alone, and return those whose handler takes batches."""
    batched: list[tuple[ItemHandler, EnvelopeItem]] = []
    envelope, run.not_json = parse_body(bytes(run.event.body))
    if run.not_json:
        return batched
    for envelope_item in iter_items(envelope, event_id=run.event.pk):
        ctx = envelope_item.context
        if ctx.field:
            run.fields.add(ctx.field)
        if envelope_item.error:
            run.results.fail(ctx.path, ctx.field, ctx.kind, envelope_item.error, "")
            continue
        handler = handler_for(ctx.field, ctx.kind)
        if handler is None:
            # A new kind inside a field we handle is worth a warning: Meta added something we drop.
            level = logging.WARNING if ctx.field in handled_fields() else logging.INFO
            run.log_item(level, "webhook item has no handler", ctx)
            run.results.ignore(ctx.path, ctx.field, ctx.kind)
        elif batch_form(handler) is not None:
            batched.append((handler, envelope_item))
        else:
            apply_item(run, handler, envelope_item)
    return batched


def apply_item(run: EventRun, handler: ItemHandler, envelope_item: EnvelopeItem) -> None:
    """Apply one item in its own transaction and count its outcome."""
    ctx = envelope_item.context
    try:
        with transaction.atomic():
            handler(envelope_item.item, ctx)
    except (OperationalError, InterfaceError):
        raise  # The database went away: nothing is lost, the whole event runs again.
    except NotYetApplicable as exc:
        # Meta promises no order: what this item names may arrive later. Try the event again then.
        run.results.defer(ctx.path, ctx.field, ctx.kind, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # One bad item must never drop the rest of its batch.
        run.item_failed(envelope_item, exc, tb.format_exc())
    else:
        run.results.process()


def apply_batch(handler: ItemHandler, entries: list[tuple[EventRun, EnvelopeItem]]) -> None:
    """Apply items of one kind together; if the batch cannot be applied, apply each alone so only bad items fail."""
    try:
        outcomes = batch_form(handler)([(entry.item, entry.context) for _run, entry in entries])
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        # The error's type only: its text may quote an item. Applied alone, each bad item records its own error.
        logger.warning("webhook batch failed; applying its items one by one",
                       extra={"items": len(entries), "error_type": type(exc).__name__})
        for run, entry in entries:
            apply_item(run, handler, entry)
        return
    for (run, entry), outcome in zip(entries, outcomes, strict=True):
        if outcome is None:
            run.results.process()
        else:
            run.item_failed(entry, outcome, "".join(tb.format_exception(outcome)))


def finish_runs(runs: list[EventRun]) -> list[WebhookEvent]:
    """Record each event's outcome; events with the same outcome (the usual case) share one UPDATE."""
    alike: dict[str, tuple[dict[str, Any], list[EventRun]]] = {}
    for run in runs:
        changes = run.outcome()
        alike.setdefault(json.dumps(changes, sort_keys=True, default=str), (changes, []))[1].append(run)
    now = timezone.now()
    for changes, alike_runs in alike.values():
        # An outcome stored: this claim finished, so it counts toward no give-up (drain.MAX_UNFINISHED_ATTEMPTS).
        changes = {**changes, "claimed_by": "", "unfinished_attempts": 0, "updated_at": now,
                   "processed_at": None if changes["claimed_until"] else now}
        try:
            _store_outcome([run.event for run in alike_runs], changes)
        except (OperationalError, InterfaceError):
            raise
        except (DatabaseError, ValueError):  # The database refused a value: store each alone, so one fails alone.
            for run in alike_runs:
                _store_outcome_alone(run, changes)
        for run in alike_runs:
            run.log_summary()
    return [run.event for run in runs]


def _store_outcome(events: list[WebhookEvent], changes: dict[str, Any]) -> None:
    stored = WebhookEvent.objects.filter(pk__any=[event.pk for event in events])
    if connection.in_atomic_block:
        with transaction.atomic():  # A savepoint: a refused UPDATE leaves the caller's transaction usable.
            stored.update(**changes)
    else:
        stored.update(**changes)  # Autocommit (a drain): its own transaction, and a refusal leaves it usable.
    for event in events:
        for name, value in changes.items():
            setattr(event, name, value)


def _store_outcome_alone(run: EventRun, changes: dict[str, Any]) -> None:
    """Store one event's outcome; if the database refuses it too, mark the event failed with a reason it takes."""
    try:
        _store_outcome([run.event], changes)
    except (OperationalError, InterfaceError):
        raise
    except (DatabaseError, ValueError) as exc:
        logger.error("webhook event outcome refused by the database", extra={
            "event_id": run.event.pk, "error_type": type(exc).__name__})
        _store_outcome([run.event], {
            **changes, "state": State.FAILED, "claimed_until": None, "item_counts": {}, "item_failures": [],
            "fields": [], "traceback": "", "processed_at": changes["updated_at"],
            "error": f"The outcome of processing could not be stored ({type(exc).__name__}); replay to try again.",
        })


def finish_not_json(event: WebhookEvent, *, error: str) -> WebhookEvent:
    """Mark an event failed whose body is not JSON: nothing in it can be processed."""
    run = EventRun(event)
    run.not_json = error
    return finish_runs([run])[0]


def parse_body(body: bytes) -> tuple[Any, str]:
    """Return the JSON in `body` and "", or None and why it is not JSON."""
    try:
        return json.loads(body), ""
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too.
        return None, f"The body is not JSON: {exc}"
    except RecursionError:  # Python's parser recurses per level: a hostile body can outnest the stack.
        return None, "The body is not JSON that can be read: it is nested too deeply."

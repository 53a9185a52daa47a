"""Draining stored events in batches: statuses applied together, a bad item alone, wake-ups, claims, dead workers."""

import gc
import json

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from messaging.models import MessageReceipt, MessageStatusChange, OutboundMessage
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory
from tests.spec import webhook_body
from webhooks.models import WebhookEvent
from webhooks.services import (
    MAX_UNFINISHED_ATTEMPTS,
    webhook_event_record,
    webhook_event_reprocess,
    webhook_events_drain,
)

pytestmark = pytest.mark.django_db

State = WebhookEvent.State


def _status_body(wamid: str, status: str, wa_id: str | None, timestamp: int) -> bytes:
    """One status in a body shaped like the spec's sample."""
    sample = json.loads(webhook_body("messages.status_delivered_aggregated"))
    item = {"id": wamid, "status": status, "timestamp": str(timestamp), "recipient_id": "Y2FwaV9ncm91cDp0ZXN0"}
    if wa_id is not None:
        item["recipient_participant_id"] = wa_id
    sample["entry"][0]["changes"][0]["value"]["statuses"] = [item]
    return json.dumps(sample).encode()


def _backlog(messages: int, people: int = 3) -> list[tuple[OutboundMessage, list[str]]]:
    """Store a delivered and a read status per person of each message, unprocessed (as while no worker ran)."""
    made = []
    for _ in range(messages):
        group = GroupFactory()
        wa_ids = [ParticipantFactory(group=group).wa_id for _ in range(people)]
        message = OutboundMessageFactory(group=group, accepted=True, recipient_count=people)
        made.append((message, wa_ids))
    timestamp = 1772000000
    for message, wa_ids in made:
        for wa_id in wa_ids:
            for status in ("delivered", "read"):
                timestamp += 1
                webhook_event_record(body=_status_body(message.wamid, status, wa_id, timestamp), headers={})
    return made


def _drain_counting_statements() -> int:
    """Statements a drain runs, each table's multi-row INSERT once (SQLite splits it into chunks of parameters)."""
    with CaptureQueriesContext(connection) as queries:
        webhook_events_drain(batch_size=500)
    statements = [query["sql"] for query in queries.captured_queries]
    inserts = {sql.split(" VALUES")[0] for sql in statements if sql.startswith("INSERT")}
    return len([sql for sql in statements if not sql.startswith("INSERT")]) + len(inserts)


def test_a_backlog_is_applied_in_full():
    # given
    made = _backlog(4)
    # when
    processed = webhook_events_drain()
    # then
    assert processed == 24
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {State.PROCESSED}
    for message, _wa_ids in made:
        message.refresh_from_db()
        assert (message.status, message.delivered_count, message.read_count) == ("read", 3, 3)
        assert MessageReceipt.objects.filter(message=message, read_at__isnull=False).count() == 3
        assert MessageStatusChange.objects.filter(message=message, source="webhook").count() == 6


def test_batches_are_applied_with_the_garbage_collector_paused_and_it_resumes_after(monkeypatch):
    # given: a backlog, and a record of whether Python's cyclic collector runs while its statuses are applied
    from webhooks.handlers import messages as handlers

    _backlog(2)
    seen = []
    apply = handlers.message_statuses_apply
    monkeypatch.setattr(handlers, "message_statuses_apply", lambda items: seen.append(gc.isenabled()) or apply(items))
    # when
    processed = webhook_events_drain()
    # then: paused for the batch (its passes walked every object the batch keeps: a fifth of the drain's time)
    assert processed == 12
    assert seen == [False]
    assert gc.isenabled()


def test_the_garbage_collector_resumes_when_a_batch_loses_the_database(monkeypatch):
    from webhooks.handlers import messages as handlers

    _backlog(1)

    def database_gone(items):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(handlers, "message_statuses_apply", database_gone)
    with pytest.raises(OperationalError):
        webhook_events_drain()
    assert gc.isenabled()


def test_the_statements_of_a_drain_do_not_grow_with_its_events():
    """Statuses of a batch share their reads and writes: 60 events cost what 6 do."""
    # given
    _backlog(1)
    few = _drain_counting_statements()
    _backlog(10)
    # when
    many = _drain_counting_statements()
    # then
    assert WebhookEvent.objects.filter(state=State.PROCESSED).count() == 66
    assert many == few


def test_a_status_that_cannot_be_applied_fails_alone_and_the_rest_of_its_batch_is_applied():
    # given: a batch whose last status names a person by an empty phone ("+"): no participant can be made (since
    # wa_ids are read through one normaliser, the item fails as it is read, still alone in its batch)
    [(message, _wa_ids)] = _backlog(1)
    bad, _ = webhook_event_record(body=_status_body(message.wamid, "read", "+", 1772999999), headers={})
    # when
    webhook_events_drain()
    # then
    bad.refresh_from_db()
    assert bad.state == State.FAILED
    assert "recipient_participant_id is not a phone number" in bad.item_failures[0]["error"]
    assert WebhookEvent.objects.filter(state=State.PROCESSED).count() == 6
    message.refresh_from_db()
    assert (message.status, message.read_count) == ("read", 3)


def test_events_held_by_another_worker_are_left_to_it():
    # given
    _backlog(1)
    held = WebhookEvent.objects.order_by("pk").first()
    WebhookEvent.objects.filter(pk=held.pk).update(claimed_until="2999-01-01T00:00:00Z", claimed_by="other-task")
    # when
    processed = webhook_events_drain(claimant="this-task")
    # then
    assert processed == 5
    held.refresh_from_db()
    assert (held.state, held.claimed_by) == (State.PENDING, "other-task")


def test_a_webhook_wakes_no_second_drainer_while_one_is_on_its_way(post_webhook, settings, tmp_path, monkeypatch):
    """With a cache every process shares, the flag saves a publish per webhook; the drainer clears it."""
    # given: a shared cache (a directory here; Redis in production) and a drainer already woken; every webhook
    # asks the cache (the brief trust in a flag seen is the next test's)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                   "LOCATION": str(tmp_path)}}
    from webhooks.services import wake

    monkeypatch.setattr(wake, "WAKE_FLAG_TRUST_SECONDS", 0)
    from django.core.cache import cache

    from webhooks.services import WAKE_FLAG

    flag = f"{WAKE_FLAG}:0"  # The slot webhooks wake.
    [(message, wa_ids)] = _backlog(1, people=1)
    webhook_events_drain()
    cache.add(flag, 1)
    # when: a webhook arrives, then the woken drainer runs
    post_webhook(_status_body(message.wamid, "read", wa_ids[0], 1772000100))
    waiting = WebhookEvent.objects.filter(state=State.PENDING).count()
    webhook_events_drain()
    # then: the webhook left its event to that drainer, which cleared the flag; the next webhook wakes one at once
    assert waiting == 1
    assert cache.get(flag) is None
    post_webhook(_status_body(message.wamid, "delivered", wa_ids[0], 1772000000))
    assert not WebhookEvent.objects.filter(state=State.PENDING).exists()


def test_a_burst_asks_the_shared_flag_once_and_the_drainer_still_claims_what_it_stored(
    post_webhook, settings, tmp_path, monkeypatch
):
    """A process that saw the flag set trusts it briefly; the drainer's last look waits for what it stored."""
    # given: a shared cache and a drainer on its way (its flag set), seen by this process's first webhook
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                   "LOCATION": str(tmp_path)}}
    from django.core.cache import cache

    from webhooks.services import WAKE_FLAG, drain, wake

    flag = f"{WAKE_FLAG}:0"
    [(message, wa_ids)] = _backlog(1, people=2)
    webhook_events_drain()
    cache.add(flag, 1)
    post_webhook(_status_body(message.wamid, "read", wa_ids[0], 1772000100))
    # when: the drainer (another process) clears the flag and finds nothing, and while it waits before its last
    # look, this process stores a second webhook without asking the cache again
    cache.delete(flag)
    stored_while_waiting = []

    def a_webhook_arrives(seconds):
        assert seconds == wake.WAKE_FLAG_TRUST_SECONDS
        if not stored_while_waiting:  # The first wait only; the drainer waits again before it ends.
            post_webhook(_status_body(message.wamid, "read", wa_ids[1], 1772000101))
            stored_while_waiting.append(cache.get(flag))

    monkeypatch.setattr(drain.time, "sleep", a_webhook_arrives)
    monkeypatch.setattr(drain, "claim", _claims_nothing_first(drain.claim))
    processed = webhook_events_drain()
    # then: that webhook set no flag (it trusted the one it saw), and the drainer's last look applied both events
    assert stored_while_waiting == [None]
    assert processed == 2
    assert not WebhookEvent.objects.filter(state=State.PENDING).exists()


def _claims_nothing_first(claim):
    """The drainer's first look happens before the first webhook's event is visible to it (it raced the commit)."""
    calls = []

    def first_empty(**kwargs):
        calls.append(kwargs)
        return [] if len(calls) == 1 else claim(**kwargs)

    return first_empty


def test_a_webhook_asks_the_flag_again_once_its_trust_runs_out(post_webhook, settings, tmp_path, monkeypatch):
    # given: this process saw the flag set, and the drainer cleared it in another process
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                   "LOCATION": str(tmp_path)}}
    from django.core.cache import cache

    from webhooks.services import WAKE_FLAG, wake

    [(message, wa_ids)] = _backlog(1, people=2)
    webhook_events_drain()
    cache.add(f"{WAKE_FLAG}:0", 1)
    post_webhook(_status_body(message.wamid, "read", wa_ids[0], 1772000100))
    cache.delete(f"{WAKE_FLAG}:0")
    # when: the next webhook comes after the trust ran out
    monkeypatch.setattr(wake, "WAKE_FLAG_TRUST_SECONDS", 0)
    post_webhook(_status_body(message.wamid, "read", wa_ids[1], 1772000101))
    # then: it asked, set the flag and woke a drainer (here at once, in-process), which applied both
    assert not WebhookEvent.objects.filter(state=State.PENDING).exists()


@pytest.mark.parametrize(("drains", "taken_by_the_first"), [(1, 6), (2, 2)])
def test_a_backlog_wakes_a_second_drain(settings, tmp_path, drains, taken_by_the_first):
    """A full batch means a backlog: it wakes the next drain slot (here it runs at once, in this process)."""
    # given: a shared cache, and 6 events for batches of 2
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                   "LOCATION": str(tmp_path)}}
    settings.WEBHOOK_DRAINS = drains
    _backlog(1, people=3)
    # when
    taken = webhook_events_drain(batch_size=2)
    # then: with a second slot, the first drain applied its own batch and the second drain the rest
    assert taken == taken_by_the_first
    assert WebhookEvent.objects.filter(state=State.PROCESSED).count() == 6


def test_without_a_broker_a_drain_that_loses_the_database_is_not_retried_inside_its_caller(monkeypatch):
    """Eager Celery runs a retry at once, in the caller's stack (issue 16 §1): the events wait for the sweep."""
    # given
    from webhooks.tasks import webhook_events_drain_task

    _backlog(1)
    calls = []

    def database_gone(**kwargs):
        calls.append(kwargs)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("webhooks.services.webhook_events_drain", database_gone)
    # when
    with pytest.raises(OperationalError):
        webhook_events_drain_task.delay()
    # then
    assert len(calls) == 1
    assert WebhookEvent.objects.filter(state=State.PENDING).exists()


# --- Workers that die mid-claim ------------------------------------------------------------------


class WorkerKilled(BaseException):
    """Stands for the kernel killing the worker (out of memory, Celery's hard time limit): nothing after it runs."""


def _kill_the_worker_when(monkeypatch, deadly) -> None:
    """Make processing die, before any outcome is stored, for every claim `deadly(events)` says is fatal."""
    from webhooks.services import drain

    process = drain.process_claimed

    def process_or_die(events):
        if deadly(events):
            raise WorkerKilled
        return process(events)

    monkeypatch.setattr(drain, "process_claimed", process_or_die)


def _drain_until_it_ends(claimant: str = "redelivered-task") -> int:
    """Run the drain as a task redelivered after each death (acks_late: the same task id) until one run ends."""
    for deaths in range(20):
        try:
            webhook_events_drain(claimant=claimant)
            return deaths
        except WorkerKilled:
            continue
    raise AssertionError("the drain never ended")


def test_an_event_whose_processing_never_finishes_fails_after_max_attempts_and_replays(monkeypatch):
    # given: one stored event, whose processing kills its worker every time
    [(message, _wa_ids)] = _backlog(1, people=1)
    event = WebhookEvent.objects.order_by("pk").first()
    WebhookEvent.objects.exclude(pk=event.pk).delete()
    _kill_the_worker_when(monkeypatch, lambda events: True)
    # when
    deaths = _drain_until_it_ends()
    # then: claimed MAX_UNFINISHED_ATTEMPTS times, then failed with the reason, in the failed list
    assert deaths == MAX_UNFINISHED_ATTEMPTS == 5
    event.refresh_from_db()
    assert (event.state, event.attempts, event.claimed_until, event.claimed_by) == (State.FAILED, 5, None, "")
    assert event.error.startswith("Gave up after 5 attempts that did not finish")
    assert list(WebhookEvent.objects.filter(state=State.FAILED)) == [event]
    # when: the cause is fixed and the event replayed
    monkeypatch.undo()
    webhook_event_reprocess(event=event)
    assert event.unfinished_attempts == 0
    webhook_events_drain()
    # then
    event.refresh_from_db()
    assert (event.state, event.error, event.unfinished_attempts) == (State.PROCESSED, "", 0)
    message.refresh_from_db()
    assert message.delivered_count == 1


def test_only_the_event_that_kills_its_worker_fails_and_the_rest_of_its_batch_is_applied(monkeypatch):
    # given: a batch of 6 events, one of which kills the worker that processes it
    _backlog(1)
    deadly = WebhookEvent.objects.order_by("pk")[2]
    claimed = []
    _kill_the_worker_when(monkeypatch, lambda events: claimed.append(len(events)) or deadly in events)
    # when
    _drain_until_it_ends()
    # then: the batch was taken whole once more (a single death is most often a database restart), then each
    # event alone; only the deadly one reached the limit
    assert claimed[:3] == [6, 6, 1]
    deadly.refresh_from_db()
    assert deadly.state == State.FAILED and "did not finish" in deadly.error
    others = WebhookEvent.objects.exclude(pk=deadly.pk)
    assert set(others.values_list("state", "unfinished_attempts")) == {(State.PROCESSED, 0)}
    assert others.count() == 5


def test_an_event_deferred_again_and_again_is_never_given_up_as_unfinished():
    # given: Meta's create of a group we never asked for (it waits for our request), claimed more often than the
    # limit, each run finishing with the event deferred
    event, _ = webhook_event_record(body=webhook_body("group_lifecycle_update.create_succeeded"), headers={})
    for _ in range(MAX_UNFINISHED_ATTEMPTS + 2):
        WebhookEvent.objects.filter(pk=event.pk).update(claimed_until=None)  # Its retry time has come.
        webhook_events_drain()
    # then
    event.refresh_from_db()
    assert (event.state, event.attempts, event.unfinished_attempts) == (State.PENDING, 7, 0)

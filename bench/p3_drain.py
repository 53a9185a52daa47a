"""P3 (issue 9): a stored backlog drained by the running worker, vs a batched INSERT; and a cProfile of the drain."""

from __future__ import annotations

import cProfile
import io
import pstats
import time

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.harness import Deployment, wait_for
from bench.webhook_load import Pairs, drain_pending, store_pending


def settle_backlog() -> None:
    """Wake the worker's drain, wait until no event is pending, then vacuum what applying it changed.

    P1 leaves tens of thousands of events; applying them rewrites as many rows. Vacuumed here, as autovacuum would
    soon, so that P2 and P3 measure steady work rather than the maintenance P1's burst left behind.
    """
    from webhooks.tasks import webhook_events_drain_task

    webhook_events_drain_task.apply_async()
    waited = drain_pending(first=0, timeout=600)
    t0 = time.monotonic()
    with connection.cursor() as cursor:
        for table in ("webhooks_webhookevent", "messaging_messagestatuschange", "messaging_messagereceipt",
                      "messaging_outboundmessage", "groups_groupevent"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"backlog settled in {waited:.1f} s, vacuumed in {time.monotonic() - t0:.1f} s", flush=True)


def bench_p3(dep: Deployment, pairs: Pairs, runs: int, events: int) -> dict:
    """A backlog of `events` stored single-status events, drained by the running worker; vs a batched INSERT."""
    from messaging.models import MessageStatusChange, OutboundMessage
    from webhooks.models import WebhookEvent
    from webhooks.tasks import webhook_events_drain_task

    rows = []
    for _ in range(runs):
        first = store_pending(pairs, events)
        backlog = WebhookEvent.objects.filter(pk__gte=first)
        t0 = time.perf_counter()
        webhook_events_drain_task.apply_async()  # What the first webhook of a backlog does.
        wait_for(lambda backlog=backlog: not backlog.filter(state="pending").exists(), timeout=events / 20 + 60,
                 interval=0.05, what="P3 backlog drained")
        worker_s = time.perf_counter() - t0
        applied = backlog.filter(state="processed").count()

        # The same number of status rows, inserted raw in batches of 1,000 (then rolled back).
        message = OutboundMessage.objects.filter(wamid__isnull=False).first()
        now = timezone.now()
        t1 = time.perf_counter()
        with transaction.atomic():
            batch = [MessageStatusChange(message=message, status="delivered", from_status="sent",
                                         to_status="delivered", source="webhook", timestamp=now,
                                         event_key=f"bench-raw-{i}", participant_key=f"raw{i}")
                     for i in range(events)]
            MessageStatusChange.objects.bulk_create(batch, batch_size=1000)
            raw_s = time.perf_counter() - t1
            transaction.set_rollback(True)
        row = {"events": events, "applied": applied, "worker_s": worker_s, "worker_rate": applied / worker_s,
               "raw_s": raw_s, "raw_rate": events / raw_s}
        row["ratio"] = row["worker_rate"] / row["raw_rate"]
        rows.append(row)
        print("P3", row, flush=True)
    return {"runs": rows, "profile": profile_processing(pairs, 2000)}


def profile_processing(pairs: Pairs, events: int) -> str:
    """cProfile of webhook_events_drain over stored single-status events, in this process: where the time goes."""
    from webhooks.models import WebhookEvent
    from webhooks.services import webhook_events_drain

    first = store_pending(pairs, events)
    profiler = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        t0 = time.perf_counter()
        profiler.enable()
        webhook_events_drain(claimant="bench-profile")
        profiler.disable()
        elapsed = time.perf_counter() - t0
    done = WebhookEvent.objects.filter(pk__gte=first, state="processed").count()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
    header = (f"{done}/{events} events drained in-process in {elapsed:.2f} s "
              f"({events / elapsed:.0f}/s, one process, under cProfile), "
              f"{len(queries)} SQL queries in all ({len(queries) / events:.2f} per single-status event)\n")
    return header + out.getvalue()

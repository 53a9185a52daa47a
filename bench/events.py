"""Outbound events (issue 19): fan-out of 10,000 status changes to one subscribed endpoint, and what recording costs.

Run under tests/with_services.sh (PostgreSQL), as `make bench` does with BENCH_ONLY including `events`:

- Recording: the same status batches (per-participant `delivered`, 500 items a batch, as a drain applies them)
  applied with no endpoint, then with one endpoint subscribed to every type; the ratio of statuses/s is what an
  endpoint costs the status worker. Webhook ingest (P1) only stores the raw body: events are recorded when the
  body is applied (bench/p1_ingest.py measures P1 with and without an endpoint).
- Fan-out: the deliveries those batches recorded, sent by INTEGRATIONS senders (processes, each
  INTEGRATIONS_DELIVERY_CONCURRENCY threads: the `integrations` worker's documented shape) to a local receiver
  (a separate process answering 200 on keep-alive connections), timed from the first claim to the last delivery.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["INTEGRATIONS_ALLOW_PRIVATE_URLS"] = "true"

PARTICIPANTS = 8
BATCH = 500


def sender_start() -> None:
    """Set up Django in a sender process before the clock starts (a worker is started long before a burst)."""
    import django

    django.setup()
    from integrations.services import deliveries  # noqa: F401  Imported now, not on the clock.


def sender_ready(_index: int) -> bool:
    time.sleep(1)  # Busy a moment, so each process takes one of these: every one has started before the clock.
    return True


def sender_loop(_index: int) -> int:
    from integrations.services.deliveries import deliveries_send_due

    sent = 0
    while n := deliveries_send_due():
        sent += n
    return sent


def seed(statuses: int, tag: str):
    """Return status items for `statuses` per-participant deliveries of new accepted messages of one group."""
    from groups.models import Group, Participant, PhoneNumber
    from messaging.events import StatusEvent
    from messaging.models import OutboundMessage
    from messaging.services.statuses import StatusItem

    number, _ = PhoneNumber.objects.get_or_create(phone_number_id="bench-events", defaults={
        "display_phone_number": "15550009999", "waba_id": "bench"})
    group = Group.objects.create(phone_number=number, group_id=f"bench-events-{tag}", subject=f"Events {tag}",
                                 state=Group.State.ACTIVE)
    wa_ids = [f"1555{tag}{i:04d}" for i in range(PARTICIPANTS)]  # Digits only: a wa_id is a phone number.
    Participant.objects.bulk_create([Participant(group=group, wa_id=w) for w in wa_ids])
    now = datetime.now(tz=UTC)
    messages = OutboundMessage.objects.bulk_create([
        OutboundMessage(group=group, type="text", content={"body": "bench", "preview_url": False},
                        wamid=f"wamid.EV{tag}{i}", status=OutboundMessage.Status.ACCEPTED, accepted_at=now,
                        recipient_count=PARTICIPANTS)
        for i in range(statuses // PARTICIPANTS)
    ])
    return [StatusItem(event=StatusEvent(wamid=m.wamid, status="delivered", timestamp=now, participant_wa_id=w,
                                         recipient_id=group.group_id))
            for m in messages for w in wa_ids]


def apply(items) -> float:
    from messaging.services.statuses import message_statuses_apply

    started = time.perf_counter()
    for start in range(0, len(items), BATCH):
        message_statuses_apply(items[start:start + BATCH])
    return len(items) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statuses", type=int, default=10000)
    parser.add_argument("--senders", type=int, default=2, help="sender processes (the integrations worker's -c)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", default="")
    args = parser.parse_args()
    import django

    django.setup()
    from django.conf import settings

    from bench.harness import report_write
    from bench.receiver import receiver_start
    from integrations.models import Delivery, WebhookEndpoint
    from integrations.services.endpoints import endpoint_create
    from outbox.models import OutboxEvent

    receiver, url = receiver_start()
    rows = []
    try:
        for run in range(args.runs):
            WebhookEndpoint.objects.all().delete()
            without = apply(seed(args.statuses, f"{run}1"))
            endpoint = endpoint_create(url=url, description="bench").endpoint
            with_endpoint = apply(seed(args.statuses, f"{run}2"))
            events = Delivery.objects.filter(endpoint=endpoint, state=Delivery.State.PENDING).count()
            with multiprocessing.get_context("spawn").Pool(args.senders, initializer=sender_start) as pool:
                pool.map(sender_ready, range(args.senders))
                started = time.perf_counter()
                sent = sum(pool.map(sender_loop, range(args.senders)))
                seconds = time.perf_counter() - started
            left = Delivery.objects.filter(endpoint=endpoint).exclude(state=Delivery.State.SUCCEEDED).count()
            rows.append((without, with_endpoint, events, sent, seconds, left))
            print("events run", run, rows[-1], flush=True)
            OutboxEvent.objects.all().delete()
    finally:
        receiver.terminate()
    lines = ["", "## Outbound events (issue 19)", "",
             f"{args.statuses:,} per-participant `delivered` statuses applied in batches of {BATCH} (each records a "
             f"`message.receipt`, and each message's first a `message.delivered`), on PostgreSQL; then their "
             f"deliveries sent by {args.senders} sender processes x {settings.INTEGRATIONS_DELIVERY_CONCURRENCY} "
             "threads to a local receiver answering 200. Webhook ingest (P1) stores the raw body only (its figure "
             "with and without an endpoint is in the P1 section): the recording cost shows in the status worker, "
             "measured here.", "",
             "| run | statuses/s, no endpoint | statuses/s, one endpoint | ratio | events | delivered | seconds | "
             "events/s | not delivered |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for run, (without, with_endpoint, events, sent, seconds, left) in enumerate(rows, start=1):
        lines.append(f"| {run} | {without:,.0f} | {with_endpoint:,.0f} | {with_endpoint / without:.2f} | {events:,} | "
                     f"{sent:,} | {seconds:.1f} | {sent / seconds:,.0f} | {left} |")
    rates = [sent / seconds for _w, _e, _n, sent, seconds, _l in rows]
    ratios = [w / wo for wo, w, *_ in rows]
    lines += ["", f"Fan-out {min(rates):,.0f}-{max(rates):,.0f} events/s over the runs (target >= 1,000); statuses/s "
              f"with an endpoint / without: {min(ratios):.2f}-{max(ratios):.2f}.", ""]
    report_write("\n".join(lines) + "\n", args.output)


if __name__ == "__main__":
    main()

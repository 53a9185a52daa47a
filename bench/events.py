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
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["INTEGRATIONS_ALLOW_PRIVATE_URLS"] = "true"
if broker := os.environ.get("CELERY_BROKER_URL"):
    # As deployed (docs/deployment.md): the cache on Redis, so the senders' wake flag is shared.
    os.environ.setdefault("CACHE_URL", broker.rsplit("/", 1)[0] + "/1")

PARTICIPANTS = 8
BATCH = 500
RUN_TAG = f"{os.getpid() % 1000:03d}"  # Seeded ids unique per invocation: a database may hold an earlier run's.


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


def apply(items) -> tuple[float, float]:
    """Apply the items in batches; return statuses/s and CPU seconds per 1,000 (this process and its PostgreSQL
    backend: on a shared machine the wall clock also counts other sessions' work, CPU time hardly does)."""
    from messaging.services.statuses import message_statuses_apply

    backend = backend_pid()
    started, cpu = time.perf_counter(), time.process_time() + process_cpu(backend)
    for start in range(0, len(items), BATCH):
        message_statuses_apply(items[start:start + BATCH])
    seconds, cpu = time.perf_counter() - started, time.process_time() + process_cpu(backend) - cpu
    return len(items) / seconds, cpu * 1000 / len(items)


def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def process_cpu(pid: int) -> float:
    """Return the user + system CPU seconds of a process of this machine (the PostgreSQL backend is local)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statuses", type=int, default=10000)
    parser.add_argument("--senders", type=int, default=2, help="sender processes (the integrations worker's -c)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", default="")
    args = parser.parse_args()
    import django

    django.setup()
    from bench.harness import report_write
    from bench.receiver import receiver_start
    from integrations.services.wake import sender_publish

    # A status worker's broker connection is open long before a burst: opened here, not on the clock.
    sender_publish()
    load_before = os.getloadavg()
    receiver, url = receiver_start()
    rows = []
    try:
        for run in range(args.runs):
            rows.append(run_once(run, url, args))
            print("events run", run, rows[-1], flush=True)
    finally:
        receiver.terminate()
        queues_purge()
    report_write(report(rows, args, load_before), args.output)


def run_once(run: int, url: str, args) -> tuple:
    """Apply statuses with no endpoint and with one (in alternating order), then send that one's deliveries."""
    from integrations.models import Delivery, WebhookEndpoint
    from integrations.services.endpoints import endpoint_create
    from outbox.models import OutboxEvent

    WebhookEndpoint.objects.all().delete()
    endpoint = endpoint_create(url=url, description="bench").endpoint
    rates = {}
    for with_endpoint in ((False, True) if run % 2 == 0 else (True, False)):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=with_endpoint)  # Inactive: receives nothing.
        rates[with_endpoint] = apply(seed(args.statuses, f"{RUN_TAG}{run}{int(with_endpoint) + 1}"))
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=True)
    events = Delivery.objects.filter(endpoint=endpoint, state=Delivery.State.PENDING).count()
    with multiprocessing.get_context("spawn").Pool(args.senders, initializer=sender_start) as pool:
        pool.map(sender_ready, range(args.senders))
        started = time.perf_counter()
        sent = sum(pool.map(sender_loop, range(args.senders)))
        seconds = time.perf_counter() - started
    left = Delivery.objects.filter(endpoint=endpoint).exclude(state=Delivery.State.SUCCEEDED).count()
    OutboxEvent.objects.all().delete()
    return *rates[False], *rates[True], events, sent, seconds, left


def queues_purge() -> None:
    """Drop the sender tasks the batches published (no worker runs here) and their wake flags."""
    import redis
    from django.core.cache import cache

    from integrations.services.wake import WAKE_FLAG

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).delete("integrations")
    cache.delete_many([f"{WAKE_FLAG}:{slot}" for slot in range(8)])


def report(rows: list[tuple], args, load_before: tuple) -> str:
    from django.conf import settings

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    load = ", ".join(f"{x:.1f}" for x in (*load_before, *os.getloadavg()))
    lines = ["", "## Outbound events (issue 19)", "",
             f"{args.statuses:,} per-participant `delivered` statuses applied in batches of {BATCH} (each records a "
             f"`message.receipt`, and each message's first a `message.delivered`), on PostgreSQL, with no endpoint "
             f"and with one subscribed to every type (alternating which comes first); then that endpoint's "
             f"deliveries sent by {args.senders} sender processes x {settings.INTEGRATIONS_DELIVERY_CONCURRENCY} "
             "threads to a local receiver answering 200. Webhook ingest (P1) stores the raw body only (its figure "
             "with and without an endpoint is in the P1 section): the recording cost shows in the status worker, "
             f"measured here. Commit {commit}; load average (1, 5, 15 min) before, after: {load}.", "",
             "CPU is this process's and its PostgreSQL backend's, in ms per 1,000 statuses: on a shared machine the "
             "wall clock also counts other sessions' work, CPU time hardly does.", "",
             "| run | statuses/s, no endpoint | statuses/s, one endpoint | ratio | CPU ms, no endpoint | CPU ms, one "
             "endpoint | CPU ratio (no / one) | events | delivered | seconds | events/s | not delivered |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for run, (without, cpu_without, with_, cpu_with, events, sent, seconds, left) in enumerate(rows, start=1):
        lines.append(f"| {run} | {without:,.0f} | {with_:,.0f} | {with_ / without:.2f} | {cpu_without * 1000:,.0f} | "
                     f"{cpu_with * 1000:,.0f} | {cpu_without / cpu_with:.2f} | {events:,} | {sent:,} | {seconds:.1f} | "
                     f"{sent / seconds:,.0f} | {left} |")
    rates = [row[-3] / row[-2] for row in rows]
    ratios = [row[2] / row[0] for row in rows]
    cpu_ratios = [row[1] / row[3] for row in rows]
    lines += ["", f"Fan-out {min(rates):,.0f}-{max(rates):,.0f} events/s over the runs (target >= 1,000); statuses/s "
              f"with an endpoint / without: {min(ratios):.2f}-{max(ratios):.2f} (median "
              f"{statistics.median(ratios):.2f}); by CPU per status: {min(cpu_ratios):.2f}-{max(cpu_ratios):.2f} "
              f"(median {statistics.median(cpu_ratios):.2f}).", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

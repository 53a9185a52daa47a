"""Load a support desk's worth of rows into PostgreSQL with COPY, for the admin benchmark (issue 8).

    DATABASE_URL=postgres://... .venv/bin/python bench/seed.py --messages 1000000 --statuses-per-message 10

Groups, participants, receipts, group events and webhook events are proportional to --messages.
Rows get ids after the current maximum, so it can run on a database that already has data; the
sequences are moved past them and the tables analysed (the admin's estimated counts read that).
"""

import argparse
import io
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

from groups.models import Group, GroupEvent, Participant, PhoneNumber  # noqa: E402
from messaging.models import MessageReceipt, MessageStatusChange, OutboundMessage  # noqa: E402
from webhooks.models import WebhookEvent  # noqa: E402

# Shares of final statuses, roughly a healthy desk with a bad day in it.
STATUS_WEIGHTS = {"read": 60, "delivered": 18, "sent": 5, "accepted": 3, "failed": 8, "queued": 3, "sending": 3}
ERROR_CODES = ["131000", "131026", "131047", "130429", "131041", "outcome_unknown"]
PARTICIPANTS_PER_GROUP = 5
MESSAGES_PER_GROUP = 50
ROWS_PER_WRITE = 20_000  # Lines buffered per COPY write: big enough to be quick, small enough for memory.


def _text(value) -> str:
    """Return one value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, separators=(",", ":"))
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def copy_rows(model, columns: list[str], rows) -> int:
    """COPY the rows (tuples in `columns` order) into the model's table; return how many.

    NOT NULL columns not named get their model default, so a column added later does not break the seed.
    """
    table = model._meta.db_table
    extra = [f for f in model._meta.concrete_fields
             if f.column not in columns and not f.null and not f.primary_key
             and (f.has_default() or f.empty_strings_allowed)]
    if extra:
        defaults = tuple(f.get_default() for f in extra)
        columns = [*columns, *(f.column for f in extra)]
        rows = (tuple(row) + defaults for row in rows)
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(_text(v) for v in row))
            buffer.write("\n")
            count += 1
            if count % ROWS_PER_WRITE == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    return count


def _next_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")
        return cursor.fetchone()[0]


def _reset_sequence(model) -> None:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 1)) FROM {table}")


# Long on purpose: one generator per table, each reading the ids and the message `plan` the ones before it made;
# split up, every helper would take and return that shared state, and the load order would be harder to see.
def seed(*, messages: int, statuses_per_message: int, days: int, seed_value: int) -> dict[str, int]:
    """Load the rows; return the count per table."""
    rng = random.Random(seed_value)
    now = datetime.now(tz=UTC)
    window = timedelta(days=days).total_seconds()
    counts: dict[str, int] = {}

    number, _ = PhoneNumber.objects.get_or_create(
        phone_number_id="bench-phone-1", defaults={"display_phone_number": "15550001001", "waba_id": "bench-waba",
                                                   "label": "Bench"},
    )
    second, _ = PhoneNumber.objects.get_or_create(
        phone_number_id="bench-phone-2", defaults={"display_phone_number": "15550001002", "waba_id": "bench-waba",
                                                   "label": "Bench 2"},
    )
    group_count = max(1, messages // MESSAGES_PER_GROUP)
    first_group = _next_id(Group)
    states = ["active"] * 90 + ["deleted"] * 5 + ["create_failed"] * 3 + ["creating"] * 2

    def groups():
        for i in range(group_count):
            created = now - timedelta(seconds=window + 86400 * rng.random())
            state = rng.choice(states)
            pk = first_group + i
            yield (pk, created, created, (number if i % 4 else second).pk, f"bench-group-{pk}",
                   f"Bench group {first_group + i}", "", "auto_approve", "https://chat.whatsapp.com/bench", state,
                   i % 97 == 0, PARTICIPANTS_PER_GROUP)

    counts["groups"] = copy_rows(Group, ["id", "created_at", "updated_at", "phone_number_id", "group_id", "subject",
                                         "description", "join_approval_mode", "invite_link", "state", "suspended",
                                         "participant_count"], groups())

    first_participant = _next_id(Participant)

    def participants():
        for g in range(group_count):
            for p in range(PARTICIPANTS_PER_GROUP):
                pk = first_participant + g * PARTICIPANTS_PER_GROUP + p
                yield (pk, now, now, first_group + g, f"44{pk:010d}", f"Person {pk}", "active", "", "")

    counts["participants"] = copy_rows(Participant, ["id", "created_at", "updated_at", "group_id", "wa_id", "name",
                                                     "state", "parent_user_id", "username"], participants())

    statuses = list(STATUS_WEIGHTS)
    weights = list(STATUS_WEIGHTS.values())
    first_message = _next_id(OutboundMessage)
    plan: list[tuple[int, str, datetime]] = []  # (group offset, status, created) per message, reused below.

    def outbound():
        for i in range(messages):
            pk = first_message + i
            g = rng.randrange(group_count)
            status = rng.choices(statuses, weights)[0]
            created = now - timedelta(seconds=window * rng.random())
            plan.append((g, status, created))
            reached = status in ("sent", "delivered", "read")
            accepted_at = created + timedelta(seconds=1) if status not in ("queued", "sending") else None
            delivered = PARTICIPANTS_PER_GROUP if status in ("delivered", "read") else 0
            read = rng.randint(1, PARTICIPANTS_PER_GROUP) if status == "read" else 0
            failed = status == "failed"
            code = rng.choice(ERROR_CODES) if failed else ""
            yield (
                pk, created, created, first_group + g, "text", {"body": f"Bench message {pk}", "preview_url": False},
                status, f"wamid.BENCH{pk:012d}" if accepted_at else None,
                {"code": code, "title": "bench"} if failed else None, code, PARTICIPANTS_PER_GROUP, delivered, read,
                "", "api", 1 if accepted_at else 0, created if status == "sending" else None, accepted_at,
                created + timedelta(seconds=2) if reached else None,
                created + timedelta(seconds=3) if delivered else None,
                created + timedelta(seconds=60) if read else None,
                created + timedelta(seconds=5) if failed else None,
            )

    counts["messages"] = copy_rows(OutboundMessage, [
        "id", "created_at", "updated_at", "group_id", "type", "content", "status", "wamid", "error", "error_code",
        "recipient_count", "delivered_count", "read_count", "request_fingerprint", "source", "attempt_count",
        "sending_started_at", "accepted_at", "sent_at", "delivered_at", "read_at", "failed_at",
    ], outbound())

    first_change = _next_id(MessageStatusChange)

    def changes():
        pk = first_change
        for i, (g, status, created) in enumerate(plan):
            message = first_message + i
            for n in range(statuses_per_message):
                participant = first_participant + g * PARTICIPANTS_PER_GROUP + n % PARTICIPANTS_PER_GROUP
                event = ("sent", "delivered", "read")[n % 3] if status not in ("queued", "sending") else "queued"
                at = created + timedelta(seconds=n)
                yield (pk, message, event, "", "", f"wa:44{participant:010d}", participant, f"44{participant:010d}",
                       "", at, "webhook", {}, "", f"{event}:{participant}:{n}", at)
                pk += 1

    counts["status_changes"] = copy_rows(MessageStatusChange, [
        "id", "message_id", "status", "from_status", "to_status", "participant_key", "participant_id",
        "participant_wa_id", "participant_user_id", "timestamp", "source", "detail", "webhook_item", "event_key",
        "created_at",
    ], changes())

    first_receipt = _next_id(MessageReceipt)

    def receipts():
        pk = first_receipt
        for i, (g, status, created) in enumerate(plan):
            if status not in ("delivered", "read"):
                continue
            for p in range(PARTICIPANTS_PER_GROUP):
                participant = first_participant + g * PARTICIPANTS_PER_GROUP + p
                yield (pk, created, created, first_message + i, f"wa:44{participant:010d}", participant,
                       f"44{participant:010d}", "", created + timedelta(seconds=3),
                       created + timedelta(seconds=60) if status == "read" else None)
                pk += 1

    counts["receipts"] = copy_rows(MessageReceipt, [
        "id", "created_at", "updated_at", "message_id", "participant_key", "participant_id", "participant_wa_id",
        "participant_user_id", "delivered_at", "read_at",
    ], receipts())

    first_event = _next_id(GroupEvent)

    def group_events():
        for g in range(group_count):
            for n, kind in enumerate(("create_requested", "created", "participant_joined", "participant_joined")):
                pk = first_event + g * 4 + n
                at = now - timedelta(seconds=window * rng.random())
                yield (pk, first_group + g, kind, at, {}, "webhook", "", f"bench-{pk}", at)

    counts["group_events"] = copy_rows(GroupEvent, ["id", "group_id", "type", "occurred_at", "detail", "source",
                                                    "webhook_item", "dedupe_key", "created_at"], group_events())

    first_webhook = _next_id(WebhookEvent)

    def webhook_events():
        body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
        for i in range(max(1, messages // 10)):
            pk = first_webhook + i
            at = now - timedelta(seconds=window * rng.random())
            state = "failed" if i % 200 == 0 else "processed"
            yield (pk, at, "\\x" + body.hex(), f"{pk:064x}", {}, 1, state, ["messages"], 1, at, {"processed": 1},
                   [], "", "", at, at)

    counts["webhook_events"] = copy_rows(WebhookEvent, [
        "id", "received_at", "body", "sha256", "headers", "deliveries", "state", "fields", "attempts",
        "processed_at", "item_counts", "item_failures", "error", "traceback", "created_at", "updated_at",
    ], webhook_events())

    for model in (Group, Participant, OutboundMessage, MessageStatusChange, MessageReceipt, GroupEvent, WebhookEvent):
        _reset_sequence(model)
    with connection.cursor() as cursor:
        # As autovacuum would in time: statistics for the planner, and a visibility map for index-only scans. Every
        # seeded table, so autovacuum does not start on millions of new rows while a benchmark measures.
        for model in (Group, Participant, OutboundMessage, MessageStatusChange, MessageReceipt, GroupEvent,
                      WebhookEvent):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        cursor.execute("ANALYZE")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="outbound messages (default 10,000)")
    parser.add_argument("--statuses-per-message", type=int, default=10, help="status history rows per message")
    parser.add_argument("--days", type=int, default=60, help="spread created_at over this many days back")
    parser.add_argument("--seed", type=int, default=8, help="random seed, for the same rows each time")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        parser.error("bench/seed.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    started = time.monotonic()
    counts = seed(messages=args.messages, statuses_per_message=args.statuses_per_message, days=args.days,
                  seed_value=args.seed)
    elapsed = time.monotonic() - started
    print(json.dumps({"seconds": round(elapsed, 1), **counts}))


if __name__ == "__main__":
    main()

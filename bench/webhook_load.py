"""Shared parts of the webhook benchmarks (bench/webhooks.py): signed bodies, load generators, backlog helpers.

Importing it sets Django up (config.settings) on the database of the environment, as every bench script does.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.harness import wait_for  # noqa: E402

WEBHOOK = "/webhooks/whatsapp/"
TS = itertools.count(1_771_400_000)  # Unique timestamps make every body unique (identical bodies are redeliveries).
PHONE_NUMBER_ID = "bench-phone-1"


# -- bodies ----------------------------------------------------------------------------------------------------
def status_item(*, wamid: str, status: str, wa_id: str | None, timestamp: int, padding: int = 0) -> dict:
    item = {"id": wamid, "status": status, "timestamp": str(timestamp), "recipient_id": "Y2FwaV9ncm91cDpiZW5jaA",
            "recipient_type": "group",
            "pricing": {"billable": False, "pricing_model": "PMP", "type": "free_group_customer_service",
                        "category": "group_service"}}
    if wa_id:
        item["recipient_participant_id"] = wa_id
    if padding:
        item["bench_padding"] = "x" * padding  # A field Meta might add: parsers ignore it; it makes the body big.
    return item


def envelope(statuses: list[dict]) -> bytes:
    value = {"messaging_product": "whatsapp", "statuses": statuses,
             "metadata": {"display_phone_number": "15550001001", "phone_number_id": PHONE_NUMBER_ID}}
    body = {"object": "whatsapp_business_account",
            "entry": [{"id": "bench-waba", "changes": [{"field": "messages", "value": value}]}]}
    return json.dumps(body, separators=(",", ":")).encode()


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(settings.WHATSAPP_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


class Pairs:
    """(wamid, participant wa_id) of seeded messages: per-participant delivered/read statuses that update receipts."""

    def __init__(self, limit: int = 300_000):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT m.wamid, p.wa_id FROM messaging_outboundmessage m JOIN groups_participant p "
                "ON p.group_id = m.group_id WHERE m.wamid IS NOT NULL AND p.wa_id <> '' ORDER BY m.id DESC LIMIT %s",
                [limit])
            self.rows = cursor.fetchall()
        if not self.rows:
            raise SystemExit("no seeded messages with a wamid: run bench/seed.py first")
        self.cursor = itertools.cycle(self.rows)
        self.lock = threading.Lock()

    def bodies(self, count: int) -> list[tuple[bytes, str]]:
        """Return `count` unique signed single-status bodies (delivered, then read, per message and person)."""
        out = []
        with self.lock:
            for _ in range(count):
                wamid, wa_id = next(self.cursor)
                status = "read" if next(TS) % 2 else "delivered"
                body = envelope([status_item(wamid=wamid, status=status, wa_id=wa_id, timestamp=next(TS))])
                out.append((body, sign(body)))
        return out


# -- load ------------------------------------------------------------------------------------------------------
def wrk(url: str, *, seconds: int, connections: int, threads: int = 2, script: list[str] | None = None) -> dict:
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script[0], url, "--", *script[1:]]
    else:
        cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "requests": total, "non2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(1) if errors else "", "raw": out}


def post(conn: http.client.HTTPConnection, body: bytes, signature: str) -> int | None:
    try:
        conn.request("POST", WEBHOOK, body=body, headers={"Content-Type": "application/json",
                                                          "X-Hub-Signature-256": signature})
        response = conn.getresponse()
        response.read()
        if response.will_close:
            conn.close()  # gunicorn's sync workers close after each answer; http.client reconnects next time.
        return response.status
    except (OSError, http.client.HTTPException):
        conn.close()
        return None


def open_loop(port: int, bodies: list[tuple[bytes, str]], *, rate: float, threads: int = 16) -> dict:
    """Send bodies at a fixed schedule (rate/s); latency counts from the scheduled time (no coordinated omission)."""
    n = len(bodies)
    start = time.perf_counter() + 0.3
    latencies: list[list[float]] = [[] for _ in range(threads)]
    failures = [0] * threads

    def worker(tid: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for k in range(tid, n, threads):
            at = start + k / rate
            if (delay := at - time.perf_counter()) > 0:
                time.sleep(delay)
            status = post(conn, *bodies[k])
            latencies[tid].append(time.perf_counter() - at)
            if status != 200:
                failures[tid] += 1
        conn.close()

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=n / rate + 120)
    elapsed = time.perf_counter() - start
    flat = sorted(x for lat in latencies for x in lat)
    return {"sent": len(flat), "failures": sum(failures), "rate": len(flat) / elapsed,
            "p50": pct(flat, 50) * 1000, "p99": pct(flat, 99) * 1000, "max": flat[-1] * 1000}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


def events_count() -> int:
    from webhooks.models import WebhookEvent

    return WebhookEvent.objects.count()


def next_event_id() -> int:
    from webhooks.models import WebhookEvent

    return (WebhookEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1


def purge_queues(env: dict) -> None:
    """Drop queued tasks and the drain's wake flag (events stay stored and pending: the next drain takes them)."""
    import redis
    from django.core.cache import cache

    from webhooks.services import WAKE_FLAG

    redis.Redis.from_url(env["CELERY_BROKER_URL"]).delete("webhooks", "outbound")
    # The deployment's cache is on CACHE_URL with Django's default key prefix and version, as here.
    redis.Redis.from_url(env["CACHE_URL"]).delete(*(cache.make_key(f"{WAKE_FLAG}:{slot}")
                                                     for slot in range(settings.WEBHOOK_DRAINS)))



def api_token() -> str:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(username="bench-api", defaults={"is_staff": True,
                                                                                      "is_superuser": True})
    user.is_superuser = user.is_staff = True
    user.save()
    return Token.objects.get_or_create(user=user)[0].key



def drain_pending(*, first: int, timeout: float) -> float:
    """Wait until no event from id `first` on is pending; return the seconds waited (`timeout` if it never was)."""
    from webhooks.models import WebhookEvent

    t0 = time.monotonic()
    try:
        wait_for(lambda: not WebhookEvent.objects.filter(state="pending", pk__gte=first).exists(),
                 timeout=timeout, interval=0.5, what="backlog drained")
    except TimeoutError:
        print("backlog not drained within", timeout, "s", flush=True)
        return timeout
    return time.monotonic() - t0


def store_pending(pairs: Pairs, count: int) -> int:
    """Store `count` unique single-status bodies as the webhook view would (pending); return the first id."""
    from webhooks.models import WebhookEvent

    first = next_event_id()
    now = timezone.now()
    WebhookEvent.objects.bulk_create(
        [WebhookEvent(received_at=now, body=body, sha256=hashlib.sha256(body).hexdigest(),
                      headers={"X-Hub-Signature-256": signature}) for body, signature in pairs.bodies(count)],
        batch_size=1000)
    return first

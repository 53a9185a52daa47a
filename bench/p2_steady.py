"""P2 and P4 (issue 9): steady open-loop webhook load with the worker running, a big body, and API visibility."""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time

from django.utils import timezone

from bench.harness import Deployment
from bench.webhook_load import (
    PHONE_NUMBER_ID,
    TS,
    Pairs,
    api_token,
    drain_pending,
    envelope,
    next_event_id,
    open_loop,
    pct,
    post,
    purge_queues,
    sign,
    status_item,
)


def p4_probe(port: int, token: str, stop: threading.Event, results: list[float], misses: list[str]) -> None:
    """Every 0.5 s: a fresh accepted message gets a `sent` status; time from the 200 to the API showing `sent`."""
    from groups.models import Group
    from messaging.models import OutboundMessage

    group = Group.objects.filter(phone_number__phone_number_id=PHONE_NUMBER_ID).order_by("-pk").first()
    post_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    get_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while not stop.is_set():
        tick = time.perf_counter()
        wamid = f"wamid.P4{time.time_ns()}"
        message = OutboundMessage.objects.create(group=group, type="text", content={"body": "p4", "preview_url": False},
                                                 status="accepted", wamid=wamid, accepted_at=timezone.now())
        body = envelope([status_item(wamid=wamid, status="sent", wa_id=None, timestamp=next(TS))])
        if post(post_conn, body, sign(body)) != 200:
            misses.append("POST not 200")
            continue
        acked = time.perf_counter()
        deadline = acked + 30
        while time.perf_counter() < deadline:
            get_conn.request("GET", f"/api/v1/messages/{message.pk}/", headers={"Authorization": f"Token {token}"})
            response = get_conn.getresponse()
            data = response.read()
            if response.will_close:
                get_conn.close()
            if response.status == 200 and json.loads(data)["status"] == "sent":
                results.append(time.perf_counter() - acked)
                break
            time.sleep(0.02)
        else:
            misses.append("not visible within 30 s")
        stop.wait(max(0.0, 0.5 - (time.perf_counter() - tick)))


def bench_p2_p4(dep: Deployment, pairs: Pairs, runs: int, seconds: int, rate: float) -> dict:
    token = api_token()
    rows, p4_all = [], []
    for _ in range(runs):
        first = next_event_id()
        bodies = pairs.bodies(int(rate * seconds))
        stop, p4, misses = threading.Event(), [], []
        probe = threading.Thread(target=p4_probe, args=(dep.port, token, stop, p4, misses))
        probe.start()
        result = open_loop(dep.port, bodies, rate=rate)
        stop.set()
        probe.join(timeout=60)
        result["p4_p50"] = pct(p4, 50) * 1000
        result["p4_p99"] = pct(p4, 99) * 1000
        result["p4_samples"] = len(p4)
        result["p4_misses"] = len(misses)
        p4_all += p4
        rows.append(result)
        print("P2/P4", result, flush=True)
        # Let the worker drain (bounded); what is left is dropped from the queue so each run starts the same way.
        result["drain_s"] = drain_pending(first=first, timeout=60)
        purge_queues(dep.env)
    big = []
    for _ in range(runs):
        statuses = [status_item(wamid=w, status="delivered", wa_id=p, timestamp=next(TS), padding=2_750)
                    for w, p in itertools.islice(pairs.cursor, 1000)]
        body = envelope(statuses)
        conn = http.client.HTTPConnection("127.0.0.1", dep.port, timeout=30)
        t0 = time.perf_counter()
        status = post(conn, body, sign(body))
        big.append((time.perf_counter() - t0, status, len(body)))
        print("P2 big body", big[-1], flush=True)
    return {"runs": rows, "p4_all": p4_all, "big": big}

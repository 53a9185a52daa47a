"""P8 (issue 9): REST list pages over HTTP (p95 per page) and their query counts for page_size 10 vs 500."""

from __future__ import annotations

import http.client
import json
import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.harness import Deployment
from bench.webhook_load import api_token, pct


def bench_p8(dep: Deployment, runs: int, requests: int) -> dict:
    """REST list pages over HTTP (p95 per page), and query counts in-process for page_size 10 vs 500."""
    from messaging.models import OutboundMessage

    token = api_token()
    total = OutboundMessage.objects.count()
    group_id = OutboundMessage.objects.order_by("-pk").values_list("group_id", flat=True).first()
    message_id = OutboundMessage.objects.filter(wamid__isnull=False).order_by("pk").values_list("pk", flat=True)[
        total // 2] if total > 2 else None
    conn = http.client.HTTPConnection("127.0.0.1", dep.port, timeout=30)

    def get(path: str) -> tuple[float, dict]:
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"Authorization": f"Token {token}"})
        response = conn.getresponse()
        data = response.read()
        if response.will_close:
            conn.close()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {data[:200]!r}")
        return time.perf_counter() - t0, json.loads(data)

    def deep(path: str, pages: int) -> str:
        """Return the path of page `pages` (following `next`)."""
        for _ in range(pages - 1):
            path = get(path)[1]["next"].split("127.0.0.1", 1)[-1].split(f":{dep.port}", 1)[-1]
        return path

    cases = {
        "messages, first page (50)": "/api/v1/messages/",
        "messages, page 20 (cursor)": deep("/api/v1/messages/", 20),
        "messages, page_size=500": "/api/v1/messages/?page_size=500",
        "messages, status=failed": "/api/v1/messages/?status=failed",
        "messages, error_code=131026": "/api/v1/messages/?error_code=131026",
        "messages of one group": f"/api/v1/messages/?group={group_id}",
        "statuses of one message": f"/api/v1/messages/{message_id}/statuses/",
        "receipts of one message": f"/api/v1/messages/{message_id}/receipts/",
        "inbound messages": "/api/v1/inbound-messages/",
        "webhook events": "/api/v1/webhook-events/",
        "groups": "/api/v1/groups/",
    }
    results = {}
    for name, path in cases.items():
        try:
            get(path)  # warm-up
        except RuntimeError as exc:
            results[name] = {"error": str(exc)[:120]}
            continue
        p50s, p95s = [], []
        for _ in range(runs):
            times = [get(path)[0] * 1000 for _ in range(requests)]
            p50s.append(pct(times, 50))
            p95s.append(pct(times, 95))
        results[name] = {"p50": statistics.median(p50s), "p95": statistics.median(p95s)}
        print("P8", name, results[name], flush=True)
    return {"total": total, "pages": results, "queries": query_counts(token, message_id)}


def query_counts(token: str, message_id: int | None) -> dict[tuple[str, int], tuple[int, int]]:
    """(SQL queries, HTTP status) per list and page size, in-process: a list's count must not grow with its page."""
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {token}")
    queries = {}
    for size in (10, 500):
        for name, path in (("messages", "/api/v1/messages/"), ("statuses", f"/api/v1/messages/{message_id}/statuses/"),
                           ("groups", "/api/v1/groups/")):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path, {"page_size": size})
            queries[(name, size)] = (len(ctx), response.status_code)
    print("P8 queries", queries, flush=True)
    return queries

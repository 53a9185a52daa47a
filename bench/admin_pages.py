"""Time the admin's first pages and detail pages, count their queries, write docs/benchmarks.md (issue 8).

    DATABASE_URL=postgres://... .venv/bin/python bench/admin_pages.py --requests 20 --runs 3

Runs in-process with Django's test client (no server, no network), logged in as a superuser it creates.
Each page: one warm-up request, then --requests timed ones per run; p50 and p95 per run, the median of
the runs reported. Queries are counted on one request with CaptureQueriesContext; a "full COUNT(*)"
is a COUNT over a table that no LIMIT bounds.
"""

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from config.paginator import EXACT_COUNT_CAP  # noqa: E402
from groups.models import Group  # noqa: E402
from messaging.models import MessageStatusChange, OutboundMessage  # noqa: E402
from messaging.services.rollups import (  # noqa: E402
    ROLLUP_FULL_HOURS,
    ROLLUP_RECENT_HOURS,
    message_counts_roll_up,
)
from webhooks.models import WebhookEvent  # noqa: E402

# p95 ms, queries. Lists and details: issue 8, deliverable 6. The dashboard is not a list: issue 17 asks for the
# desk's 500 ms at 1M messages; it reads one bounded query per panel (13 at most, the cap
# tests/webhooks/test_dashboard.py asserts), a number that does not grow with the rows.
TARGETS = {"list": (500, 10), "detail": (300, None), "dashboard": (500, 13)}
# Django's .count(): a COUNT(*) with neither WHERE nor LIMIT reads the whole table. Tables the planner
# estimates at or under the paginator's exact-count cap are counted exactly on purpose (cheap, and exact).
COUNT_RE = re.compile(r'SELECT COUNT\(\*\) AS "__count" FROM "(\w+)"', re.IGNORECASE)


def _full_count_on_large_table(sql: str) -> bool:
    found = COUNT_RE.search(sql)
    if not found or " WHERE " in sql or " LIMIT " in sql:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [found.group(1)])
        row = cursor.fetchone()
    return bool(row) and row[0] > EXACT_COUNT_CAP


def _pages() -> list[tuple[str, str, str]]:
    """Return (kind, name, url): every registered changelist, then the desk pages and detail pages."""
    pages = [("list", f"{model._meta.app_label}.{model._meta.model_name}",
              f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
             for model in sorted(admin.site._registry, key=lambda m: (m._meta.app_label, m._meta.model_name))
             if model._meta.app_label in ("groups", "messaging", "webhooks")]
    pages += [
        ("list", "messages failed (filtered)", "/admin/messaging/outboundmessage/?status=failed"),
        ("list", "messages by error code", "/admin/messaging/outboundmessage/?error_code=131026"),
        ("list", "messages search by wamid", "/admin/messaging/outboundmessage/?q=wamid.BENCH000000000001"),
        ("list", "messages of one group", "/admin/messaging/outboundmessage/?group=1"),
        ("list", "messages search by text", "/admin/messaging/outboundmessage/?q=Bench+message+12345"),
        ("dashboard", "dashboard 24h", "/admin/dashboard/"),
        ("dashboard", "dashboard 30d", "/admin/dashboard/?period=30d"),
        ("list", "failures by code", "/admin/messaging/outboundmessage/failures/"),
        ("list", "error catalog", "/admin/messaging/outboundmessage/error-codes/"),
    ]
    message = OutboundMessage.objects.filter(status="read").order_by("-pk").only("pk").first()
    if message:
        pages.append(("detail", "message (read, receipts, history)",
                      f"/admin/messaging/outboundmessage/{message.pk}/change/"))
    group = Group.objects.order_by("-pk").only("pk").first()
    if group:
        pages.append(("detail", "group", f"/admin/groups/group/{group.pk}/change/"))
    event = WebhookEvent.objects.order_by("-pk").only("pk").first()
    if event:
        pages.append(("detail", "webhook event", f"/admin/webhooks/webhookevent/{event.pk}/change/"))
    return pages


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(client: Client, url: str, requests: int) -> tuple[float, float, int, int]:
    """Return p50 ms, p95 ms, queries, full COUNT(*) queries of one page."""
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    queries = list(captured.captured_queries)
    full_counts = sum(1 for q in queries if _full_count_on_large_table(q["sql"]))
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return _percentile(timings, 0.5), _percentile(timings, 0.95), len(queries), full_counts


def _machine() -> str:
    memory = ""
    try:
        with open("/proc/meminfo") as meminfo:
            kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return f"{platform.machine()}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}, " \
           f"PostgreSQL {version}"


def _rows() -> str:
    tables = {"messages": OutboundMessage, "status rows": MessageStatusChange, "groups": Group,
              "webhook events": WebhookEvent}
    parts = []
    with connection.cursor() as cursor:
        for label, model in tables.items():
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [model._meta.db_table])
            parts.append(f"{label} ≈ {cursor.fetchone()[0]:,}")
    return ", ".join(parts)


def _write_section(path: Path, report: str) -> None:
    """Replace this benchmark's generated part ("# Admin benchmarks" up to the next heading of any level), keeping
    the readings written by hand under it ("## What the numbers say") and the other benchmarks' sections."""
    text = path.read_text() if path.exists() else ""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("# Admin benchmarks")), None)
    if start is None:
        path.write_text(report + ("\n" + text if text else ""))
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    path.write_text("".join(lines[:start]) + report + ("\n" if end < len(lines) else "") + "".join(lines[end:]))


def _results_table(pages: list, results: dict) -> tuple[list[str], list[str]]:
    """The Markdown rows (median of the runs per page) and the names of the pages that missed their target."""
    lines = [
        "| page | kind | p50 ms | p95 ms | queries | full COUNT(*) of a large table | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    failures = []
    for kind, name, _url in pages:
        runs = results[name]
        p50 = statistics.median(r[0] for r in runs)
        p95 = statistics.median(r[1] for r in runs)
        queries, counts = runs[-1][2], runs[-1][3]
        limit_ms, limit_queries = TARGETS[kind]
        ok = p95 <= limit_ms and (limit_queries is None or queries <= limit_queries) and counts == 0
        if not ok:
            failures.append(name)
        target = f"p95 ≤ {limit_ms} ms" + (f", ≤ {limit_queries} queries" if limit_queries else "")
        lines.append(f"| {name} | {kind} | {p50:.0f} | {p95:.0f} | {queries} | {counts} | "
                     f"{'met' if ok else 'MISSED'} ({target}) |")
    return lines, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--note", default="", help="a line added under the table (e.g. what else shared the machine)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        parser.error("bench/admin_pages.py measures PostgreSQL: set DATABASE_URL=postgres://...")

    user_model = get_user_model()
    user = user_model.objects.filter(username="bench-admin").first() or user_model.objects.create_superuser(
        username="bench-admin", password="bench-password-123")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    # The dashboard's long periods read the hourly roll-up a periodic task keeps (messaging.services.rollups): run
    # its nightly form once, as a deployment would have, and time it.
    started = time.perf_counter()
    rolled = message_counts_roll_up(now=timezone.now(), hours=ROLLUP_FULL_HOURS)
    rollup_ms = (time.perf_counter() - started) * 1000
    pages = _pages()
    results = {name: [] for _kind, name, _url in pages}
    for run in range(args.runs):
        for _kind, name, url in pages:
            results[name].append(measure(client, url, args.requests))
        print(f"run {run + 1}/{args.runs} done", file=sys.stderr)

    lines, failures = _results_table(pages, results)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    report = "\n".join([
        "# Admin benchmarks",
        "",
        "Written by `bench/admin_pages.py` (`make bench-admin`). The issue 8 targets: each changelist's first "
        "page p95 ≤ 500 ms and ≤ 10 queries with no full `COUNT(*)` on the large tables; detail pages ≤ 300 ms. "
        "The failures and catalog pages are measured against the changelist target; the dashboard (one bounded "
        "query per panel) against issue 17's 500 ms with at most 13 queries.",
        "",
        f"- Date: {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC, commit {commit.strip() or '?'}",
        f"- Machine: {_machine()}",
        f"- Rows: {_rows()}",
        f"- Method: Django's test client in-process (no network), one warm-up request, {args.requests} timed "
        f"requests per page per run, {args.runs} runs; the table shows the median of the runs' p50 and p95.",
        "- Commands: `bash tests/with_services.sh bash bench/run.sh` with `BENCH_MESSAGES` (see the Makefile's "
        "`bench-admin`), i.e. `bench/seed.py --messages N --statuses-per-message BENCH_STATUSES` (default 10) then "
        f"`bench/admin_pages.py --requests {args.requests} --runs {args.runs}`.",
        f"- Roll-up: the dashboard's hourly counts of {ROLLUP_FULL_HOURS} h (the nightly run) took {rollup_ms:.0f} ms "
        f"and wrote {rolled} rows before the timings; the 5-minute run counts the last {ROLLUP_RECENT_HOURS} h.",
        *([f"- Note: {args.note}"] if args.note else []),
        "",
        *lines,
        "",
        f"Missed: {', '.join(failures)}." if failures else "Every page met its target.",
        "",
    ])
    _write_section(Path(args.output), report)
    print(report)


if __name__ == "__main__":
    main()

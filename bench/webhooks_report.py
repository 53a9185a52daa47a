"""The Markdown section bench/webhooks.py writes into docs/benchmarks.md from the results of P1, P2/P4, P3, P8."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from datetime import UTC, datetime

from django.db import connection

from bench.harness import Deployment
from bench.webhook_load import ROOT, pct


def fmt_load(load: tuple[float, float, float]) -> str:
    return ", ".join(f"{x:.1f}" for x in load)


def verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def report(results: dict, args, dep: Deployment) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    pg = connection.cursor().connection.info.server_version
    lines = ["", "# Webhook, worker and REST benchmarks (issue 9, Performance)", "",
             "Written by `bench/webhooks.py` (`make bench`, i.e. "
             "`bash tests/with_services.sh bash bench/run_webhooks.sh`: "
             "seed with `bench/seed.py`, then every benchmark). Needs `wrk` (`apt-get install wrk`).", "",
             f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit.strip()}",
             f"- Machine: {platform.machine()}, {os.cpu_count()} cores (shared with other sessions' work), "
             f"Python {platform.python_version()}, PostgreSQL {pg // 10000}.{pg % 10000} (fsync off, as "
             "tests/with_services.sh starts it), Redis",
             f"- Deployment (bench/harness.py): gunicorn config.wsgi with {dep.web_workers} sync workers, one Celery "
             f"worker (queues webhooks,outbound) with --concurrency {dep.worker_concurrency}, DEBUG=false, "
             "CACHE_URL on the Redis, API throttles raised out of the way",
             f"- Load average (1, 5, 15 min) before: {fmt_load(results['load_before'])}, after: "
             f"{fmt_load(results['load_after'])} (2 cores: anything above 2 means the benchmark waited for CPU)",
             f"- Runs: {args.runs}; each figure is the median of the runs (the ratio is the median of per-run ratios "
             "measured side by side)", ""]
    for key, section in (("p1", _p1_section), ("p2", _p2_section), ("p3", _p3_section), ("p8", _p8_section)):
        if key in results:
            lines += section(results[key], args)
    return "\n".join(lines) + "\n"


def _p1_section(r: dict, args) -> list[str]:
    """The P1 webhook ingest section."""
    lines: list[str] = []
    lines += ["## P1 webhook ingest", "",
              f"`wrk -t2 -c16 -d{args.seconds}s` on `/healthz/` (a hello-world JsonResponse), then right after it "
              "on `/webhooks/whatsapp/` with `bench/signed_post.lua` (unique signed single-status bodies: "
              "HMAC check, committed row, the drain's wake flag checked in Redis at most every 50 ms per process, "
              "200), with no webhook endpoint and with one active endpoint subscribed to every event type "
              f"(issue 19; a local receiver answering 200), each as two {max(args.seconds // 2, 3)} s loads ordered "
              "without, with, with, without (the reverse in the next run) so a drifting load favours neither. "
              "No worker consumes during P1, so this is ingest alone; its events are applied (with no endpoint "
              "left), and the tables they changed vacuumed, before P2 starts.", "",
              "| measure | median | target | result |", "| --- | ---: | --- | --- |",
              f"| hello-world req/s | {r['hello']:.0f} | | |",
              f"| webhook req/s | {r['webhook']:.0f} | ≥ 1,000 | {verdict(r['webhook'] >= 1000)} |",
              f"| webhook / hello | {r['ratio']:.2f}x | ≥ 0.40x | {verdict(r['ratio'] >= 0.40)} |",
              f"| webhook req/s, an endpoint subscribed to every type | {r['webhook_endpoint']:.0f} | | |",
              f"| with an endpoint / without | {r['endpoint_ratio']:.2f}x | ≥ 0.90x | "
              f"{verdict(r['endpoint_ratio'] >= 0.90)} |", "",
              "Runs: " + "; ".join(r["runs"]), ""]
    return lines


def _p2_section(r: dict, args) -> list[str]:
    """The P2 steady load and P4 visibility section."""
    p50 = statistics.median(x["p50"] for x in r["runs"])
    p99 = statistics.median(x["p99"] for x in r["runs"])
    big = statistics.median(b[0] for b in r["big"])
    p4_99 = statistics.median(x["p4_p99"] for x in r["runs"])
    lines: list[str] = []
    lines += ["## P2 steady load and P4 visibility", "",
              f"Open loop in Python (16 threads, http.client): {args.rate:.0f} unique signed single-status "
              f"bodies/s (delivered/read of seeded messages, so receipts and counts change) for {args.seconds} s, "
              "latency counted from each request's scheduled time. The worker runs and processes them meanwhile. "
              "P4 runs during the same load: every 0.5 s a fresh accepted message gets a signed `sent` status; "
              "the time from its 200 until `GET /api/v1/messages/{id}/` shows `sent` (polled every 20 ms). "
              "After each run the worker gets up to 60 s to drain what is left (the last column).", "",
              "| run | achieved req/s | non-200 | p50 ms | p99 ms | max ms | P4 samples | P4 p50 ms | P4 p99 ms | "
              "backlog drain after, s |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for i, x in enumerate(r["runs"], 1):
        lines.append(f"| {i} | {x['rate']:.0f} | {x['failures']} | {x['p50']:.1f} | {x['p99']:.1f} | "
                     f"{x['max']:.0f} | {x['p4_samples']} (+{x['p4_misses']} missed) | {x['p4_p50']:.0f} | "
                     f"{x['p4_p99']:.0f} | {x['drain_s']:.0f} |")
    lines += ["", "| measure | median | target | result |", "| --- | ---: | --- | --- |",
              f"| P2 p50 at {args.rate:.0f} req/s | {p50:.1f} ms | ≤ 20 ms | {verdict(p50 <= 20)} |",
              f"| P2 p99 at {args.rate:.0f} req/s | {p99:.1f} ms | ≤ 100 ms | {verdict(p99 <= 100)} |",
              f"| P2 {r['big'][0][2] / 1e6:.1f} MB body of 1,000 statuses acknowledged | {big * 1000:.0f} ms "
              f"(answers {', '.join(str(b[1]) for b in r['big'])}) | ≤ 1 s | "
              f"{verdict(big <= 1 and all(b[1] == 200 for b in r['big']))} |",
              f"| P4 200 → visible in the API, p99 | {p4_99:.0f} ms (pooled over runs: "
              f"{pct(r['p4_all'], 99) * 1000:.0f} ms, n={len(r['p4_all'])}) | ≤ 2 s | "
              f"{verdict(p4_99 <= 2000)} |", ""]
    return lines


def _p3_section(r: dict, args) -> list[str]:
    """The P3 statuses applied by the worker section."""
    rate = statistics.median(x["worker_rate"] for x in r["runs"])
    ratio = statistics.median(x["ratio"] for x in r["runs"])
    lines: list[str] = []
    lines += ["## P3 statuses applied by the worker", "",
              f"{r['runs'][0]['events']:,} unique single-status webhooks (delivered/read of seeded messages) "
              "are stored pending, as the endpoint stores them (one multi-row INSERT here, to build the backlog "
              "fast); then one drain task is published to the running worker and the time until none is pending "
              "is measured (polled every 50 ms). Side by side: the same number of "
              "`messaging_messagestatuschange` rows inserted with `bulk_create(batch_size=1000)` (multi-row "
              "INSERTs) in one transaction, rolled back.", "",
              "| run | events processed | worker s | applied/s | raw INSERT rows/s | ratio |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for i, x in enumerate(r["runs"], 1):
        lines.append(f"| {i} | {x['applied']} | {x['worker_s']:.1f} | {x['worker_rate']:.0f} | "
                     f"{x['raw_rate']:.0f} | {x['ratio']:.3f}x |")
    lines += ["", "| measure | median | target | result |", "| --- | ---: | --- | --- |",
              f"| statuses applied/s | {rate:.0f} | ≥ 5,000 | {verdict(rate >= 5000)} |",
              f"| applied / raw batched INSERT | {ratio:.3f}x | ≥ 0.10x | {verdict(ratio >= 0.10)} |", "",
              "Where the time goes (cProfile of `webhook_events_drain` in one process, by own time):", "",
              "```", *r["profile"].strip().splitlines()[:40], "```", ""]
    return lines


def _p8_section(r: dict, args) -> list[str]:
    """The P8 REST lists section."""
    lines: list[str] = []
    lines += ["## P8 REST lists", "",
              f"{r['total']:,} outbound messages (bench/seed.py, 10 status rows each). Sequential GETs over HTTP "
              f"with a token, one warm-up then {args.requests} timed requests per page per run.", "",
              "| page | p50 ms | p95 ms | target p95 ≤ 200 ms |", "| --- | ---: | ---: | --- |"]
    for name, x in r["pages"].items():
        if "error" in x:
            lines.append(f"| {name} | | | not measured: {x['error']} |")
        else:
            lines.append(f"| {name} | {x['p50']:.0f} | {x['p95']:.0f} | {verdict(x['p95'] <= 200)} |")
    lines += ["", "| list | queries, page_size=10 | queries, page_size=500 | independent of page size |",
              "| --- | ---: | ---: | --- |"]
    for name in ("messages", "statuses", "groups"):
        small, large = r["queries"][(name, 10)], r["queries"][(name, 500)]
        lines.append(f"| {name} | {small[0]} (HTTP {small[1]}) | {large[0]} (HTTP {large[1]}) | "
                     f"{verdict(small[0] == large[0])} |")
    lines.append("")
    return lines

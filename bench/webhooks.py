"""Webhook, worker and REST benchmarks of issue 9 (P1, P2, P3, P4, P8), on a production-shaped deployment.

    bash tests/with_services.sh bash bench/run_webhooks.sh          # make bench: seed, then this script
    .venv/bin/python bench/webhooks.py --runs 3 --only p1 p2        # on an already seeded database

gunicorn (config.wsgi) and a Celery worker run from bench/harness.py on the PostgreSQL and Redis of
tests/with_services.sh. Load comes from wrk (P1; apt-get install wrk) and from Python threads (P2/P4, open loop).
Every loop is bounded in count and time; everything stays on loopback.

This script runs the parts in order and writes the report; each part has its module: bench/p8_rest.py (P8),
bench/p1_ingest.py (P1, with and without an endpoint), bench/p2_steady.py (P2 and P4), bench/p3_drain.py (P3);
bench/webhook_load.py holds the signed bodies and load generators they share, bench/webhooks_report.py the
Markdown section.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from django.conf import settings  # noqa: E402

from bench.harness import Deployment, report_write, services_env  # noqa: E402
from bench.p1_ingest import bench_p1  # noqa: E402
from bench.p2_steady import bench_p2_p4  # noqa: E402
from bench.p3_drain import bench_p3, settle_backlog  # noqa: E402
from bench.p8_rest import bench_p8  # noqa: E402
from bench.webhook_load import Pairs, purge_queues  # noqa: E402
from bench.webhooks_report import report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=15, help="length of each P1/P2 load")
    parser.add_argument("--rate", type=float, default=320.0, help="P2 requests/s")
    parser.add_argument("--p3-events", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=20, help="P8 timed requests per page per run")
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=["p8", "p1", "p2", "p3"])
    parser.add_argument("--output", default="", help="append the results to this Markdown file")
    args = parser.parse_args()

    env = services_env()
    broker = env["CELERY_BROKER_URL"]
    env.update({"API_USER_RATE": "1000000/s", "API_META_CALLS_RATE": "1000000/s", "LOG_LEVEL": "WARNING",
                "CACHE_URL": broker.rsplit("/", 1)[0] + "/1", "DEBUG": "false"})
    settings.ALLOWED_HOSTS = ["*"]
    dep = Deployment(env=env, web_workers=args.web_workers, worker_concurrency=2)
    results: dict = {"load_before": os.getloadavg()}
    pairs = Pairs()
    try:
        dep.start_web()
        if "p8" in args.only:
            results["p8"] = bench_p8(dep, args.runs, args.requests)
        if "p1" in args.only:
            results["p1"] = bench_p1(dep, pairs, args.runs, args.seconds)
            purge_queues(env)
        if {"p2", "p4", "p3"} & set(args.only):
            dep.start_worker()
            settle_backlog()  # P1's stored events, applied before P2 and P3 measure anything.
        if "p2" in args.only or "p4" in args.only:
            results["p2"] = bench_p2_p4(dep, pairs, args.runs, args.seconds, args.rate)
        if "p3" in args.only:
            results["p3"] = bench_p3(dep, pairs, args.runs, args.p3_events)
    finally:
        dep.stop()
    results["load_after"] = os.getloadavg()
    report_write(report(results, args, dep), args.output)


if __name__ == "__main__":
    main()

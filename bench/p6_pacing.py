"""P6 (issue 9): outbound pacing against the sandbox, across two Celery workers.

    bash tests/with_services.sh bash bench/run_webhooks.sh      # with BENCH_ONLY unset, or on its own:
    bash tests/with_services.sh .venv/bin/python bench/p6_pacing.py --messages 2400 --runs 3 [--output FILE]

On its own it creates and migrates the database and uses bench-only secrets. The sandbox (python -m sandbox)
plays Graph and sends no webhooks (an empty --webhook-url), so only the sends are measured. Messages are queued
with the workers stopped, then two worker instances (each --concurrency 2 unless told otherwise) start and drain
them. Each send's time is read from the sandbox's state (`created_at`, whole seconds) and from our `accepted_at`
(after the answer); the rate is counted over the seconds fully inside the run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The same bench-only values as bench/run_webhooks.sh, so the script also runs on its own.
for _name, _value in (("DEBUG", "false"), ("SECRET_KEY", "bench-only-insecure-secret-key"),
                      ("WHATSAPP_ACCESS_TOKEN", "bench-token"), ("WHATSAPP_APP_SECRET", "bench-only-app-secret"),
                      ("WHATSAPP_VERIFY_TOKEN", "bench-only-verify-token")):
    os.environ.setdefault(_name, _value)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from bench.harness import Deployment, database_prepare, free_port, report_write, services_env, wait_for  # noqa: E402

SANDBOX_PHONE = "106540352242922"


def http_json(url: str, data: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(data).encode() if data is not None else None,
                                     method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def sandbox_group(base: str, token: str) -> tuple[str, str]:
    """Create a group in the sandbox and let one person join; return (group_id, wa_id)."""
    subject = f"P6 bench {time.time_ns()}"  # One group per run.
    http_json(f"{base}/v25.0/{SANDBOX_PHONE}/groups", {"messaging_product": "whatsapp", "subject": subject},
              token=token)
    group_id = wait_for(lambda: next((g["group_id"] for g in http_json(f"{base}/_sandbox/state")["groups"]
                                      if g["subject"] == subject and g["group_id"]), None),
                        timeout=30, what="sandbox group")
    joined = http_json(f"{base}/_sandbox/groups/{group_id}/join", {"wa_id": "15550009999", "name": "Bench"})
    return group_id, joined["wa_id"]


def app_group(group_id: str, wa_id: str):
    from groups.models import Group, Participant, PhoneNumber

    number, _ = PhoneNumber.objects.get_or_create(
        phone_number_id=SANDBOX_PHONE, defaults={"display_phone_number": "15550783881", "waba_id": "102290129340398"})
    group = Group.objects.create(phone_number=number, group_id=group_id, subject="P6 bench", state="active",
                                 participant_count=1)
    Participant.objects.create(group=group, wa_id=wa_id, name="Bench")
    return group


def one_run(env: dict, base: str, token: str, messages: int, rate: float, concurrency: int) -> dict:
    from messaging.models import OutboundMessage
    from messaging.services.compose import message_create

    group_id, wa_id = sandbox_group(base, token)
    group = app_group(group_id, wa_id)
    workers = [Deployment(env=env, worker_concurrency=concurrency) for _ in range(2)]
    for i in range(messages):
        message_create(group=group, type="text", content={"body": f"P6 bench {i}"})
    queued = time.perf_counter()
    try:
        for worker in workers:
            worker.start_worker()
        # Failed ones count as finished (the table shows them): a failure must not turn into a 150 s wait.
        done = OutboundMessage.objects.filter(group=group,
                                              status__in=["accepted", "sent", "delivered", "read", "failed"])
        wait_for(lambda: done.count() >= messages, timeout=messages / rate * 3 + 60, interval=1, what="all sent")
    finally:
        for worker in workers:
            worker.stop()
    elapsed = time.perf_counter() - queued
    state = http_json(f"{base}/_sandbox/state")
    wamids = set(OutboundMessage.objects.filter(group=group).values_list("wamid", flat=True))
    seconds = sorted(m["created_at"] for m in state["messages"] if m["wamid"] in wamids)
    per_second = Counter(seconds)
    inner = [per_second.get(s, 0) for s in range(seconds[0] + 1, seconds[-1])]  # Whole seconds only.
    accepted = sorted(t.timestamp() for t in OutboundMessage.objects.filter(group=group)
                      .values_list("accepted_at", flat=True) if t)
    sliding, j = 0, 0
    for i, t in enumerate(accepted):  # Largest count of answers within any 1 s window.
        while accepted[j] <= t - 1.0:
            j += 1
        sliding = max(sliding, i - j + 1)
    failed = OutboundMessage.objects.filter(group=group, status="failed").count()
    return {"messages": messages, "sandbox_received": len(seconds), "failed": failed, "elapsed": elapsed,
            "mean_rate": statistics.mean(inner) if inner else float("nan"), "min_second": min(inner, default=0),
            "max_second": max(per_second.values()), "sliding_accepted_max": sliding,
            "span_s": seconds[-1] - seconds[0] + 1, "load_1m": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2400)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", default="")
    parser.add_argument("--concurrency", type=int, default=2, help="processes of each of the two worker instances")
    args = parser.parse_args()
    services_env()  # Fails clearly outside tests/with_services.sh.
    database_prepare()
    rate = settings.MESSAGE_SEND_RATE_PER_SECOND
    port = free_port()
    token, secret = settings.WHATSAPP_ACCESS_TOKEN, settings.WHATSAPP_APP_SECRET
    base = f"http://127.0.0.1:{port}"
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--delay-scale", "0.01", "--auto-join", "0",
         # No leaving: the one participant leaving mid-run made every later send fail (131020).
         "--leave-rate", "0", "--webhook-url", "", "--webhook-retries", "0", "--read-rate", "0",
         "--duplicate-rate", "0", "--reorder-rate", "0", "--access-token", token, "--app-secret", secret],
        cwd=ROOT, env={**os.environ, "SANDBOX_LOG_LEVEL": "WARNING"})
    env = services_env()
    env.update({"WHATSAPP_API_BASE_URL": base, "LOG_LEVEL": "WARNING"})
    rows = []
    try:
        wait_for(lambda: _ok(f"{base}/_sandbox/health"), timeout=30, what="sandbox start")
        for _ in range(args.runs):
            rows.append(one_run(env, base, token, args.messages, rate, args.concurrency))
            print("P6", rows[-1], flush=True)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=20)
    report_write(report(rows, rate, args), args.output)


def _ok(url: str) -> bool:
    try:
        return http_json(url).get("ok", False)
    except OSError:
        return False


def report(rows: list[dict], rate: float, args) -> str:
    mean = statistics.median(r["mean_rate"] for r in rows)
    top = max(r["max_second"] for r in rows)
    lines = ["", "## P6 outbound pacing", "",
             f"`bench/p6_pacing.py --messages {args.messages} --runs {args.runs}`: the sandbox plays Graph; "
             f"{args.messages:,} text messages to one group are queued, then two Celery worker instances "
             f"(--concurrency {args.concurrency} each) send them paced at {rate:.0f}/s per number (Redis pacing). "
             "Counted from the sandbox's `created_at` of each received send (whole seconds; the first and last "
             "partial seconds left out of the mean); `accepted_at` gives a sliding 1 s window for comparison (it is "
             "set after the answer, so network jitter moves it).", "",
             "| run | sent / received / failed | span s | mean/s over whole seconds | slowest second | busiest "
             "second (sandbox) | busiest sliding 1 s (accepted_at) | load (1 min) at the end |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for i, r in enumerate(rows, 1):
        lines.append(f"| {i} | {r['messages']} / {r['sandbox_received']} / {r['failed']} | {r['span_s']} | "
                     f"{r['mean_rate']:.1f} | {r['min_second']} | {r['max_second']} | {r['sliding_accepted_max']} | "
                     f"{r['load_1m']} |")
    ok_rate = mean >= 0.95 * rate
    lines += ["", "| measure | value | target | result |", "| --- | ---: | --- | --- |",
              f"| mean send rate (median of runs) | {mean:.1f}/s ({mean / rate:.0%}) | ≥ 95% of {rate:.0f}/s | "
              f"{'met' if ok_rate else '**MISSED**'} |",
              f"| busiest 1 s (sandbox, any run) | {top} | ≤ {rate:.0f} | {'met' if top <= rate else '**MISSED**'} |",
              ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

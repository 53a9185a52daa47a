#!/usr/bin/env bash
# Webhook, worker, pacing and REST benchmarks (make bench): run under tests/with_services.sh.
#   BENCH_MESSAGES (default 1000000; rows seeded for P8), BENCH_ONLY (default "p8 p1 p2 p3 p6 events"), BENCH_RUNS (3),
#   BENCH_P6_MESSAGES (2400), BENCH_EVENTS_STATUSES (10000, outbound events: bench/events.py),
#   BENCH_SECONDS (15, each P1/P2 load), BENCH_P3_EVENTS (20000), BENCH_OUTPUT (docs/benchmarks.md)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export DEBUG=false SECRET_KEY=${SECRET_KEY:-bench-only-insecure-secret-key}
export WHATSAPP_ACCESS_TOKEN=${WHATSAPP_ACCESS_TOKEN:-bench-token} WHATSAPP_APP_SECRET=${WHATSAPP_APP_SECRET:-bench-only-app-secret}
export WHATSAPP_VERIFY_TOKEN=${WHATSAPP_VERIFY_TOKEN:-bench-only-verify-token}
command -v wrk >/dev/null || { echo "bench: needs wrk (apt-get install wrk)" >&2; exit 2; }
# with_services.sh starts an empty cluster: create the database named in DATABASE_URL, then migrate.
"$PY" -c 'from bench.harness import database_prepare; database_prepare()'
"$PY" bench/seed.py --messages "${BENCH_MESSAGES:-1000000}" --statuses-per-message "${BENCH_STATUSES:-10}"
only=${BENCH_ONLY:-p8 p1 p2 p3 p6 events}
webhook_parts=$(echo "$only" | tr ' ' '\n' | grep -v -e '^p6$' -e '^events$' | tr '\n' ' ' || true)
if [ -n "${webhook_parts// }" ]; then
  "$PY" bench/webhooks.py --runs "${BENCH_RUNS:-3}" --output "${BENCH_OUTPUT:-docs/benchmarks.md}" \
    --seconds "${BENCH_SECONDS:-15}" --p3-events "${BENCH_P3_EVENTS:-20000}" --only $webhook_parts
fi
case " $only " in *" events "*)
  "$PY" bench/events.py --runs "${BENCH_RUNS:-3}" --statuses "${BENCH_EVENTS_STATUSES:-10000}" \
    --output "${BENCH_OUTPUT:-docs/benchmarks.md}" ;;
esac
case " $only " in *" p6 "*)
  "$PY" bench/p6_pacing.py --runs "${BENCH_RUNS:-3}" --messages "${BENCH_P6_MESSAGES:-2400}" \
    --output "${BENCH_OUTPUT:-docs/benchmarks.md}" ;;
esac

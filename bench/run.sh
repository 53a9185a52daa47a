#!/usr/bin/env bash
# Seed PostgreSQL and time the admin (make bench-admin): run under tests/with_services.sh, which sets DATABASE_URL.
#   BENCH_MESSAGES (default 100000), BENCH_STATUSES (10), BENCH_REQUESTS (20), BENCH_RUNS (3), BENCH_NOTE,
#   BENCH_OUTPUT (docs/benchmarks.md)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
# Production settings (DEBUG=false) with placeholder secrets: the benchmark never calls Meta.
export DEBUG=false SECRET_KEY=${SECRET_KEY:-bench-only-insecure-secret-key}
export WHATSAPP_ACCESS_TOKEN=${WHATSAPP_ACCESS_TOKEN:-bench-token} WHATSAPP_APP_SECRET=${WHATSAPP_APP_SECRET:-bench-only-app-secret}
export WHATSAPP_VERIFY_TOKEN=${WHATSAPP_VERIFY_TOKEN:-bench-only-verify-token}
# with_services.sh starts an empty cluster: create the database named in DATABASE_URL, then migrate.
"$PY" -c 'from bench.harness import database_prepare; database_prepare()'
"$PY" bench/seed.py --messages "${BENCH_MESSAGES:-100000}" --statuses-per-message "${BENCH_STATUSES:-10}"
"$PY" bench/admin_pages.py --requests "${BENCH_REQUESTS:-20}" --runs "${BENCH_RUNS:-3}" --note "${BENCH_NOTE:-}" \
  --output "${BENCH_OUTPUT:-docs/benchmarks.md}"

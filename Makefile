# Groupdesk: `make run` to try it, `make test` to test it (CONTRACT §1).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed

# Development-only values: `make run` is the one place that supplies them.
# WHATSAPP_SANDBOX=true points the app at the sandbox with its token, secret and number. Warnings and errors
# only, so the login banner stays readable: `LOG_LEVEL=INFO make run` shows every request again.
LOG_LEVEL ?= WARNING
DEV_ENV := DEBUG=true \
	LOG_LEVEL=$(LOG_LEVEL) \
	SANDBOX_LOG_LEVEL=$(LOG_LEVEL) \
	SECRET_KEY=dev-only-insecure-secret-key \
	WHATSAPP_SANDBOX=true \
	DJANGO_SUPERUSER_USERNAME=admin \
	DJANGO_SUPERUSER_EMAIL=admin@example.com \
	DJANGO_SUPERUSER_PASSWORD=admin

.PHONY: install run test test-services fault-tests lint schema audit clean bench-admin bench

# The virtualenv is rebuilt only when requirements.txt changes.
$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing requirements.txt into $(VENV)..."
	@$(BIN)/python -m pip install --quiet --quiet --disable-pip-version-check --no-input -r requirements.txt
	@touch $(STAMP)

install: $(STAMP)

# The app and the sandbox together (Ctrl-C stops both), seeded with demo groups and messages.
# Quiet: the last lines it prints are the admin URL and how to log in.
run: $(STAMP)
	@$(DEV_ENV) $(BIN)/python manage.py migrate --noinput --verbosity 0
	@$(DEV_ENV) $(BIN)/python -m sandbox.run_with_app

test: $(STAMP)
	$(BIN)/pytest -q -m "not integration and not e2e"

# The whole suite again, plus integration tests, on throwaway PostgreSQL and Redis
# started from their binaries (Debian's postgresql and redis-server packages).
test-services: $(STAMP)
	bash tests/with_services.sh $(BIN)/pytest -q

# Reliability under faults (README "Reliability tests"): gunicorn, a worker, PostgreSQL and Redis stopped,
# killed and restarted; a few minutes. FAULT_REPLAY_EVENTS scales R1 (default 10000).
fault-tests: $(STAMP)
	GROUPDESK_FAULT_TESTS=1 GROUPDESK_DURABLE_PG=1 SCHEMA_FUZZ_EXAMPLES=100 bash tests/with_services.sh $(BIN)/pytest -q -s \
		tests/reliability/test_faults.py tests/reliability/test_event_faults.py tests/reliability/test_schema_fuzz.py

# Admin timings at scale (docs/benchmarks.md): seeds a throwaway PostgreSQL with COPY, then times every
# changelist, the desk pages and detail pages. BENCH_MESSAGES=1000000 for the issue's size.
bench-admin: $(STAMP)
	BENCH_MESSAGES=$${BENCH_MESSAGES:-100000} bash tests/with_services.sh bash bench/run.sh

# Webhook ingest, steady load, worker throughput, visibility and REST lists (issue 9 P1-P4, P6, P8; docs/benchmarks.md).
# Needs wrk (apt-get install wrk); installs nothing. BENCH_MESSAGES (default 1000000), BENCH_RUNS, BENCH_ONLY="p1 p2 p6".
bench: $(STAMP)
	bash tests/with_services.sh bash bench/run_webhooks.sh

# Style (ruff), the layering of docs/architecture.md (import-linter, .importlinter) and dead code (vulture at 60 %
# confidence, pyproject.toml [tool.vulture] and vulture_whitelist.py).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/vulture

# pip-audit over requirements.txt; fails on any advisory, and (exit 2) when PyPI's data is unreachable.
audit: $(STAMP)
	bash .ci/audit

schema: $(STAMP)
	$(DEV_ENV) $(BIN)/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

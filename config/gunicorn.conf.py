"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py config.wsgi` (docs/deployment.md).

Every value comes from the environment, with defaults sized for a small VM. Nothing here is
needed by the app: it only shapes the web processes.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000"
# Requests wait on PostgreSQL, not the CPU: two processes per core, plus one.
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
# More than one thread switches gunicorn to the gthread worker (each thread holds its own DB connection).
threads = _int("GUNICORN_THREADS", 1)
# A request never waits for Meta longer than WHATSAPP_CONNECT_TIMEOUT + WHATSAPP_READ_TIMEOUT (18 s); past
# this the worker is killed and replaced.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM (a deploy), requests in flight get this long to finish; webhooks they held are stored already.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Keep-alive with the proxy in front (nginx `keepalive` upstream).
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle each worker after this many requests (jittered, so they do not all restart at once): bounds any leak.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
# Only the proxy may set X-Forwarded-* for gunicorn itself (Django trusts them per USE_X_FORWARDED_*).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS") or "127.0.0.1"
# Heartbeat files in memory: a slow disk must not get healthy workers killed.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - gunicorn's documented advice

# Logs to stdout/stderr, for journald or the container runtime.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL") or "info"
# The path without the query string (%(U)s, not %(r)s): Meta's handshake carries the verify token in it.
# %(M)s is the request time in milliseconds.
access_log_format = '%(h)s - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'

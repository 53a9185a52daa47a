"""A production-shaped deployment on loopback for fault tests and benchmarks: gunicorn, a Celery worker,
and the PostgreSQL and Redis servers that tests/with_services.sh started (which this harness can stop
and start again). Run under `bash tests/with_services.sh ...`.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Return the first truthy value of `predicate()`; raise after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what} not met within {timeout} s")


def database_prepare() -> None:
    """Create the database of DATABASE_URL if with_services.sh just started an empty server, and migrate it."""
    import psycopg

    base, name = os.environ["DATABASE_URL"].rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True,
                   timeout=600)


def report_write(text: str, output: str) -> None:
    """Print a benchmark's Markdown report and append it to `output` when one is given."""
    print(text)
    if output:
        with open(output, "a") as f:
            f.write(text)


def services_env() -> dict[str, str]:
    """Return the environment with_services.sh exported; fail clearly outside it."""
    missing = [name for name in ("DATABASE_URL", "CELERY_BROKER_URL", "GROUPDESK_PG_CTL") if not os.environ.get(name)]
    if missing:
        raise RuntimeError(f"run under tests/with_services.sh (missing {', '.join(missing)})")
    return dict(os.environ)


@dataclass
class Deployment:
    """gunicorn (config.wsgi) and one Celery worker on the servers of tests/with_services.sh."""

    env: dict[str, str]
    web_workers: int = 2
    worker_concurrency: int = 2
    port: int = field(default_factory=free_port)
    gunicorn: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- processes -------------------------------------------------------------------------------------------
    def migrate(self) -> None:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env,
                       check=True, timeout=300)

    def start_web(self) -> None:
        self.gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{self.port}",
             "-w", str(self.web_workers), "--timeout", "30", "--graceful-timeout", "5", "--log-level", "warning"],
            cwd=ROOT, env=self.env)
        wait_for(lambda: self._get("/healthz/") == 200, timeout=60, what="gunicorn start")

    def start_worker(self) -> None:
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "webhooks,outbound,integrations",
             "-c", str(self.worker_concurrency), "--without-mingle", "--without-gossip", "-l", "WARNING",
             "-n", f"harness-{os.getpid()}-{time.monotonic_ns()}@%h"],
            cwd=ROOT, env=self.env)
        time.sleep(2)  # No ping here: the broker may be down on purpose; the worker reconnects by itself.
        if self.worker.poll() is not None:
            raise RuntimeError("the Celery worker exited")

    def web_worker_pids(self) -> list[int]:
        """Return the pids of gunicorn's worker processes (children of the arbiter)."""
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.gunicorn.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]

    def worker_child_pids(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.worker.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]

    def kill_web_worker(self, pid: int) -> None:
        """SIGKILL one gunicorn worker (the arbiter starts a new one)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def kill_worker(self) -> None:
        """SIGKILL the whole Celery worker (main process and its pool)."""
        for pid in [*self.worker_child_pids(), self.worker.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.worker.wait(timeout=10)

    def stop(self) -> None:
        for process in (self.gunicorn, self.worker):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()

    # -- servers ---------------------------------------------------------------------------------------------
    def stop_postgres(self) -> None:
        subprocess.run([*shlex.split(self.env["GROUPDESK_PG_CTL"]), "-m", "immediate", "-w", "stop"],
                       check=True, capture_output=True, timeout=60)

    def start_postgres(self) -> None:
        subprocess.run([*shlex.split(self.env["GROUPDESK_PG_CTL"]), "-o", self.env["GROUPDESK_PG_OPTS"],
                        "-w", "-t", "60", "start"], check=True, capture_output=True, timeout=90)

    def stop_redis(self) -> None:
        pid = int(Path(self.env["GROUPDESK_REDIS_PIDFILE"]).read_text())
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not _alive(pid), timeout=20, what="redis stop")

    def start_redis(self) -> None:
        subprocess.run(shlex.split(self.env["GROUPDESK_REDIS_START"]), check=True, timeout=30)

    # -- HTTP ------------------------------------------------------------------------------------------------
    def _get(self, path: str) -> int | None:
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    def post_webhook(self, body: bytes, signature: str, *, timeout: float = 5.0) -> int | None:
        """POST a signed body; return the status, or None when no answer came (connection reset, timeout)."""
        request = urllib.request.Request(self.url + "/webhooks/whatsapp/", data=body, method="POST", headers={
            "Content-Type": "application/json", "X-Hub-Signature-256": signature})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
